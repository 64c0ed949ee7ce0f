"""A preview deployed whole (a fresh clone, or, with nothing named, one that exists), stage after stage, as
Qovery orders an environment's deployment.

Each stage's services are deployed and followed by a `Deployments` of their own (at once, or one after
another with `sequential`), each with its own deploy request and so its own correlated verdict; the next
stage starts once every service of this one went well (with `wait: false`, once Qovery accepted them: its
queue then runs them in the order they came). A stage that did not go well skips every later one; a signal
stops them too.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import TypeVar

from qovery_job_deploy.deploy import Deployments, ServiceRun
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Outcome, Verdict

T = TypeVar("T")


class StagedDeployments:
    """`Deployments`' interface (`run`, `runs`, `signum`, `end_pending`) over stages: `runs` in stage order,
    `stages` the stage of each (its position in Qovery's order)."""

    def __init__(
        self,
        runs: list[ServiceRun],
        stages: Sequence[int],
        deployments: Callable[[list[ServiceRun]], Deployments],
        log: Log,
    ) -> None:
        self.runs = runs
        self.stages = list(stages)
        self.deployments = deployments  # one stage's `Deployments`, made when its turn comes
        self.log = log
        self.signum: int | None = None
        self.current: Deployments | None = None

    def run(self) -> list[Outcome]:
        stages = in_stages(self.stages, self.runs)
        order = "; ".join(
            f"{number}. {', '.join(run.identity.short_name() for run in group)}"
            for number, group in enumerate(stages, 1)
        )
        self.log.info(
            f"Deploying in Qovery's stage order, each stage once the one before it went well: {order}"
        )
        for number, group in enumerate(stages, 1):
            self.current = self.deployments(group)
            self.current.run()
            if self.current.signum is not None:
                self.signum = self.current.signum
                name = signal.Signals(self.signum).name
                self._end_rest(
                    Verdict.CANCELLED, f"Interrupted by {name} before its stage; nothing was deployed."
                )
                break
            if failed := [run.identity.short_name() for run in group if not _went_well(run)]:
                self._end_rest(
                    Verdict.SKIPPED,
                    f"Not deployed: stage {number} ({', '.join(failed)}) did not succeed before its stage.",
                )
                break
        return [run.outcome for run in self.runs if run.outcome is not None]

    def end_pending(self, verdict: Verdict, message: str) -> None:
        """End every service that has no outcome yet (the caller's boundary, for the unexpected)."""
        if self.current is not None:
            self.current.end_pending(verdict, message)
        self._end_rest(verdict, message)

    def _end_rest(self, verdict: Verdict, message: str) -> None:
        for run in self.runs:
            if run.outcome is None:
                run.outcome = Outcome(run.known, verdict, message, 0.0)
                self.log.info(run.outcome.verdict_line())


def in_stages(stages: Sequence[int], items: Sequence[T]) -> list[list[T]]:
    """`items` in stage order, grouped by stage (`stages`: the stage of each)."""
    by_stage = groupby(zip(stages, items, strict=True), key=lambda pair: pair[0])
    return [[item for _, item in pairs] for _, pairs in by_stage]


def _went_well(run: ServiceRun) -> bool:
    return run.outcome is not None and run.outcome.verdict.went_well
