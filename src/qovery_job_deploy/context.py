"""What every part of a run shares: the API client, the clock, the step's deadline, the log, and the events
the runner is told of (a log group opened once the services are named, a service's live log lines, a deploy
request Qovery accepted). Made once by the composition root (`main`), so that no constructor repeats the
same five arguments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from qovery_job_deploy.api.protocol import QoveryApi
from qovery_job_deploy.clock import Clock, Deadline
from qovery_job_deploy.errors import InputError
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.log import HumanLog

T = TypeVar("T")


def _nothing(*_: object) -> None:
    """An event nobody shows (tests, benchmarks)."""


@dataclass(frozen=True)
class Events:
    """What the run tells the runner while it goes: `begin(title)` opens the log group once the services
    are known; `live(whose, lines)` shows a service's new log lines (`logs: live`); `accepted(identity,
    request_id)` says that Qovery took a service's deploy request (the request's id when it named one), for
    the trackers of the runner's row (a GitHub deployment record goes in progress)."""

    begin: Callable[[str], None] = _nothing
    live: Callable[[str, Sequence[str]], None] = _nothing
    accepted: Callable[[ServiceIdentity, str | None], None] = _nothing


@dataclass(frozen=True)
class Context:
    client: QoveryApi
    clock: Clock
    deadline: Deadline
    log: HumanLog
    started_at: float
    events: Events = field(default_factory=Events)


def bounded(run: Callable[[], T], abandoned: Callable[[str], T], unexpected: Callable[[Exception], str]) -> T:
    """`run()`, the boundary of a run (a deployment, a deletion): an input error is raised (nothing was
    done); anything unexpected is `abandoned(unexpected(error))`, one line, never a bare traceback."""
    try:
        return run()
    except InputError:
        raise
    except Exception as error:  # the boundary
        return abandoned(unexpected(error))
