"""The Markdown summary of a run (GitHub's step summary): states and ids as code spans, messages as running
text, Qovery's diagnosis at the top, the deployment log folded at the end. Pure formatting: no file I/O."""

from __future__ import annotations

import html
from urllib.parse import quote, urlsplit

from qovery_job_deploy import markdown as md
from qovery_job_deploy.deployment_log import QoveryDiagnosis
from qovery_job_deploy.kinds import WHOLE_ENVIRONMENT
from qovery_job_deploy.outcome import Deletion, Outcome, RunOutcome, Verdict
from qovery_job_deploy.results import diagnosis_of, headline, message, noun, service_kind

ICONS = {
    Verdict.SUCCEEDED: "✅",
    Verdict.ACCEPTED: "🚀",
    Verdict.FAILED: "❌",
    Verdict.TIMED_OUT: "⏱️",
    Verdict.CANCELLED: "🛑",
    Verdict.ERROR: "⚠️",
    Verdict.SKIPPED: "⏭️",
    Verdict.PLANNED: "🔎",
}
MAX_STEPS = 50
MAX_MESSAGE = 1000
SUMMARY_LOG_LINES = 30
SUMMARY_LOG_LINE_CHARS = 300
MAX_DIAGNOSIS_CELL = 1000
# Characters a link keeps as they are; any other is percent-encoded, so that no `)`, `|`, quote or space
# can end a Markdown link or a table cell early.
LINK_SAFE = ":/?=&%#@+-._~"


def summary_markdown(run: RunOutcome) -> str:
    """States and ids as code spans (shown exactly, readable in the raw file); messages as running text;
    Qovery's own diagnosis at the top, the deployment log folded at the end."""
    title = headline(run, md.text)
    lines = [f"### {ICONS[run.verdict]} {title}", "", md.text(message(run), MAX_MESSAGE), ""]
    if run.deletion is not None:
        return "\n".join(lines + _deletion(run, run.deletion)) + "\n\n"
    lines += _preview(run)
    deciding = run.deciding()
    lines += diagnosis_markdown(diagnosis_of(deciding))
    deployed = run.asked_label()
    if len(run.services) == 1:
        lines += _one_job(run.services[0], (deployed, what_was_asked(run)))
    else:
        lines += [f"{deployed}: {what_was_asked(run)}", ""]
        lines += _table(run.services)
    for job in run.services:
        lines += log_markdown(job, several=len(run.services) > 1)
    return "\n".join(lines) + "\n\n"


def _preview(run: RunOutcome) -> list[str]:
    """A preview's environment, in a line: its name and id, whether this run cloned it, whether it is
    deployed whole (nothing named), its link."""
    environment = run.environment
    if environment is None:
        return []
    said = f"Preview environment {md.text(environment.name or '')}"
    said += (
        f" · {md.code(environment.environment_id)}"
        if environment.environment_id
        else ", not made (a dry run)"
    )
    if environment.cloned:
        said += f", cloned from {md.text(environment.cloned_from or '')} by this run"
    if environment.whole:
        said += " · nothing named: the whole environment, stage after stage"
    if link := md_link(environment.url or "", environment.url):
        said += f" · {link}"
    return [said, ""]


def _deletion(run: RunOutcome, deletion: Deletion) -> list[str]:
    environment = run.environment
    name = environment.name if environment else None
    rows = [
        ("Verdict", md.code(deletion.verdict.value)),
        ("Environment", f"{md.text(name or '')} · {md.code(environment.environment_id or '')}")
        if environment and environment.environment_id
        else ("Environment", md.text(name or "")),
        ("Last state", md.code(deletion.state or "")),
        ("Elapsed", f"{run.duration_seconds:.0f} s"),
    ]
    return ["| | |", "|---|---|", *(f"| {key} | {value} |" for key, value in rows)]


def _table(jobs: list[Outcome]) -> list[str]:
    """One row per service; a Type column when they are not all jobs (a release). A dry run shows each
    service's current state: nothing was deployed, so no state is final."""
    typed = any(service_kind(job) != "job" for job in jobs)
    head = "| Service | Type |" if typed else "| Job |"
    dry_run = any(job.current_state is not None for job in jobs)
    answered = any(job.url for job in jobs)  # a URL column once some service has one
    lines = [
        f"{head} Verdict | {'Current state' if dry_run else 'Final state'} | Duration |"
        + (" URL |" if answered else "")
        + " Qovery console |",
        "|" + "---|" * (5 + typed + answered),
    ]
    for job in jobs:
        kind = f" {md.text(noun(job))} |" if typed else ""
        url = f" {url_link(job.url) or md.PLACEHOLDER} |" if answered else ""
        lines.append(
            f"| {md.text(job.known.label())} |{kind} {md.code(job.verdict.value)} "
            f"| {md.code(job.current_state or job.known.state or '')} | {job.duration_seconds:.0f} s |{url}"
            f" {console_link(job) or md.PLACEHOLDER} |"
        )
    return lines


