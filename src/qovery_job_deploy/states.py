"""The whole verdict rule: which state of *our* deployment means success, failure, or not yet.

The API does not say which states are terminal. The rule below follows Qovery's console (errors for
`*_ERROR` and RECAP; spinners for `*_QUEUED`, `WAITING_*`, `*ING`, EXECUTING; DEPLOYED, STOPPED, DELETED,
RESTARTED and READY drawn as settled) with one deliberate difference from Qovery's CLI: CANCELED is a
failure, since the change a pipeline asked for did not happen.

Two readings decide together: the kind of state our request is in, and what `status_details.status` says
of its action. Once the action is over (SUCCESS, ERROR, CANCELED), the state decides at once, so that a
state this version does not know, or a settled state other than the one asked for, ends the wait instead
of running into the timeout. While the action still runs, only an error state ends it.
"""

from __future__ import annotations

from enum import StrEnum

from qovery_job_deploy.api.models import StatusDetails
from qovery_job_deploy.kinds import JOB


class Phase(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class StateKind(StrEnum):
    EXPECTED = "the success state asked for"
    ERROR = "an error state"
    OTHER_SETTLED = "another settled state"
    IN_PROGRESS = "a state in progress"
    UNKNOWN = "a state this version does not know"


class Action(StrEnum):
    """What `status_details.status` says of the action of our request."""

    SUCCEEDED = "over, succeeded"
    FAILED = "over, failed"
    RUNNING = "running"
    UNSAID = "not said"  # absent, NEVER, or a value this version does not know


# The 29 states of the published StateEnum, sorted, in three kinds (tests check the union against the spec).
# Queued: waiting for its turn in the environment's queue (Qovery deploys one request of it at a time).
QUEUED = frozenset({"DELETE_QUEUED", "DEPLOYMENT_QUEUED", "QUEUED", "RESTART_QUEUED", "STOP_QUEUED"})
IN_PROGRESS = QUEUED | frozenset(
    {
        "BUILDING",
        "CANCELING",
        "DELETING",
        "DEPLOYING",
        "EXECUTING",
        "RESTARTING",
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
SETTLED = frozenset({"DEPLOYED", "DELETED", "READY", "RESTARTED", "STOPPED"})
KNOWN_STATES = IN_PROGRESS | FAILURE | SETTLED

_ACTION_OF_DETAILS = {
    "SUCCESS": Action.SUCCEEDED,
    "ERROR": Action.FAILED,
    "CANCELED": Action.FAILED,
    "QUEUED": Action.RUNNING,
    "ONGOING": Action.RUNNING,
    "EXECUTING": Action.RUNNING,
    "CANCELING": Action.RUNNING,
}

S, F, P = Phase.SUCCEEDED, Phase.FAILED, Phase.PENDING
# The rule. Columns: what the action says (over and succeeded, over and failed, running, not said).
RULE: dict[StateKind, dict[Action, Phase]] = {
    #                                  SUCCEEDED        FAILED           RUNNING           UNSAID
    StateKind.EXPECTED: dict(zip(Action, (S, F, P, S), strict=True)),
    StateKind.ERROR: dict(zip(Action, (F, F, F, F), strict=True)),
    StateKind.OTHER_SETTLED: dict(zip(Action, (F, F, P, F), strict=True)),
    StateKind.IN_PROGRESS: dict(zip(Action, (F, F, P, P), strict=True)),
    StateKind.UNKNOWN: dict(zip(Action, (F, F, P, P), strict=True)),
}

# The force-event that leads to each success state (`kinds.JOB.event_states` read backwards, the first
# event of each state): what to check when a job settles in READY instead.
_EVENT_FOR_STATE = {state: event for event, state in reversed(list(JOB.event_states.items()))}


def is_known(state: str) -> bool:
    return state in KNOWN_STATES


def kind_of(state: str, expected: str) -> StateKind:
    if state in FAILURE or state.endswith("_ERROR"):  # a newer `*_ERROR` is an error all the same
        return StateKind.ERROR
    if state == expected:
        return StateKind.EXPECTED
    if state in SETTLED:
        return StateKind.OTHER_SETTLED
    if state in IN_PROGRESS:
        return StateKind.IN_PROGRESS
    return StateKind.UNKNOWN


def action_of(details: StatusDetails | None) -> Action:
    status = details.status if details is not None else None
    return _ACTION_OF_DETAILS.get(status or "", Action.UNSAID)


def classify(state: str, expected: str, details: StatusDetails | None = None) -> Phase:
    """The phase of our deployment given its state, the success state we expect, and status_details."""
    return RULE[kind_of(state, expected)][action_of(details)]


def failure_reason(state: str, expected: str, details: StatusDetails | None = None, noun: str = "job") -> str:
    """Why `classify` said FAILED, in words that say what to check; `noun`: what people call the service
    (`job`, `container`, `helm chart`). States are API text: the caller's writers escape them."""
    kind = kind_of(state, expected)
    if kind is StateKind.EXPECTED:
        return (
            f"The {noun} reached {state}, but Qovery reports that its action ended in "
            f"{details.status if details else 'failure'}. Check the deployment log in the Qovery console."
        )
    if kind is StateKind.ERROR:
        return f"The deployment ended in {state}; {expected} was expected."
    if state == "READY":
        event = _EVENT_FOR_STATE.get(expected, "START")
        where = " (Job settings > Triggers)" if noun == "job" else ""  # the console's page, for a job
        return (
            f"The deployment ended in READY, expected {expected}: Qovery settled the {noun} without running "
            f"it. Does the {noun} define the {event} event{where}, or should `force-event` name one it has?"
        )
    if kind is StateKind.OTHER_SETTLED:
        return (
            f"The deployment ended in {state}, expected {expected}. Check `force-event` and the {noun}'s "
            "triggers in the Qovery console."
        )
    if kind is StateKind.UNKNOWN:
        return (
            f"The deployment ended in a state this version does not know ({state!r}), expected {expected}. "
            f"Check the {noun} in the Qovery console; a newer qovery-job-deploy may know this state."
        )
    return (
        f"Qovery reports that the action is over ({details.status if details else 'unknown'}) while the "
        f"{noun} is still {state}; {expected} was expected. Check the {noun} in the Qovery console."
    )
