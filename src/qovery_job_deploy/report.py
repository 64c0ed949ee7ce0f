"""The report, in one order: close the run's log group, explain each service (its deployment log, Qovery's
diagnosis, where it answers, the console link), publish the outcome everywhere the platform reads it, then
the last word. What each platform does at each point is its presenter's and its publishers'
(`runners.RUNNERS`)."""

from __future__ import annotations

from collections.abc import Sequence

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.outcome import ExitCode, Outcome, RunOutcome
from qovery_job_deploy.publishers import Publisher
from qovery_job_deploy.results import diagnosis_of, diagnosis_text
from qovery_job_deploy.runners.plain import PlainPresenter


def report(outcome: RunOutcome, presenter: PlainPresenter, publishers: Sequence[Publisher]) -> int:
    """Say and write the outcome; the exit code (an outcome that could not be written is an error)."""
    presenter.end()
    several = len(outcome.services) > 1
    for service in outcome.services:
        said_at_the_close = presenter.closing_diagnoses(service, outcome)
        _explain(service, presenter, several=several, diagnosis=not said_at_the_close)
    problems = [problem for publisher in publishers for problem in publisher.publish(outcome)]
    for problem in problems:
        presenter.log.info(f"error: could not write {problem}")
    presenter.closing(outcome)  # the last word, after what explains it and where it was written
    code = outcome.exit_code()
    return (code or ExitCode.API_ERROR) if problems else code


def report_input_error(error: InputError, presenter: PlainPresenter) -> int:
    """Nothing was sent: one line (on GitHub, one annotation) per problem."""
    for problem in str(error).splitlines():
        presenter.input_error(problem)
    return ExitCode.INVALID_INPUT


def _explain(outcome: Outcome, presenter: PlainPresenter, *, several: bool, diagnosis: bool) -> None:
    """Our service's deployment log, folded, then Qovery's diagnosis and the console link: the last lines.
    With several services, each line says which one it is about."""
    log = presenter.log
    whose = f"{outcome.known.label()}: " if several else ""
    deployment_log = outcome.deployment_log
    # With `logs: live`, the lines printed while it ran are not printed again: only the tail after them.
    unseen = deployment_log.total - outcome.live_lines if deployment_log is not None else 0
    if deployment_log is not None and deployment_log.lines and unseen > 0:
        kept = deployment_log.lines[-unseen:] if unseen < len(deployment_log.lines) else deployment_log.lines
        shown, total = len(kept), deployment_log.total
        if outcome.live_lines:
            extent = f"the last {shown} of {total} lines, after those shown live"
        else:
            extent = f"last {shown} of {total} lines" if total > shown else f"{shown} lines"
        lines = [line.text() for line in kept]
        presenter.show_log(f"Qovery deployment log of {outcome.known.label()} ({extent})", lines)
    if (qovery_says := diagnosis_of(outcome)) and diagnosis:
        for line in diagnosis_text(qovery_says).splitlines():
            log.info(whose + line)
    if outcome.url:  # a checked http(s) URL (`urls.web_url`): no control character, no space
        log.info(f"{whose}URL: {outcome.url}")
    if outcome.console_url:
        log.info(f"{whose}Qovery console: {outcome.console_url}")