def what_was_asked(run: RunOutcome) -> str:
    request = run.request
    parts = [
        f"image tag {md.code(request.image_tag)}" if request.image_tag else "",
        f"commit {md.code(request.git_commit_id)}" if request.git_commit_id else "",
        f"chart version {md.code(request.chart_version)}" if request.chart_version else "",
        f"`force-event` {md.code(request.force_event)}" if request.force_event else "",
    ]
    found = {noun(job) for job in run.services}
    one = len(run.services) == 1 and len(found) == 1 and found != {WHOLE_ENVIRONMENT}  # a whole one's: each
    whose = f"the {found.pop()}'s" if one else "each service's"
    if len(run.services) > 1 and found == {"job"}:
        whose = "each job's"
    return (
        ", ".join(part for part in parts if part)
        or f"{whose} current source (no image tag, commit or chart version given)"
    )


def _one_job(outcome: Outcome, asked: tuple[str, str]) -> list[str]:
    """One service's table; `asked`: its row of what was deployed (or, in a dry run, would be)."""
    known = outcome.known
    rows = [
        ("Verdict", md.code(outcome.verdict.value)),
        (noun(outcome).capitalize(), _job_cell(outcome)),
        asked,
        ("Current state", md.code(outcome.current_state))
        if outcome.current_state is not None
        else ("Final state", md.code(known.state or "")),
        ("Deployment request", md.code(known.deployment_request_id or "")),
        ("Execution", md.code(known.execution_id or "")),
        ("Elapsed", f"{outcome.duration_seconds:.0f} s"),
    ]
    if link := url_link(outcome.url):
        rows.append(("URL", link))
    if link := console_link(outcome):
        rows.append(("Qovery console", link))
    lines = ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    if known.steps:
        lines += ["", "| Step | Status | Duration |", "|---|---|---|"]
        for step in known.steps[:MAX_STEPS]:
            duration = "" if step.duration_sec is None else f"{step.duration_sec:g} s"
            lines.append(f"| {md.code(step.step_name or '')} | {md.code(step.status or '')} | {duration} |")
    return lines


def _job_cell(outcome: Outcome) -> str:
    identity = outcome.identity
    if identity is None or not identity.name:
        return md.code(outcome.known.service_id)
    return f"{md.text(identity.label())} · {md.code(outcome.known.service_id)}"


def console_link(outcome: Outcome) -> str | None:
    page = "deployment log" if outcome.known.execution_id else f"{noun(outcome)} page"
    return md_link(page, outcome.console_url)


def diagnosis_markdown(diagnosis: QoveryDiagnosis | None) -> list[str]:
    """Qovery's own explanation, as a quote (the cause, the fix, a link) and a blank line; none without."""
    if diagnosis is None:
        return []
    lines = []
    if diagnosis.message:
        lines.append(f"> **Qovery:** {md.text(diagnosis.message, MAX_DIAGNOSIS_CELL)}")
    if diagnosis.hint:
        lines.append(f"> **Hint:** {md.text(diagnosis.hint, MAX_DIAGNOSIS_CELL)}")
    if link := md_link("Qovery's documentation", diagnosis.link):
        lines.append(f"> {link}")
    # Two trailing spaces: a line break inside the quote.
    return [line + "  " if index < len(lines) - 1 else line for index, line in enumerate(lines)] + [""]


def log_markdown(outcome: Outcome, *, several: bool = False) -> list[str]:
    """The last lines of our job's deployment log, folded: HTML-escaped inside <pre>, which no Markdown
    touches and which only a literal `</pre>` could end (escaped, it cannot)."""
    log = outcome.deployment_log
    if log is None or not log.lines:
        return []
    shown = log.lines[-SUMMARY_LOG_LINES:]
    body = [html.escape(md.folded(line.text(), SUMMARY_LOG_LINE_CHARS), quote=False) for line in shown]
    what = f"last {len(shown)} of {log.total} lines" if log.total > len(shown) else f"{len(shown)} lines"
    whose = f" of {html.escape(md.folded(outcome.known.label(), 100), quote=False)}" if several else ""
    return [
        "",
        f"<details><summary>Deployment log{whose} ({what})</summary>",
        "",
        "<pre>",
        *body,
        "</pre>",
        "",
        "</details>",
    ]


def md_link(text: str, url: str | None, schemes: tuple[str, ...] = ("https",)) -> str | None:
    """A Markdown link to an https URL (or one of `schemes`), percent-encoded so that it cannot break out;
    None for any other."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes or not parts.hostname:
        return None
    return f"[{md.text(text)}]({quote(url, safe=LINK_SAFE)})"


def url_link(url: str | None) -> str | None:
    """Where a service answers, as a link that shows it (http too: a service may answer on plain http)."""
    return md_link(url or "", url, schemes=("http", "https"))
