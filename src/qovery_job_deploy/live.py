"""The deployment log, live (`logs: live`): new lines of our services while they deploy.

Qovery's console follows a websocket that is not documented for API tokens; its REST form,
`GET /environment/{id}/logs?version=<execution id>`, returns the lines of one execution so far, every
service mixed. Tailing it gives a live log checked against the spec. The cost and the rules:
- at most one log read per environment every LIVE_SECONDS, whatever the number of services (they take
  turns); never one that would hold up a status read that is due (`scheduler.py` makes a due read when
  it fits before the next status read, else right after that read);
- one try each, within a small budget: a slow or failing log endpoint costs a line in the log, never a
  verdict, and after LIVE_FAILURES failures in a row it is not read live again;
- our service's lines only, each printed once: `printed()` says how many, so that the report after the
  verdict shows only the tail not printed yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from qovery_job_deploy.api.errors import short_error
from qovery_job_deploy.context import Context
from qovery_job_deploy.deployment_log import MAX_LOG_BYTES, our_log, parse_entries
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.log import Log

LIVE_SECONDS = 5.0  # between two log reads of one environment
LIVE_BUDGET_SECONDS = 3.0  # one log read, at most
LIVE_FLOOR_SECONDS = 0.5  # less time than this before a status read is due: no log read now
LIVE_FAILURES = 3  # failures in a row after which the log is no longer read live


class Tailed(Protocol):
    """What the live log needs of a followed service (deploy.ServiceRun)."""

    @property
    def service_id(self) -> str: ...

    @property
    def environment_id(self) -> str | None: ...

    @property
    def execution_id(self) -> str | None: ...

    @property
    def log(self) -> Log: ...

    @property
    def name(self) -> str: ...


# (the service, its new lines): prints them where the runner shows untrusted text.
Show = Callable[[Tailed, Sequence[str]], None]


class LiveLog:
    def __init__(self, ctx: Context, show: Show, secrets: Iterable[str] = ()) -> None:
        """`show` prints the new lines; a failed read is said in the service's own log (`Tailed.log`), not
        `ctx.log`."""
        self.client, self.clock = ctx.client, ctx.clock
        self.show = show
        self.secrets = [secret for secret in secrets if secret]
        self._next_at: dict[str, float] = {}  # environment -> when it may be read again
        self._turn: dict[str, int] = {}  # environment -> whose execution is read next
        self._printed: dict[str, int] = {}  # service -> how many of its lines were printed
        self._failures = 0

    def printed(self, service_id: str) -> int:
        return self._printed.get(service_id, 0)

    def due_at(self, runs: Sequence[Tailed]) -> float | None:
        """When the next log read of these services is due (None: there is none to make)."""
        groups = self._groups(runs)
        if not groups:
            return None
        return min(self._next_at.get(environment_id, self.clock.now()) for environment_id in groups)

    def tail(self, runs: Sequence[Tailed], next_status_at: float) -> bool:
        """One log read per environment that is due, if it cannot hold up the next status read; whether
        any was made."""
        made = False
        for environment_id, group in self._groups(runs).items():
            now = self.clock.now()
            budget = min(LIVE_BUDGET_SECONDS, next_status_at - now)
            if now < self._next_at.get(environment_id, now) or budget < LIVE_FLOOR_SECONDS:
                continue
            self._next_at[environment_id] = now + LIVE_SECONDS
            turn = self._turn.get(environment_id, 0)
            self._turn[environment_id] = turn + 1
            self._read(environment_id, group[turn % len(group)], budget)
            made = True
        return made

    def _groups(self, runs: Sequence[Tailed]) -> dict[str, list[Tailed]]:
        """The services whose log can be read now, by environment (none once it was given up)."""
        groups: dict[str, list[Tailed]] = {}
        if self._failures >= LIVE_FAILURES:
            return groups
        for run in runs:
            if run.environment_id and run.execution_id:
                groups.setdefault(run.environment_id, []).append(run)
        return groups

    def _read(self, environment_id: str, run: Tailed, budget: float) -> None:
        try:
            body, cut = self.client.environment_logs(
                environment_id, run.execution_id or "", budget=budget, max_bytes=MAX_LOG_BYTES
            )
        except ActionError as error:
            self._failures += 1
            gave_up = "; not read live any more" if self._failures >= LIVE_FAILURES else ""
            run.log.info(f"The live deployment log is unavailable ({short_error(error)}){gave_up}")
            return
        self._failures = 0
        found = our_log(parse_entries(body), run.service_id, secrets=self.secrets, cut=cut)
        new = found.total - self.printed(run.service_id)
        if new <= 0:
            return
        lines = found.lines[-new:] if new <= len(found.lines) else found.lines
        self._printed[run.service_id] = found.total
        self.show(run, [line.text() for line in lines])
