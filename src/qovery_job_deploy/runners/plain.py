"""The plain runner (`docker run`, a terminal): the human log on stderr and the JSON result as the only
thing on stdout, so that `docker run ... > result.json` works. The other runners build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import Outcome, RunOutcome
from qovery_job_deploy.report import closing_line, result_json
from qovery_job_deploy.text import one_line, strip_ansi

# One line of untrusted log text, however long the job's line was.
MAX_SHOWN_LINE_CHARS = 1000


class Runner:
    name = "plain"

    def __init__(self, environ: Mapping[str, str], stdout: TextIO, dotenv_file: Path | None = None) -> None:
        self.environ = environ
        self.stdout = stdout
        self.dotenv_file = dotenv_file  # the `dotenv-file` input

    def mask(self, secrets: Iterable[str]) -> None:
        """Hide secrets from the log before anything else is printed (only GitHub can)."""

    def begin(self, log: HumanLog, title: str) -> None:
        log.info(title)

    def end(self, log: HumanLog) -> None:
        """Close what `begin` opened."""

    def show_log(self, log: HumanLog, title: str, lines: Sequence[str]) -> None:
        """Print untrusted lines (a deployment log) where the runner shows them, unable to act as commands."""
        log.info(title)
        for line in lines:
            log.raw(f"  {printable(line)}\n")

    def live_lines(self, log: HumanLog, whose: str, lines: Sequence[str]) -> None:
        """A deployment's new log lines while it runs (`logs: live`), each unable to act as a command;
        `whose` names the service when there are several."""
        prefix = f"{printable(whose, 60)} | " if whose else "| "
        log.raw("".join(f"  {prefix}{printable(line)}\n" for line in lines))

    def closing_diagnoses(self, job: Outcome, outcome: RunOutcome) -> bool:
        """Whether the closing carries this service's Qovery diagnosis (then the log does not repeat it)."""
        return False

    def closing(self, log: HumanLog, outcome: RunOutcome) -> None:
        """The run's last word in the log, once the verdicts are known and explained."""
        log.info(closing_line(outcome))

    def input_error(self, log: HumanLog, message: str) -> None:
        """One problem of the input, where the runner shows it best: here, a line of the log."""
        log.info(f"error: {message}")

    def publish(self, log: HumanLog, outcome: RunOutcome) -> list[str]:
        """Write the outcome everywhere this runner reads it; return what could not be written.

        Each destination is tried on its own, so that one failure (a full disk, an unwritable path)
        does not cost the others.
        """
        problems: list[str] = []
        attempt(problems, "the JSON result", lambda: self._print(result_json(outcome)))
        return problems

    def _print(self, line: str) -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()


def printable(text: str, limit: int = MAX_SHOWN_LINE_CHARS) -> str:
    """One line with no terminal escape or control character in it."""
    return one_line(strip_ansi(text), limit)


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
