"""From a RunOutcome to what people and machines read in words and fields: the headline, the tally, the
closing line, the result JSON, the step outputs and the dotenv variables. Pure formatting: no file I/O."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from qovery_job_deploy.deployment_log import QoveryDiagnosis
from qovery_job_deploy.identity import is_uuid
from qovery_job_deploy.kinds import KINDS, noun_of
from qovery_job_deploy.outcome import SEVERITY, Deletion, Known, Outcome, RunOutcome, Verdict

HEADLINES = {
    Verdict.SUCCEEDED: "Qovery {jobs} deployed",
    Verdict.ACCEPTED: "Qovery {jobs} deployment requested",
    Verdict.FAILED: "Qovery {jobs} deployment failed",
    Verdict.TIMED_OUT: "Qovery {jobs} deployment timed out",
    Verdict.CANCELLED: "Qovery {jobs} deployment step cancelled",
    Verdict.ERROR: "Qovery {jobs} deployment could not be followed",
    Verdict.SKIPPED: "Qovery {jobs} deployment skipped",
    Verdict.PLANNED: "Dry run: Qovery {jobs} would be deployed, nothing was posted",
}
# Several services that all ended alike: "3 Qovery jobs deployed".
SEVERAL_HEADLINES = {
    Verdict.SUCCEEDED: "{jobs} deployed",
    Verdict.ACCEPTED: "{jobs}: deployments requested",
    Verdict.FAILED: "{jobs}: all failed",
    Verdict.TIMED_OUT: "{jobs}: all timed out",
    Verdict.CANCELLED: "{jobs}: deployment step cancelled",
    Verdict.ERROR: "{jobs}: none could be followed",
    Verdict.SKIPPED: "{jobs}: all skipped",
    Verdict.PLANNED: "Dry run: {jobs} would be deployed, nothing was posted",
}
# A `delete-environment` run: its environment is the subject, never a deployment.
DELETION_HEADLINES = {
    Verdict.SUCCEEDED: "Qovery environment {name} deleted",
    Verdict.ACCEPTED: "Qovery environment {name}: deletion requested",
    Verdict.FAILED: "Qovery environment {name}: deletion failed",
    Verdict.TIMED_OUT: "Qovery environment {name}: deletion timed out",
    Verdict.CANCELLED: "Qovery environment {name}: deletion step cancelled",
    Verdict.ERROR: "Qovery environment {name}: deletion in error",
    Verdict.PLANNED: "Dry run: Qovery environment {name} would be deleted, nothing was deleted",
}
# A deletion already under way when the run came (an earlier request): the run sent no DELETE.
ALREADY_HEADLINES = {
    Verdict.SUCCEEDED: "Qovery environment {name} deleted, by an earlier request",
    Verdict.ACCEPTED: "Qovery environment {name}: already being deleted",
    Verdict.PLANNED: "Dry run: Qovery environment {name} is already being deleted, nothing was deleted",
}
# GitLab reads at most 20 dotenv variables on self-managed instances by default (50 on gitlab.com);
# per-job keys take what the step-wide ones leave, most useful first.
MAX_DOTENV_VARIABLES = 20
MAX_KEY_NAME = 40
PER_JOB_DOTENV = (
    ("VERDICT", "verdict"),
    ("URL", "url"),  # only for the services of a kind that has links (`ServiceKind.links`)
    ("STATE", "state"),
    ("DEPLOYMENT_REQUEST_ID", "deployment_request_id"),
)


def headline(run: RunOutcome, shown: Callable[[str], str] = str) -> str:
    """`Qovery job deployment failed`; with several services `3 Qovery jobs deployed` when all went
    alike, else `3 Qovery jobs: 1 failed`: those that did not go as asked, by verdict, worst first. A dry
    run of one service names it (`Dry run: Qovery job migrate (shop / production) would be deployed`), a
    deletion its environment: each name as `shown` writes untrusted text (`markdown.text` in Markdown)."""
    if run.deletion is not None:
        return _deletion_headline(run, run.deletion, shown)
    nothing_posted = not (run.requested or run.maybe_requested)
    if len(run.services) == 1:
        (service,) = run.services
        one = noun(service)
        if run.verdict is Verdict.ERROR and nothing_posted:
            return f"Qovery {one}: nothing was deployed"
        if run.verdict is Verdict.PLANNED:  # nothing else says which: no deployment to link
            one = f"{one} {shown(service.known.label())}"
        return HEADLINES[run.verdict].format(jobs=one)
    what = f"{len(run.services)} Qovery {nouns(run)}"
    if run.verdict is Verdict.ERROR and nothing_posted:
        return f"{what}: nothing was deployed"
    counts = Counter(job.verdict for job in run.services)
    worst_first = sorted((verdict for verdict in counts if not verdict.went_well), key=SEVERITY.index)
    if len(counts) == 1 or not worst_first:
        return SEVERAL_HEADLINES[run.verdict].format(jobs=what)
    return f"{what}: " + ", ".join(f"{counts[verdict]} {verdict.words}" for verdict in worst_first)


def _deletion_headline(run: RunOutcome, deletion: Deletion, shown: Callable[[str], str]) -> str:
    name = shown(environment_name(run))
    if deletion.absent:
        return f"Qovery environment {name}: nothing to delete"
    if deletion.already and deletion.verdict in ALREADY_HEADLINES:
        return ALREADY_HEADLINES[deletion.verdict].format(name=name)
    return DELETION_HEADLINES[deletion.verdict].format(name=name)


def environment_name(run: RunOutcome) -> str:
    """The preview's name, else its id."""
    environment = run.environment
    return (environment.name or environment.environment_id or "") if environment else ""


