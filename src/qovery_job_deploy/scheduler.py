"""The follow loop's timetable: which read is due next, and the sleep until it.

Two kinds of reads take turns. A followed service's status read is due when its pacer said
(`polling.Pacer.next_read`, kept in `due_at`); an environment's read covers every service of it, so the
services that share one with a due service are read with it, for free. An environment's live-log read
(`logs: live`) is due when its turn comes (`live.LiveLog.due_at`), and may never hold up a status read:
it is made when due if a whole read's budget fits before the next status read (and the deadline), else
right after that status read, if the room left is enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from qovery_job_deploy.clock import Clock, Deadline
from qovery_job_deploy.live import LIVE_BUDGET_SECONDS, LiveLog, Tailed


class Scheduled(Tailed, Protocol):
    """What the timetable needs of a followed service (deploy.ServiceRun)."""

    @property
    def due_at(self) -> float:
        """When its status read is due."""
        ...


Run = TypeVar("Run", bound=Scheduled)


class Scheduler:
    def __init__(self, clock: Clock, deadline: Deadline, live: LiveLog | None = None) -> None:
        self.clock = clock
        self.deadline = deadline
        self.live = live

    def wait(self, runs: Sequence[Run]) -> list[Run]:
        """Sleep until the next status read is due (making the live-log reads that fall due before it
        and fit), then the services to read: those due, and those that share an environment with one."""
        while self.live is not None:
            until = self._next_status_at(runs)
            log_at = self.live.due_at(runs)
            if log_at is None or max(log_at, self.clock.now()) + LIVE_BUDGET_SECONDS > until:
                break
            self._sleep_until(log_at)
            if not self.live.tail(runs, until):
                break
        self._sleep_until(min(run.due_at for run in runs))
        return self._due_with_neighbours(runs)

    def after_status_read(self, runs: Sequence[Run]) -> None:
        """The live-log reads that fell due but did not fit before the status read just made: now, within
        the room left before the next one."""
        if self.live is not None and runs:
            self.live.tail(runs, self._next_status_at(runs))

    def _next_status_at(self, runs: Sequence[Run]) -> float:
        return min(self.deadline.at, *(run.due_at for run in runs))

    def _sleep_until(self, at: float) -> None:
        self.clock.sleep(max(0.0, min(at - self.clock.now(), self.deadline.left())))

    def _due_with_neighbours(self, runs: Sequence[Run]) -> list[Run]:
        now = self.clock.now()
        due = [run for run in runs if run.due_at <= now]
        shared = {run.environment_id for run in due if run.environment_id}
        return [run for run in runs if run in due or run.environment_id in shared]
