"""The follow loop's timetable: which read is due next, and the sleep until it.

Two kinds of reads take turns. A followed service's status read is due when its pacer said
(`polling.Pacer.next_read`, kept in `due_at`); an environment's read covers every service of it, so the
services that share one with a due service are read with it, for free. An environment's live-log read
(`logs: live`) is due when its turn comes (`live.LiveLog.due_at`), and may never hold up a status read:
it is made when due if a whole read's budget fits before the next status read (and the deadline), else
right after that status read, if the room left is enough.

Qovery's rate limit paces both (`api.ratelimit`): once the last answer says little is left of the token's
budget, no read comes sooner than its `RateBudget.next_at()`, which spreads what is left until the limit
resets (said once in the log); a live-log read is made only if the status read after it still fits the
budget when due. Without the headers, nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

from qovery_job_deploy.api.ratelimit import RateBudget
from qovery_job_deploy.context import Context
from qovery_job_deploy.live import LIVE_BUDGET_SECONDS, LiveLog, Tailed


class Scheduled(Tailed, Protocol):
    """What the timetable needs of a followed service (deploy.ServiceRun)."""

    @property
    def due_at(self) -> float:
        """When its status read is due."""
        ...


Run = TypeVar("Run", bound=Scheduled)

# A read held back by less than this is not worth a line in the log (it is held back all the same).
NOTICEABLE_SECONDS = 0.1


class Scheduler:
    def __init__(self, ctx: Context, live: LiveLog | None = None) -> None:
        self.clock, self.deadline, self.log = ctx.clock, ctx.deadline, ctx.log
        self.budget = ctx.client.rate_budget  # the rate limit as the last answer stated it
        self.live = live
        self._slowed_said = False

    def wait(self, runs: Sequence[Run]) -> list[Run]:
        """Sleep until the next status read is due (making the live-log reads that fall due before it
        and fit), then the services to read: those due, and those that share an environment with one."""
        while self.live is not None:
            until = self._next_status_at(runs)
            log_at = self.live.due_at(runs)
            if log_at is None:
                break
            log_at = max(log_at, self.clock.now(), self._paced_from())
            if log_at + LIVE_BUDGET_SECONDS > until or not self._leaves_room(log_at, until):
                break
            self._sleep_until(log_at)
            if not self.live.tail(runs, until):
                break
        self._say_if_slowed(runs)
        self._sleep_until(self._next_status_at(runs))
        return self._due_with_neighbours(runs)

    def after_status_read(self, runs: Sequence[Run]) -> None:
        """The live-log reads that fell due but did not fit before the status read just made: now, within
        the room left before the next one."""
        if self.live is not None and runs:
            until = self._next_status_at(runs)
            if self._leaves_room(self.clock.now(), until):
                self.live.tail(runs, until)

    def _next_status_at(self, runs: Sequence[Run]) -> float:
        return min(self.deadline.at, max(min(run.due_at for run in runs), self._paced_from()))

    def _paced_from(self) -> float:
        """The earliest moment Qovery's rate limit leaves for the next read (-inf: no limit said)."""
        budget = self.budget()
        return float("-inf") if budget is None else budget.next_at()

    def _leaves_room(self, at: float, until: float) -> bool:
        """Whether a live-log read at `at` leaves the budget the status read due at `until`."""
        budget = self.budget()
        return budget is None or budget.after(at).next_at() <= until

    def _say_if_slowed(self, runs: Sequence[Run]) -> None:
        """Once, the first time the rate limit holds a status read back: by how much, and why."""
        budget = self.budget()
        if self._slowed_said or budget is None or budget.spacing() <= 0:
            return
        if budget.next_at() < min(run.due_at for run in runs) + NOTICEABLE_SECONDS:
            return
        self._slowed_said = True
        self.log.info(slowed_line(budget, self.clock.now()))

    def _sleep_until(self, at: float) -> None:
        self.clock.sleep(max(0.0, min(at - self.clock.now(), self.deadline.left())))

    def _due_with_neighbours(self, runs: Sequence[Run]) -> list[Run]:
        now = self.clock.now()
        due = [run for run in runs if run.due_at <= now]
        shared = {run.environment_id for run in due if run.environment_id}
        return [run for run in runs if run in due or run.environment_id in shared]


def slowed_line(budget: RateBudget, now: float) -> str:
    """The line that says Qovery's rate limit holds the reads back: what is left, and the pace it takes."""
    spacing = budget.spacing()
    slowed = (
        "the next read waits until then"
        if spacing >= budget.reset_in(budget.seen_at)
        else f"reads slowed to every {spacing:.1f}s so that they last until then"
    )
    return f"Qovery's rate limit: {budget.said(now)} (X-RateLimit-Remaining): {slowed}"


class Pause:
    """The pause of a wait with one read a turn (a deletion's until the environment is gone, a clone's until
    it lists its services): `interval`, or longer once Qovery's rate limit says little is left, said once as
    the follow loop says it; never past the deadline nor `until`."""

    def __init__(self, ctx: Context, interval: float) -> None:
        self.ctx, self.interval = ctx, interval
        self._said = False

    def sleep(self, until: float = math.inf) -> None:
        now = self.ctx.clock.now()
        at = now + self.interval
        budget = self.ctx.client.rate_budget()
        if budget is not None and budget.next_at() > at:
            if not self._said and budget.next_at() >= at + NOTICEABLE_SECONDS:
                self._said = True
                self.ctx.log.info(slowed_line(budget, now))
            at = budget.next_at()
        self.ctx.clock.sleep(max(0.0, min(at, until, self.ctx.deadline.at) - now))
