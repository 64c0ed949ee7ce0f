"""From an Outcome to what people and machines read: the result JSON, outputs, the Markdown summary."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote, urlsplit

from qovery_job_deploy.deploy import Outcome, Verdict
from qovery_job_deploy.deployment_log import QoveryDiagnosis

ICONS = {
    Verdict.SUCCEEDED: "✅",
    Verdict.ACCEPTED: "🚀",
    Verdict.FAILED: "❌",
    Verdict.TIMED_OUT: "⏱️",
    Verdict.CANCELLED: "🛑",
    Verdict.ERROR: "⚠️",
}
HEADLINES = {
    Verdict.SUCCEEDED: "Qovery job deployed",
    Verdict.ACCEPTED: "Qovery job deployment requested",
    Verdict.FAILED: "Qovery job deployment failed",
    Verdict.TIMED_OUT: "Qovery job deployment timed out",
    Verdict.CANCELLED: "Qovery job deployment step cancelled",
    Verdict.ERROR: "Qovery job deployment could not be followed",
}
MAX_CELL = 200
MAX_STEPS = 50
MARKDOWN_SPECIALS = "\\|`*_[]#!~"
SUMMARY_LOG_LINES = 30
SUMMARY_LOG_LINE_CHARS = 300
MAX_DIAGNOSIS_CELL = 1000
# Characters a link keeps as they are; any other is percent-encoded, so that no `)`, `|`, quote or space
# can end a Markdown link or a table cell early.
LINK_SAFE = ":/?=&%#@+-._~"


def result(outcome: Outcome) -> dict[str, Any]:
    """The machine-readable result: stdout JSON, the `result` output."""
    known = outcome.known
    return {
        "job_id": known.job_id,
        "verdict": outcome.verdict.value,
        "state": known.state,
        "deployment_request_id": known.deployment_request_id,
        "execution_id": known.execution_id,
        "service_deployment_status": known.service_deployment_status,
        "duration_seconds": round(outcome.duration_seconds, 1),
        "steps": [step.model_dump() for step in known.steps],
        "message": outcome.message,
        "job_name": outcome.identity.job_name if outcome.identity else None,
        "console_url": outcome.console_url,
        "error": _error_json(diagnosis_of(outcome)),
    }


def diagnosis_of(outcome: Outcome) -> QoveryDiagnosis | None:
    return outcome.deployment_log.diagnosis if outcome.deployment_log else None


def _error_json(diagnosis: QoveryDiagnosis | None) -> dict[str, str | None] | None:
    if diagnosis is None:
        return None
    return {"message": diagnosis.message, "hint": diagnosis.hint, "link": diagnosis.link}


def diagnosis_text(diagnosis: QoveryDiagnosis) -> str:
    """Qovery's explanation as plain lines (for annotations and the log; each escapes it its own way)."""
    parts = [
        f"Qovery: {diagnosis.message}" if diagnosis.message else "",
        f"Hint: {diagnosis.hint}" if diagnosis.hint else "",
        f"More: {diagnosis.link}" if diagnosis.link else "",
    ]
    return "\n".join(part for part in parts if part)


def result_json(outcome: Outcome) -> str:
    """One line of JSON; non-ASCII escaped, so no control or odd character survives into any file."""
    return json.dumps(result(outcome), ensure_ascii=True, separators=(",", ":"))


def outputs(outcome: Outcome) -> dict[str, str]:
    """The step outputs, by their action.yml names."""
    known = outcome.known
    return {
        "verdict": outcome.verdict.value,
        "state": known.state or "",
        "deployment-request-id": known.deployment_request_id or "",
        "execution-id": known.execution_id or "",
        "service-deployment-status": known.service_deployment_status or "",
        "duration-seconds": str(round(outcome.duration_seconds)),
        "result": result_json(outcome),
        "console-url": outcome.console_url or "",
    }


def dotenv(outcome: Outcome) -> dict[str, str]:
    """The GitLab dotenv report's variables."""
    values = outputs(outcome)
    return {
        "QOVERY_VERDICT": values["verdict"],
        "QOVERY_STATE": values["state"],
        "QOVERY_DEPLOYMENT_REQUEST_ID": values["deployment-request-id"],
        "QOVERY_EXECUTION_ID": values["execution-id"],
        "QOVERY_SERVICE_DEPLOYMENT_STATUS": values["service-deployment-status"],
        "QOVERY_DURATION_SECONDS": values["duration-seconds"],
    }


