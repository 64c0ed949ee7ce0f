"""Several steps at once on one virtual clock: parallel pipeline jobs sharing one API token, in process.

Each step runs in a thread of its own, but only one runs at a time: a step runs until it sleeps, then the
one due soonest runs (the earliest wake-up; at the same moment, the first started), the clock moved to its
wake-up. So the steps interleave exactly as they would in real time, repeatably, and nothing waits.

A thread cannot install signal handlers, so each runs the run itself (`engine.deploy`, composed as
`main.run` composes it) rather than `main.run`.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from qovery_job_deploy.api.client import QoveryClient
from qovery_job_deploy.clock import Deadline
from qovery_job_deploy.context import Context
from qovery_job_deploy.engine import deploy
from qovery_job_deploy.inputs.plan import load_plan
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.simulator import QoverySimulator
from qovery_job_deploy.simulator.transport import SimulatorAdapter


class TakingTurns:
    """A virtual clock shared by threads that take turns (module docstring)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Condition()
        self._waking: dict[int, float] = {}  # thread index -> when it wakes up
        self._turn: int | None = None
        self._mine = threading.local()

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        me: int = self._mine.index
        with self._lock:
            self._waking[me] = self._now + max(0.0, seconds)
            self._pass_turn()
            self._lock.wait_for(lambda: self._turn == me)

    def run(self, *bodies: Callable[[], RunOutcome]) -> list[RunOutcome]:
        """Each body in a thread of its own, taking turns; their results in order."""
        results: dict[int, RunOutcome] = {}
        failures: list[BaseException] = []

        def take_turns(index: int, body: Callable[[], RunOutcome]) -> None:
            self._mine.index = index
            with self._lock:
                self._lock.wait_for(lambda: self._turn == index)
            try:
                results[index] = body()
            except BaseException as error:  # reported by the caller, below
                failures.append(error)
            finally:
                with self._lock:
                    self._pass_turn()

        threads = [
            threading.Thread(target=take_turns, args=(index, body), daemon=True)
            for index, body in enumerate(bodies)
        ]
        with self._lock:
            self._waking = {index: self._now for index in range(len(bodies))}
        for thread in threads:
            thread.start()
        with self._lock:
            self._pass_turn()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a step never ended"
        if failures:
            raise failures[0]
        return [results[index] for index in range(len(bodies))]

    def _pass_turn(self) -> None:
        """The lock held: the turn to the thread due soonest (none when every one has ended)."""
        if not self._waking:
            self._turn = None
            return
        due = min(self._waking, key=lambda index: (self._waking[index], index))
        self._now = max(self._now, self._waking.pop(due))
        self._turn = due
        self._lock.notify_all()


@dataclass
class Step:
    """One step's run: its outcome, and its log (stderr)."""

    outcome: RunOutcome | None = None
    log: str = ""


def step_on(
    sim: QoverySimulator, clock: TakingTurns, env: Mapping[str, str], step: Step
) -> Callable[[], RunOutcome]:
    """The run `main.run` would make of `env` against `sim` (the report aside), for `TakingTurns.run`."""

    def body() -> RunOutcome:
        plan = load_plan([], env)
        stream = io.StringIO()
        started = clock.now()
        log = HumanLog(stream, clock.now, started)
        deadline = Deadline(started + plan.timeout, clock)
        client = QoveryClient(
            plan.connection.api_url,
            plan.connection.authorization.get_secret_value(),
            clock=clock,
            deadline=deadline,
            environ=env,
            on_retry=lambda error, delay: log.warning(f"{error}; retrying in {delay:.1f}s"),
            transport=SimulatorAdapter(sim, clock.sleep),
        )
        try:
            step.outcome = deploy(plan, Context(client, clock, deadline, log, started), str)
        finally:
            client.close()
            step.log = stream.getvalue()
        return step.outcome

    return body
