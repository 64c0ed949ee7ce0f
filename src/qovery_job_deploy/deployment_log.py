"""One deployment's log as Qovery keeps it, reduced to our job's lines and Qovery's own diagnosis.

Pure: parsing and filtering only, no HTTP (`diagnosis.py` reads it), so that the report can import the
result types. The log is whatever the job printed: every string is untrusted. Here it is made one line,
free of terminal escapes and of our secrets; each place that shows it escapes it for its own format.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated

from pydantic import ValidationError

from qovery_job_deploy.api.models import OrNone, _Lenient
from qovery_job_deploy.text import one_line, strip_ansi

# One log line in the CI log: long enough for a stack trace's line, short enough to keep the log readable.
MAX_LINE_CHARS = 1000
# How many of our job's lines are kept (the last ones); Qovery sends at most 1000 for the environment.
KEEP_LINES = 500
# Qovery sends the environment's last 1000 lines; past this a body is cut and its first part parsed.
MAX_LOG_BYTES = 4 * 1024 * 1024
MAX_DIAGNOSIS_CHARS = 1000
REDACTED = "***"


# -- the API's shapes (EnvironmentLogs), read leniently --------------------------------------------------


class _Transmitter(_Lenient):
    id: Annotated[str | None, OrNone] = None
    name: Annotated[str | None, OrNone] = None
    type: Annotated[str | None, OrNone] = None


class _Stage(_Lenient):
    step: Annotated[str | None, OrNone] = None


class _Details(_Lenient):
    execution_id: Annotated[str | None, OrNone] = None
    transmitter: Annotated[_Transmitter | None, OrNone] = None
    stage: Annotated[_Stage | None, OrNone] = None


class _Error(_Lenient):
    tag: Annotated[str | None, OrNone] = None
    user_log_message: Annotated[str | None, OrNone] = None
    hint_message: Annotated[str | None, OrNone] = None
    link: Annotated[str | None, OrNone] = None


class _Message(_Lenient):
    safe_message: Annotated[str | None, OrNone] = None


class LogEntry(_Lenient):
    timestamp: Annotated[str | None, OrNone] = None
    details: Annotated[_Details | None, OrNone] = None
    error: Annotated[_Error | None, OrNone] = None
    message: Annotated[_Message | None, OrNone] = None

    def transmitter_id(self) -> str | None:
        transmitter = self.details.transmitter if self.details else None
        return transmitter.id if transmitter else None


# -- what we keep ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QoveryDiagnosis:
    """Qovery's own explanation of an error: the cause, the fix, a link to read more."""

    message: str | None
    hint: str | None
    link: str | None


@dataclass(frozen=True)
class LogLine:
    timestamp: str
    step: str
    message: str

    def text(self) -> str:
        return " ".join(part for part in (self.timestamp, self.step, self.message) if part)


@dataclass(frozen=True)
class DeploymentLog:
    lines: tuple[LogLine, ...]  # the last KEEP_LINES of our job's lines
    total: int  # how many lines of our job the log held
    diagnosis: QoveryDiagnosis | None
    cut: bool = False  # the body was larger than we read: these are its first lines only


def parse_entries(body: bytes) -> Iterator[LogEntry]:
    """The entries of a JSON array, one by one; a body cut short yields the entries before the cut.

    Anything else than an array yields nothing, and an entry of an unexpected shape is skipped.
    """
    text = body.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    index = _skip(text, 0)
    if not text.startswith("[", index):
        return
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "]":
        try:
            item, index = decoder.raw_decode(text, index)
        except ValueError:
            return  # cut short, or not JSON: keep what came before
        if (entry := _entry(item)) is not None:
            yield entry
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)


def _entry(item: object) -> LogEntry | None:
    try:
        return LogEntry.model_validate(item)
    except ValidationError:
        return None


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def our_log(
    entries: Iterable[LogEntry], job_id: str, *, secrets: Iterable[str] = (), cut: bool = False
) -> DeploymentLog:
    """Our job's lines (the environment's log holds every service's) and the last error Qovery explained."""
    hidden = [secret for secret in secrets if secret]
    kept: deque[LogLine] = deque(maxlen=KEEP_LINES)
    total = 0
    diagnosis: QoveryDiagnosis | None = None
    for entry in entries:
        if entry.transmitter_id() != job_id:
            continue
        total += 1
        kept.append(_line(entry, hidden))
        found = _diagnosis(entry, hidden)
        diagnosis = found or diagnosis
    return DeploymentLog(tuple(kept), total, diagnosis, cut)


def clean(value: str | None, secrets: list[str], limit: int) -> str:
    """One line: terminal escapes removed, control characters folded, our secrets hidden, bounded, and
    encodable (JSON may hold a lone surrogate, which would crash any later write)."""
    text = strip_ansi((value or "").encode("utf-8", "replace").decode("utf-8"))
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return one_line(text, limit)


def _line(entry: LogEntry, secrets: list[str]) -> LogLine:
    stage = entry.details.stage if entry.details else None
    return LogLine(
        timestamp=clean(entry.timestamp, secrets, 40),
        step=clean(stage.step if stage else None, secrets, 40),
        message=clean(entry.message.safe_message if entry.message else None, secrets, MAX_LINE_CHARS),
    )


def _diagnosis(entry: LogEntry, secrets: list[str]) -> QoveryDiagnosis | None:
    error = entry.error
    if error is None or not (error.user_log_message or error.hint_message):
        return None
    return QoveryDiagnosis(
        message=clean(error.user_log_message, secrets, MAX_DIAGNOSIS_CHARS) or None,
        hint=clean(error.hint_message, secrets, MAX_DIAGNOSIS_CHARS) or None,
        link=clean(error.link, secrets, MAX_DIAGNOSIS_CHARS) or None,
    )
