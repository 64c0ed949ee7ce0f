"""The plain presenter (`docker run`, a terminal): the human log on stderr, in plain lines. The other
platforms' presenters build on it. What is written for machines (the JSON result on stdout) is a
publisher's (`publishers/`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import Outcome, RunOutcome
from qovery_job_deploy.results import closing_line
from qovery_job_deploy.streams import Writer
from qovery_job_deploy.text import one_line, strip_ansi

# One line of untrusted log text, however long the job's line was.
MAX_SHOWN_LINE_CHARS = 1000


class PlainPresenter:
    """How the run reads in the runner's log: groups, untrusted lines, masking, the last word."""

    def __init__(self, environ: Mapping[str, str], stdout: Writer, log: HumanLog) -> None:
        self.environ = environ
        self.stdout = stdout
        self.log = log

    # Masking
    def mask(self, secrets: Iterable[str]) -> None:
        """Hide secrets from the log before anything else is printed (only GitHub can)."""

    # Groups
    def begin(self, title: str) -> None:
        self.log.info(title)

    def end(self) -> None:
        """Close what `begin` opened."""

    # Untrusted lines
    def show_log(self, title: str, lines: Sequence[str]) -> None:
        """Print untrusted lines (a deployment log) where the runner shows them, unable to act as commands."""
        self.log.info(title)
        for line in lines:
            self.log.raw(f"  {printable(line)}\n")

    def live_lines(self, whose: str, lines: Sequence[str]) -> None:
        """A deployment's new log lines while it runs (`logs: live`), each unable to act as a command;
        `whose` names the service when there are several."""
        prefix = f"{printable(whose, 60)} | " if whose else "| "
        self.log.raw("".join(f"  {prefix}{printable(line)}\n" for line in lines))

    def warning(self, message: str) -> None:
        """Something beside the deployment went wrong (GitHub refused a record): said, the verdict stands."""
        self.log.warning(message)

    # The last word
    def input_error(self, message: str) -> None:
        """One problem of the input, where the runner shows it best: here, a line of the log."""
        self.log.info(f"error: {message}")

    def closing_diagnoses(self, service: Outcome, outcome: RunOutcome) -> bool:
        """Whether the closing carries this service's Qovery diagnosis (then the log does not repeat it)."""
        return False

    def closing(self, outcome: RunOutcome) -> None:
        """The run's last word in the log, once the verdicts are known and explained."""
        self.log.info(closing_line(outcome))


def printable(text: str, limit: int = MAX_SHOWN_LINE_CHARS) -> str:
    """One line with no terminal escape or control character in it."""
    return one_line(strip_ansi(text), limit)
