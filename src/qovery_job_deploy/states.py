"""The whole verdict rule: which state of *our* deployment means success, failure, or not yet.

The API does not say which states are terminal. The rule below follows Qovery's console (errors for
`*_ERROR` and RECAP, spinners for `*_QUEUED`, `WAITING_*`, `*ING`, EXECUTING) with one deliberate
difference from Qovery's CLI: CANCELED is a failure, since the change a pipeline asked for did not happen.
"""

from __future__ import annotations

from enum import StrEnum

from qovery_job_deploy.models import StatusDetails


class Phase(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# The 29 states of the published StateEnum, sorted. A state outside all three sets is unknown: waited on.
IN_PROGRESS = frozenset(
    {
        "BUILDING",
        "CANCELING",
        "DELETE_QUEUED",
        "DELETING",
        "DEPLOYING",
        "DEPLOYMENT_QUEUED",
        "EXECUTING",
        "QUEUED",
        "READY",
        "RESTART_QUEUED",
        "RESTARTING",
        "STOP_QUEUED",
        "STOPPING",
        "UNAVAILABLE",
        "WAITING_DELETING",
        "WAITING_RESTARTING",
        "WAITING_RUNNING",
        "WAITING_STOPPING",
    }
)
FAILURE = frozenset(
    {"BUILD_ERROR", "CANCELED", "DELETE_ERROR", "DEPLOYMENT_ERROR", "RECAP", "RESTART_ERROR", "STOP_ERROR"}
)
ENDED = frozenset({"DEPLOYED", "DELETED", "RESTARTED", "STOPPED"})
KNOWN_STATES = IN_PROGRESS | FAILURE | ENDED

# What "done" looks like for each forceEvent (none means a plain deploy).
SUCCESS_STATE_FOR_EVENT: dict[str | None, str] = {
    None: "DEPLOYED",
    "START": "DEPLOYED",
    "CRON": "DEPLOYED",
    "STOP": "STOPPED",
    "DELETE": "DELETED",
}

# `status_details.status` values that mean the action ended badly, or has not ended, whatever the state.
_DETAILS_FAILED = frozenset({"ERROR", "CANCELED"})
_DETAILS_RUNNING = frozenset({"QUEUED", "ONGOING", "EXECUTING", "CANCELING"})


def expected_state(force_event: str | None) -> str:
    return SUCCESS_STATE_FOR_EVENT[force_event]


def is_known(state: str) -> bool:
    return state in KNOWN_STATES


def classify(state: str, expected: str, details: StatusDetails | None = None) -> Phase:
    """The phase of our deployment given its state, the success state we expect, and status_details."""
    action_failed = details is not None and details.status in _DETAILS_FAILED
    action_running = details is not None and details.status in _DETAILS_RUNNING
    if state in FAILURE or state.endswith("_ERROR"):
        return Phase.FAILED
    if state == expected:
        # DEPLOYED while the action itself reports ERROR/CANCELED is not a success; while it still
        # reports QUEUED/ONGOING/EXECUTING/CANCELING, it is not a success yet.
        if action_failed:
            return Phase.FAILED
        return Phase.PENDING if action_running else Phase.SUCCEEDED
    if state in ENDED:
        # Ended, but not as asked (e.g. STOPPED when a deploy was requested).
        return Phase.FAILED
    if state not in KNOWN_STATES and action_failed:
        # A state this code does not know, but the action is clearly over and failed.
        return Phase.FAILED
    return Phase.PENDING