def nouns(run: RunOutcome) -> str:
    """`jobs`, `containers`, `services` (of several kinds): what the run deployed, in one word."""
    kinds = {KINDS.get(service_kind(service)) for service in run.services}
    kind = kinds.pop() if len(kinds) == 1 else None
    return kind.plural if kind is not None else "services"


def _id(known: Known) -> str | None:
    """The service's id; None while only the name it was given is known (never a name in an id field)."""
    return known.service_id if is_uuid(known.service_id) else None


def service_kind(outcome: Outcome) -> str:
    return outcome.identity.kind if outcome.identity else "job"


def noun(outcome: Outcome) -> str:
    """`job`, `helm chart`; `service` while its kind is not known (nothing was resolved)."""
    return noun_of(service_kind(outcome))


def message(run: RunOutcome) -> str:
    """With one service, its message. With several, the count per verdict: a release that went as asked is
    described as a whole (each service's message is its own entry); otherwise the deciding one's message
    follows, since it says what went wrong."""
    if run.deletion is not None:
        return run.deletion.message
    deciding = run.deciding()
    if len(run.services) == 1:
        return deciding.message
    if run.verdict.went_well:
        return f"{tally(run)}."
    return f"{tally(run)}. {deciding.known.label()}: {deciding.message}"


def tally(run: RunOutcome) -> str:
    """`3 jobs: 2 succeeded, 1 failed`: how many services ended each way, in the order first seen."""
    counts = Counter(job.verdict for job in run.services)
    counted = ", ".join(f"{count} {verdict.words}" for verdict, count in counts.items())
    return f"{len(run.services)} {nouns(run)}: {counted}"


def closing_line(run: RunOutcome) -> str:
    """The log's last word on the run. With several services whose verdict lines were printed as each
    ended, only the tally: each message is printed once."""
    text = tally(run) if len(run.services) > 1 and run.announced else message(run)
    return f"{run.verdict.value}: {text}"


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


def service_result(outcome: Outcome, id_key: str = "id") -> dict[str, Any]:
    """One service, as `result.services[]` and the `services` output hold it; `result.jobs[]` and the `jobs`
    output keep the key they promised, `job_id`."""
    known = outcome.known
    return {
        "type": service_kind(outcome) or None,  # None: not known (the names could not be resolved)
        id_key: _id(known),
        "name": known.identity.name if known.identity else None,
        "verdict": outcome.verdict.value,
        "state": known.state,
        "current_state": outcome.current_state,
        "deployment_request_id": known.deployment_request_id,
        "execution_id": known.execution_id,
        "duration_seconds": round(outcome.duration_seconds),
        "message": outcome.message,
        "console_url": outcome.console_url,
        "url": outcome.url,
        "error": _error_json(diagnosis_of(outcome)),
    }


def result(run: RunOutcome) -> dict[str, Any]:
    """The machine-readable result: stdout JSON, the `result` output. The top-level fields describe the
    deciding job (the only one, when there is one); `jobs` holds every job. A preview's environment, and a
    deletion, have keys of their own."""
    environment = run.environment
    return (_deletion_result(run, run.deletion) if run.deletion else _deploy_result(run)) | {
        "environment_id": environment.environment_id if environment else None,
        "environment_url": environment.url if environment else None,
        "cloned": bool(environment and environment.cloned),
        "deleted": bool(run.deletion and run.deletion.by_this_run),
    }


def _deletion_result(run: RunOutcome, deletion: Deletion) -> dict[str, Any]:
    """A deletion deploys nothing: a deployment's keys, empty, beside its verdict, state and message."""
    nothing = ("current_state", "deployment_request_id", "execution_id", "service_deployment_status")
    asked = ("image_tag", "git_commit_id", "chart_version", "force_event")
    about = ("job_name", "console_url", "url", "error")  # a deployment's: none
    return {
        "job_id": None,
        "verdict": deletion.verdict.value,
        "state": deletion.state,
        **dict.fromkeys(nothing),
        "duration_seconds": round(run.duration_seconds),
        "steps": [],
        "message": deletion.message,
        **dict.fromkeys(asked),
        **dict.fromkeys(about),
        "dry_run": run.dry_run,
        "jobs": [],
        "services": [],
    }


