"""From an Outcome to what people and machines read: the result JSON, outputs, the Markdown summary."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from qovery_job_deploy import markdown as md
from qovery_job_deploy.outcome import Outcome, RunOutcome, Verdict

ICONS = {
    Verdict.SUCCEEDED: "✅",
    Verdict.ACCEPTED: "🚀",
    Verdict.FAILED: "❌",
    Verdict.TIMED_OUT: "⏱️",
    Verdict.CANCELLED: "🛑",
    Verdict.ERROR: "⚠️",
    Verdict.SKIPPED: "⏭️",
}
HEADLINES = {
    Verdict.SUCCEEDED: "Qovery {jobs} deployed",
    Verdict.ACCEPTED: "Qovery {jobs} deployment requested",
    Verdict.FAILED: "Qovery {jobs} deployment failed",
    Verdict.TIMED_OUT: "Qovery {jobs} deployment timed out",
    Verdict.CANCELLED: "Qovery {jobs} deployment step cancelled",
    Verdict.ERROR: "Qovery {jobs} deployment could not be followed",
    Verdict.SKIPPED: "Qovery {jobs} deployment skipped",
}
MAX_STEPS = 50
MAX_MESSAGE = 1000
# GitLab reads at most 20 dotenv variables on self-managed instances by default (50 on gitlab.com);
# per-job keys take what the step-wide ones leave, most useful first.
MAX_DOTENV_VARIABLES = 20
PER_JOB_DOTENV = (
    ("VERDICT", "verdict"),
    ("STATE", "state"),
    ("DEPLOYMENT_REQUEST_ID", "deployment_request_id"),
)


def headline(run: RunOutcome) -> str:
    if run.verdict is Verdict.ERROR and all(job.known.deployment_request_id is None for job in run.jobs):
        return f"Qovery {_jobs_word(run)}: nothing was deployed"
    return HEADLINES[run.verdict].format(jobs=_jobs_word(run))


def _jobs_word(run: RunOutcome) -> str:
    return "job" if len(run.jobs) == 1 else f"jobs ({len(run.jobs)})"


def message(run: RunOutcome) -> str:
    """With one job, its message; with several, the count per verdict and the deciding job's message."""
    deciding = run.deciding()
    if len(run.jobs) == 1:
        return deciding.message
    counts = Counter(job.verdict.value for job in run.jobs)
    tally = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    return f"{len(run.jobs)} jobs: {tally}. {deciding.known.label()}: {deciding.message}"


def job_result(outcome: Outcome) -> dict[str, Any]:
    """One job, as `result.jobs[]` and the `jobs` output hold it."""
    known = outcome.known
    return {
        "job_id": known.job_id,
        "name": known.identity.job_name if known.identity else None,
        "verdict": outcome.verdict.value,
        "state": known.state,
        "deployment_request_id": known.deployment_request_id,
        "execution_id": known.execution_id,
        "duration_seconds": round(outcome.duration_seconds),
        "message": outcome.message,
    }


def result(run: RunOutcome) -> dict[str, Any]:
    """The machine-readable result: stdout JSON, the `result` output. The top-level fields describe the
    deciding job (the only one, when there is one); `jobs` holds every job."""
    deciding = run.deciding()
    known = deciding.known
    return {
        "job_id": known.job_id,
        "verdict": run.verdict.value,
        "state": known.state,
        "deployment_request_id": known.deployment_request_id,
        "execution_id": known.execution_id,
        "service_deployment_status": known.service_deployment_status,
        "duration_seconds": round(run.duration_seconds),
        "steps": [step.model_dump() for step in known.steps],
        "message": message(run),
        "jobs": [job_result(job) for job in run.jobs],
    }


