"""From an Outcome to what people and machines read: the result JSON, outputs, the Markdown summary."""

from __future__ import annotations

import html
import json
from typing import Any

from qovery_job_deploy.deploy import Outcome, Verdict

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
    }


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


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: HTML escaped, no line breaks, `|` escaped, bounded."""
    text = " ".join(str(value).split())  # every kind of line break and tab folded to one space
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    for char in MARKDOWN_SPECIALS:  # backslash first, so the escapes added after it stay single
        text = text.replace(char, "\\" + char)
    # Then HTML, last so that no entity it writes gets a Markdown escape inside it (`&#x27;`).
    return html.escape(text, quote=False)  # no raw HTML: <img>, <details>, comments


def summary_markdown(outcome: Outcome) -> str:
    known = outcome.known
    rows = [
        ("Verdict", outcome.verdict.value),
        ("Job", known.job_id),
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
        "| | |",
        "|---|---|",
        *(f"| {name} | {md_cell(value)} |" for name, value in rows),
    ]
    if known.steps:
        lines += ["", "| Step | Status | Duration |", "|---|---|---|"]
        for step in known.steps[:MAX_STEPS]:
            duration = "" if step.duration_sec is None else f"{step.duration_sec:g} s"
            lines.append(f"| {md_cell(step.step_name or '')} | {md_cell(step.status or '')} | {duration} |")
    return "\n".join(lines) + "\n\n"
