"""The verdict rule, as a table, plus properties over every state name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.contract import raw_spec

from qovery_job_deploy.api.models import StatusDetails
from qovery_job_deploy.kinds import JOB, KINDS, ServiceKind
from qovery_job_deploy.states import (
    FAILURE,
    KNOWN_STATES,
    Phase,
    classify,
    failure_reason,
)

P, S, F = Phase.PENDING, Phase.SUCCEEDED, Phase.FAILED
# The published StateEnum, read from the spec the simulator is validated against.
SPEC_STATES = set(raw_spec()["components"]["schemas"]["StateEnum"]["enum"])


def details(status: str) -> StatusDetails:
    return StatusDetails(action="DEPLOY", status=status, sub_action="NONE")


@pytest.mark.parametrize(
    ("state", "event", "detail", "phase"),
    [
        ("DEPLOYED", None, None, S),
        ("DEPLOYED", "START", "SUCCESS", S),
        ("DEPLOYED", "CRON", None, S),
        ("STOPPED", "STOP", None, S),
        ("DELETED", "DELETE", None, S),
        ("DEPLOYED", None, "ERROR", F),  # the action itself failed: not a success
        ("DEPLOYED", None, "CANCELED", F),
        ("DEPLOYED", None, "ONGOING", P),  # the action has not ended: not a success yet
        ("DEPLOYED", None, "QUEUED", P),
        ("DEPLOYED", None, "NEVER", S),
        ("DEPLOYMENT_ERROR", None, None, F),
        ("BUILD_ERROR", None, None, F),
        ("CANCELED", None, None, F),  # Qovery's CLI says success here; a CI gate must not
        ("RECAP", None, None, F),
        ("STOPPED", None, None, F),  # ended, but not as asked
        ("DEPLOYED", "STOP", None, F),
        ("DELETED", None, None, F),
        ("QUEUED", None, None, P),
        ("DEPLOYMENT_QUEUED", None, "QUEUED", P),
        ("BUILDING", None, "ONGOING", P),
        ("DEPLOYING", None, None, P),
        ("EXECUTING", None, "EXECUTING", P),
        ("CANCELING", None, "CANCELING", P),
        ("WAITING_RUNNING", None, None, P),
        ("HIBERNATING", None, None, P),  # unknown (a newer API): waited on while nothing says it is over
        ("HIBERNATING", None, "ONGOING", P),
        ("HIBERNATING", None, "ERROR", F),  # unknown, and the action is over: the state decides at once
        ("HIBERNATING", None, "SUCCESS", F),
        ("READY", None, "SUCCESS", F),  # settled, but not as asked: Qovery's console draws READY settled
        ("READY", None, None, F),
        ("READY", None, "ONGOING", P),  # the action still runs: nothing but an error state decides
        ("STOPPED", None, "ONGOING", P),
        ("DEPLOYING", None, "SUCCESS", F),  # the action is over, yet the state is not the expected one
        ("DEPLOYMENT_ERROR", None, "ONGOING", F),  # an error state decides even while the action runs
        ("NEW_KIND_OF_ERROR", None, None, F),  # any *_ERROR is a failure, known or not
    ],
)
def test_classify(state: str, event: str | None, detail: str | None, phase: Phase) -> None:
    assert classify(state, JOB.success_state(event), details(detail) if detail else None) is phase


def test_every_state_of_the_published_spec_is_known() -> None:
    assert KNOWN_STATES == SPEC_STATES


@given(state=st.text(max_size=40), event=st.sampled_from([None, "START", "STOP", "DELETE", "CRON"]))
def test_classify_never_crashes_and_failures_never_succeed(state: str, event: str | None) -> None:
    phase = classify(state, JOB.success_state(event))
    assert phase in (P, S, F)
    if state in FAILURE or state.endswith("_ERROR"):
        assert phase is F
    if phase is S:
        assert state == JOB.success_state(event)


@pytest.mark.parametrize(
    ("state", "event", "detail", "words"),
    [
        ("DEPLOYMENT_ERROR", None, None, "ended in DEPLOYMENT_ERROR; DEPLOYED was expected"),
        (
            "READY",
            None,
            "SUCCESS",
            "ended in READY, expected DEPLOYED: Qovery settled the job without running",
        ),
        ("READY", "STOP", "SUCCESS", "define the STOP event"),
        ("STOPPED", None, "SUCCESS", "ended in STOPPED, expected DEPLOYED"),
        ("HIBERNATING", None, "ERROR", "does not know ('HIBERNATING'), expected DEPLOYED"),
        ("DEPLOYED", None, "CANCELED", "its action ended in CANCELED"),
        ("DEPLOYING", None, "SUCCESS", "the action is over (SUCCESS) while the job is still DEPLOYING"),
    ],
)
def test_every_failure_says_which_states_and_what_to_check(
    state: str, event: str | None, detail: str | None, words: str
) -> None:
    expected = JOB.success_state(event)
    assert classify(state, expected, details(detail) if detail else None) is F
    assert words in failure_reason(state, expected, details(detail) if detail else None)


@pytest.mark.parametrize(
    "kind", [kind for kind in KINDS.values() if kind is not JOB], ids=lambda kind: kind.name
)
@pytest.mark.parametrize(
    ("state", "detail"),
    [
        ("READY", "SUCCESS"),
        ("STOPPED", "SUCCESS"),
        ("HIBERNATING", "ERROR"),
        ("DEPLOYED", "ERROR"),
        ("DEPLOYING", "SUCCESS"),
    ],
)
def test_a_failure_of_another_type_is_never_called_a_job(kind: ServiceKind, state: str, detail: str) -> None:
    reason = failure_reason(state, "DEPLOYED", details(detail), kind.noun)
    assert classify(state, "DEPLOYED", details(detail)) is F
    assert kind.noun in reason and "job" not in reason.replace("qovery-job-deploy", ""), reason