def _json(value: object) -> str:
    """One line of JSON; non-ASCII escaped, so no control or odd character survives into any file."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def result_json(run: RunOutcome) -> str:
    return _json(result(run))


def outputs(run: RunOutcome) -> dict[str, str]:
    """The step outputs, by their action.yml names."""
    data = result(run)
    return {
        "verdict": data["verdict"],
        "state": data["state"] or "",
        "deployment-request-id": data["deployment_request_id"] or "",
        "execution-id": data["execution_id"] or "",
        "service-deployment-status": data["service_deployment_status"] or "",
        "duration-seconds": str(data["duration_seconds"]),
        "jobs": _json(data["jobs"]),
        "result": _json(data),
    }


def dotenv(run: RunOutcome) -> dict[str, str]:
    """The GitLab dotenv report's variables: the step-wide ones, then per-job keys when there are several
    jobs (`QOVERY_JOB_MIGRATE_STATE`), as many as GitLab's variable limit leaves room for."""
    values = outputs(run)
    report = {
        "QOVERY_VERDICT": values["verdict"],
        "QOVERY_STATE": values["state"],
        "QOVERY_DEPLOYMENT_REQUEST_ID": values["deployment-request-id"],
        "QOVERY_EXECUTION_ID": values["execution-id"],
        "QOVERY_SERVICE_DEPLOYMENT_STATUS": values["service-deployment-status"],
        "QOVERY_DURATION_SECONDS": values["duration-seconds"],
    }
    if len(run.jobs) > 1:
        keys = job_keys(run.jobs)
        for suffix, field in PER_JOB_DOTENV:
            for outcome, key in zip(run.jobs, keys, strict=True):
                if len(report) < MAX_DOTENV_VARIABLES:
                    report[f"{key}_{suffix}"] = str(job_result(outcome)[field] or "")
    return report


def job_keys(jobs: list[Outcome]) -> list[str]:
    """`QOVERY_JOB_<NAME>` per job: the name upper-cased, anything but letters and digits as `_`, and a
    number added when two names come out the same."""
    keys: list[str] = []
    for outcome in jobs:
        identity = outcome.known.identity
        name = (identity.job_name if identity and identity.job_name else outcome.known.job_id).upper()
        key = "QOVERY_JOB_" + (
            re.sub(r"[^A-Z0-9]+", "_", name.encode("ascii", "ignore").decode()).strip("_") or "X"
        )
        candidate, number = key, 2
        while candidate in keys:
            candidate, number = f"{key}_{number}", number + 1
        keys.append(candidate)
    return keys


def summary_markdown(run: RunOutcome) -> str:
    """States and ids as code spans (shown exactly, readable in the raw file); messages as running text."""
    lines = [f"### {ICONS[run.verdict]} {headline(run)}", "", md.text(message(run), MAX_MESSAGE), ""]
    if len(run.jobs) == 1:
        lines += _one_job(run.jobs[0])
    else:
        lines += ["| Job | Verdict | Final state | Duration |", "|---|---|---|---|"]
        lines += [
            f"| {md.text(job.known.label())} | {md.code(job.verdict.value)} "
            f"| {md.code(job.known.state or '')} | {job.duration_seconds:.0f} s |"
            for job in run.jobs
        ]
    return "\n".join(lines) + "\n\n"


def _one_job(outcome: Outcome) -> list[str]:
    known = outcome.known
    rows = [
        ("Verdict", md.code(outcome.verdict.value)),
        (
            "Job",
            md.text(known.label()) if known.identity and known.identity.job_name else md.code(known.job_id),
        ),
        ("Final state", md.code(known.state or "")),
        ("Deployment request", md.code(known.deployment_request_id or "")),
        ("Execution", md.code(known.execution_id or "")),
        ("Elapsed", f"{outcome.duration_seconds:.0f} s"),
    ]
    lines = ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    if known.steps:
        lines += ["", "| Step | Status | Duration |", "|---|---|---|"]
        for step in known.steps[:MAX_STEPS]:
            duration = "" if step.duration_sec is None else f"{step.duration_sec:g} s"
            lines.append(f"| {md.code(step.step_name or '')} | {md.code(step.status or '')} | {duration} |")
    return lines
