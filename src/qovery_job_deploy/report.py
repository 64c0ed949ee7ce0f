"""From an Outcome to what people and machines read: the result JSON, outputs, the Markdown summary."""

from __future__ import annotations

import json
from typing import Any

from qovery_job_deploy import markdown as md
from qovery_job_deploy.outcome import Outcome, Verdict

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
MAX_STEPS = 50
MAX_MESSAGE = 1000


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


def summary_markdown(outcome: Outcome) -> str:
    """States and ids as code spans (shown exactly, readable in the raw file); messages as running text."""
    known = outcome.known
    rows = [
        ("Verdict", md.code(outcome.verdict.value)),
        ("Job", md.code(known.job_id)),
        ("Final state", md.code(known.state or "")),
        ("Deployment request", md.code(known.deployment_request_id or "")),
        ("Execution", md.code(known.execution_id or "")),
        ("Elapsed", f"{outcome.duration_seconds:.0f} s"),
    ]
    lines = [
        f"### {ICONS[outcome.verdict]} {HEADLINES[outcome.verdict]}",
        "",
        md.text(outcome.message, MAX_MESSAGE),
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
    ]
    if known.steps:
        lines += ["", "| Step | Status | Duration |", "|---|---|---|"]
        for step in known.steps[:MAX_STEPS]:
            duration = "" if step.duration_sec is None else f"{step.duration_sec:g} s"
            lines.append(f"| {md.code(step.step_name or '')} | {md.code(step.status or '')} | {duration} |")
    return "\n".join(lines) + "\n\n"