def _deploy_result(run: RunOutcome) -> dict[str, Any]:
    deciding = run.deciding()
    known = deciding.known
    return {
        "job_id": _id(known),
        "verdict": run.verdict.value,
        "state": known.state,
        "current_state": deciding.current_state,
        "deployment_request_id": known.deployment_request_id,
        "execution_id": known.execution_id,
        "service_deployment_status": known.service_deployment_status,
        "duration_seconds": round(run.duration_seconds),
        "steps": [step.model_dump() for step in known.steps],
        "message": message(run),
        "image_tag": run.request.image_tag,
        "git_commit_id": run.request.git_commit_id,
        "chart_version": run.request.chart_version,
        "force_event": run.request.force_event,
        "job_name": known.identity.name if known.identity else None,
        "console_url": deciding.console_url,
        "url": run.url,
        "error": _error_json(diagnosis_of(deciding)),
        "dry_run": run.dry_run,
        "jobs": [service_result(job, "job_id") for job in run.services if service_kind(job) == "job"],
        "services": [service_result(service) for service in run.services],
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
        "console-url": data["console_url"] or "",
        "url": data["url"] or "",
        "image-tag": data["image_tag"] or "",
        "git-commit-id": data["git_commit_id"] or "",
        "force-event": data["force_event"] or "",
        "jobs": _json(data["jobs"]),
        "services": _json(data["services"]),
        "environment-id": data["environment_id"] or "",
        "environment-url": data["environment_url"] or "",
        "cloned": "true" if data["cloned"] else "false",
        "result": _json(data),
    }


def dotenv(run: RunOutcome) -> dict[str, str]:
    """The GitLab dotenv report's variables: the step-wide ones, then per-job keys when there are several
    jobs (`QOVERY_JOB_MIGRATE_STATE`), as many as GitLab's variable limit leaves room for. The URLs
    (`QOVERY_URL`, `QOVERY_CONTAINER_API_URL`) only where a service is of a kind that has links."""
    values = outputs(run)
    linked = [has_links(outcome) for outcome in run.services]
    report = {
        "QOVERY_VERDICT": values["verdict"],
        "QOVERY_STATE": values["state"],
        "QOVERY_DEPLOYMENT_REQUEST_ID": values["deployment-request-id"],
        "QOVERY_EXECUTION_ID": values["execution-id"],
        "QOVERY_SERVICE_DEPLOYMENT_STATUS": values["service-deployment-status"],
        "QOVERY_DURATION_SECONDS": values["duration-seconds"],
        # No key is an input's variable (QOVERY_CONSOLE_URL, QOVERY_IMAGE_TAG, ...): a later job that runs
        # this step would read it as its own input.
        "QOVERY_DEPLOYMENT_URL": values["console-url"],
        "QOVERY_DEPLOYED_IMAGE_TAG": values["image-tag"],
        "QOVERY_DEPLOYED_GIT_COMMIT_ID": values["git-commit-id"],
        "QOVERY_DEPLOYED_FORCE_EVENT": values["force-event"],
    }
    if any(linked):  # step-wide, so before any per-service key: what `environment: url:` reads
        report["QOVERY_URL"] = values["url"]
    if run.environment is not None:  # a preview's: GitLab's `environment: url:` can read it
        report |= {
            "QOVERY_ENVIRONMENT_ID": values["environment-id"],
            "QOVERY_ENVIRONMENT_URL": values["environment-url"],
            "QOVERY_CLONED": values["cloned"],
        }
    if len(run.services) > 1:
        keys = job_keys(run.services)
        for suffix, field in PER_JOB_DOTENV:
            for outcome, key, has_url in zip(run.services, keys, linked, strict=True):
                if len(report) < MAX_DOTENV_VARIABLES and (field != "url" or has_url):
                    report[f"{key}_{suffix}"] = str(service_result(outcome)[field] or "")
    return report


def has_links(outcome: Outcome) -> bool:
    """Whether the service is of a kind that has links (where it answers once deployed)."""
    kind = KINDS.get(service_kind(outcome))
    return kind is not None and kind.links


def job_keys(jobs: list[Outcome]) -> list[str]:
    """`QOVERY_JOB_<NAME>` per job: the name upper-cased, anything but letters and digits as `_`, at most
    MAX_KEY_NAME characters of it, and a number added when two names come out the same."""
    keys: list[str] = []
    for outcome in jobs:
        identity = outcome.known.identity
        name = identity.name if identity and identity.name else outcome.known.service_id
        ascii_name = name.upper().encode("ascii", "ignore").decode()
        prefix = f"QOVERY_{(service_kind(outcome) or 'service').upper()}_"
        key = prefix + (re.sub(r"[^A-Z0-9]+", "_", ascii_name).strip("_")[:MAX_KEY_NAME] or "X")
        candidate, number = key, 2
        while candidate in keys:
            candidate, number = f"{key}_{number}", number + 1
        keys.append(candidate)
    return keys
