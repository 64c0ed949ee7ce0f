"""Where a run's outcome is written for machines and people to read later: one module per destination,
each a `Publisher` made from a `Target` and asked once to `publish(outcome)`.

A publisher never raises: it returns what it could not write (`attempt`), so that one failure (a full
disk, an unwritable path) costs neither the others nor the verdict. Which publishers a platform has is a
row of `runners.RUNNERS`; a new destination is one module here and one entry in that row.

A publisher that is also a `Tracker` is told of the run's events while it goes (`context.Events`: a deploy
request Qovery accepted); what it begins then, its `publish` ends. The publishers of a row are made before
the run for that (`told`).

A destination outside the runner (GitHub's API) never returns a problem: what it could not do changes
neither the verdict nor the exit code, so it says it once as a warning (`Target.warning`) instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import requests

from qovery_job_deploy.clock import Clock, SystemClock
from qovery_job_deploy.console import DEFAULT_CONSOLE_URL
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.inputs.plan import GitHubReporting
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.streams import Writer
from qovery_job_deploy.text import one_line


@dataclass(frozen=True)
class Target:
    """What a publisher may write to: the runner's variables (paths of its files), stdout, the human log
    (to say where something was written), and the `dotenv-file` input; for GitHub's API, what the plan asks
    of it, the console's base URL (for links), the clock (the calls' budget) and the transport (the tests'
    fake GitHub in place of the network); `warn`, where the runner shows a warning best (the log's line by
    default)."""

    environ: Mapping[str, str]
    stdout: Writer
    log: HumanLog
    dotenv_file: Path | None = None
    github: GitHubReporting = field(default_factory=GitHubReporting)
    console_url: str = DEFAULT_CONSOLE_URL
    clock: Clock = field(default_factory=SystemClock)
    transport: requests.adapters.BaseAdapter | None = None
    warn: Callable[[str], None] | None = None

    def warning(self, message: str) -> None:
        (self.warn or self.log.warning)(message)


class Publisher(Protocol):
    def __init__(self, target: Target) -> None: ...

    def publish(self, outcome: RunOutcome) -> list[str]:
        """Write the outcome; return what could not be written (`attempt`), never raise."""
        ...


@runtime_checkable
class Tracker(Protocol):
    """A publisher also told of the run's events (`context.Events`); never raises but for a signal."""

    def accepted(self, identity: ServiceIdentity, request_id: str | None) -> None:
        """Qovery accepted a service's deploy request (`request_id`, when it named one)."""
        ...


def told(publishers: Sequence[Publisher]) -> Callable[[ServiceIdentity, str | None], None]:
    """`Events.accepted` for these publishers: each tracker among them is told, in the row's order."""
    trackers = [publisher for publisher in publishers if isinstance(publisher, Tracker)]

    def accepted(identity: ServiceIdentity, request_id: str | None) -> None:
        for tracker in trackers:
            tracker.accepted(identity, request_id)

    return accepted


def attempt(problems: list[str], what: str, action: Callable[[], None]) -> bool:
    """Whether `action` went through; if not, what failed is added to `problems`."""
    try:
        action()
    except OSError as error:  # the file system's words, and where: `File exists (/builds/x)`
        where = f" ({one_line(error.filename, 200)})" if error.filename else ""
        problems.append(f"{what}: {error.strerror or type(error).__name__}{where}")
        return False
    except Exception as error:  # reported by the caller, with an exit code; never a traceback
        problems.append(f"{what}: {type(error).__name__}: {one_line(error)}")
        return False
    return True


def append_file(path: str | Path, text: str) -> None:
    # errors="replace": a character that cannot be encoded must not cost the whole file
    with open(path, "a", encoding="utf-8", errors="replace") as handle:
        handle.write(text)


def write_whole(path: Path, text: str) -> None:
    """Write a file that a later job reads whole or not at all: into a file of our own beside it, then
    renamed over it, so that a full disk or a signal midway never leaves half a report (nor spoils the
    previous one). errors="replace": a character that cannot be encoded must not cost the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8", errors="replace")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # after a failure; after the rename it is gone already
