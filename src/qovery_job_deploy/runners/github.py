"""GitHub Actions: workflow commands on stdout (groups, masks, annotations, untrusted lines framed).

Escaping lives here and only here, following the runner's own rules (actions/runner, actions/toolkit).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from qovery_job_deploy.outcome import Outcome, RunOutcome
from qovery_job_deploy.results import diagnosis_of, diagnosis_text, headline, message, tally
from qovery_job_deploy.runners.plain import PlainPresenter, printable
from qovery_job_deploy.streams import Writer
from qovery_job_deploy.text import one_line


def escape_data(value: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded (in that order)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value: as data, plus `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def add_mask(stdout: Writer, secret: str) -> None:
    """Mask a secret in every later log line (a multi-line value line by line, as the runner does)."""
    for line in secret.splitlines() or [secret]:
        if line.strip():
            stdout.write(f"::add-mask::{line}\n")
    stdout.flush()


def without_commands(lines: Sequence[str]) -> list[str]:
    """Untrusted lines framed so that the runner executes none of them, as actions/toolkit does it.

    Between `::stop-commands::TOKEN` and `::TOKEN::` the runner runs no command (`::cmd::` or the
    legacy `##[cmd]`, which matches anywhere in a line), except the resume. The token is random per
    call, so the text printed before it (the log of an earlier run) cannot know it.
    """
    shown = [printable(line) for line in lines]
    token = secrets.token_hex(16)
    while any(token in line for line in shown):  # astronomically rare; as for output delimiters
        token = secrets.token_hex(16)
    return [f"::stop-commands::{token}", *shown, f"::{token}::"]


class GitHubPresenter(PlainPresenter):
    def mask(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            add_mask(self.stdout, secret)

    def begin(self, title: str) -> None:
        self.stdout.write(command("group", printable(title)) + "\n")  # it holds names from the API
        self.stdout.flush()

    def end(self) -> None:
        self.stdout.write("::endgroup::\n")
        self.stdout.flush()

    def show_log(self, title: str, lines: Sequence[str]) -> None:
        # On stdout, with our commands: the runner handles each stream's lines in order, but it may
        # handle stderr's before stdout's, so a frame only protects lines of its own stream.
        framed = [command("group", printable(title)), *without_commands(lines), "::endgroup::"]
        self.stdout.write("\n".join(framed) + "\n")
        self.stdout.flush()

    def live_lines(self, whose: str, lines: Sequence[str]) -> None:
        # On stdout, between stop-commands and its resume: no line of the log can act on the runner.
        prefix = f"{printable(whose, 60)} | " if whose else "| "
        self.stdout.write("\n".join(without_commands([prefix + line for line in lines])) + "\n")
        self.stdout.flush()

    def warning(self, message: str) -> None:
        # A warning annotation: on the run's page too, where a missing `permissions:` is noticed.
        self.stdout.write(command("warning", printable(message, 2000), title="Qovery deploy") + "\n")
        self.stdout.flush()

    def input_error(self, message: str) -> None:
        # The annotation shows in the log and on the run's page: a plain line beside it would repeat it.
        self._annotate("Invalid input for the Qovery deployment", message)

    def closing_diagnoses(self, service: Outcome, outcome: RunOutcome) -> bool:
        return not outcome.verdict.went_well and service is outcome.deciding()  # its error annotation does

    def closing(self, outcome: RunOutcome) -> None:
        if outcome.verdict.went_well:
            super().closing(outcome)
            return
        # The error annotation is the last word: the runner shows it in the log and on the run's page, so
        # a plain line beside it would say the same thing twice.
        if outcome.deletion is not None:  # an environment's deletion: no service, no diagnosis
            state = outcome.deletion.state
            self._annotate(headline(outcome) + (f" ({state})" if state else ""), message(outcome))
            return
        deciding = outcome.deciding()
        state = deciding.known.state
        title = headline(outcome) + (f" ({state})" if state else "")
        diagnosis = diagnosis_of(deciding)
        # Each service's line was printed as it ended: the tally, then Qovery's word on the deciding one.
        several = len(outcome.services) > 1 and outcome.announced
        said = tally(outcome) if several else message(outcome)
        whose = f"{deciding.known.label()}: " if several else ""
        qovery = [whose + line for line in diagnosis_text(diagnosis).splitlines()] if diagnosis else []
        text = "\n".join([said, *qovery])
        try:
            self._annotate(title, text)
        except Exception as error:  # a broken stdout must not cost the report: said on stderr
            self.log.info(
                f"error: could not write the error annotation: {type(error).__name__}: {one_line(error)}"
            )

    def _annotate(self, title: str, message: str) -> None:
        self.stdout.write(command("error", message, title=title) + "\n")
        self.stdout.flush()