def md_cell(value: object, limit: int = MAX_CELL) -> str:
    """Text safe inside a Markdown table cell: HTML escaped, no line breaks, `|` escaped, bounded."""
    text = " ".join(str(value).split())  # every kind of line break and tab folded to one space
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    for char in MARKDOWN_SPECIALS:  # backslash first, so the escapes added after it stay single
        text = text.replace(char, "\\" + char)
    # Then HTML, last so that no entity it writes gets a Markdown escape inside it (`&#x27;`).
    return html.escape(text, quote=False)  # no raw HTML: <img>, <details>, comments


def summary_markdown(outcome: Outcome) -> str:
    known = outcome.known
    rows = [
        ("Verdict", outcome.verdict.value),
        ("Job", _job_cell(outcome)),
        ("Final state", known.state or "unknown"),
        ("Deployment request", known.deployment_request_id or "unknown"),
        ("Execution", known.execution_id or "–"),
        ("Elapsed", f"{outcome.duration_seconds:.0f} s"),
    ]
    lines = [
        f"### {ICONS[outcome.verdict]} {HEADLINES[outcome.verdict]}",
        "",
        md_cell(outcome.message),
        "",
        *diagnosis_markdown(diagnosis_of(outcome)),  # Qovery's own explanation, at the top
        "| | |",
        "|---|---|",
        *(f"| {name} | {md_cell(value)} |" for name, value in rows),
    ]
    if link := md_link("deployment log" if known.execution_id else "job page", outcome.console_url):
        lines.append(f"| Qovery console | {link} |")
    if known.steps:
        lines += ["", "| Step | Status | Duration |", "|---|---|---|"]
        for step in known.steps[:MAX_STEPS]:
            duration = "" if step.duration_sec is None else f"{step.duration_sec:g} s"
            lines.append(f"| {md_cell(step.step_name or '')} | {md_cell(step.status or '')} | {duration} |")
    lines += log_markdown(outcome)
    return "\n".join(lines) + "\n\n"


def _job_cell(outcome: Outcome) -> str:
    identity = outcome.identity
    if identity is None or not identity.job_name:
        return outcome.known.job_id
    return f"{identity.label()} · {outcome.known.job_id}"


def diagnosis_markdown(diagnosis: QoveryDiagnosis | None) -> list[str]:
    """Qovery's own explanation, as a quote (the cause, the fix, a link) and a blank line; none without."""
    if diagnosis is None:
        return []
    lines = []
    if diagnosis.message:
        lines.append(f"> **Qovery:** {md_cell(diagnosis.message, MAX_DIAGNOSIS_CELL)}")
    if diagnosis.hint:
        lines.append(f"> **Hint:** {md_cell(diagnosis.hint, MAX_DIAGNOSIS_CELL)}")
    if link := md_link("Qovery's documentation", diagnosis.link):
        lines.append(f"> {link}")
    # Two trailing spaces: a line break inside the quote.
    return [line + "  " if index < len(lines) - 1 else line for index, line in enumerate(lines)] + [""]


def log_markdown(outcome: Outcome) -> list[str]:
    """The last lines of our job's deployment log, folded: HTML-escaped inside <pre>, which no Markdown
    touches and which only a literal `</pre>` could end (escaped, it cannot)."""
    log = outcome.deployment_log
    if log is None or not log.lines:
        return []
    shown = log.lines[-SUMMARY_LOG_LINES:]
    body = [html.escape(md_safe_line(line.text()), quote=False) for line in shown]
    what = f"last {len(shown)} of {log.total} lines" if log.total > len(shown) else f"{len(shown)} lines"
    return [
        "",
        f"<details><summary>Deployment log ({what})</summary>",
        "",
        "<pre>",
        *body,
        "</pre>",
        "",
        "</details>",
    ]


def md_safe_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LOG_LINE_CHARS else text[: SUMMARY_LOG_LINE_CHARS - 1] + "…"


def md_link(text: str, url: str | None) -> str | None:
    """A Markdown link to an https URL, percent-encoded so that it cannot break out; None for any other."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    return f"[{md_cell(text)}]({quote(url, safe=LINK_SAFE)})"
