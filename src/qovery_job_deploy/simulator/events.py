"""What a deploy request's `forceEvent` makes a job go through: its action and its states, as a table.

A script's `timeline` is what a deploy (START) goes through. Another event goes through the same moments
in its own states: a STOP queues in STOP_QUEUED, runs in STOPPING and ends STOPPED (or STOP_ERROR where the
deploy would fail), and `status_details.action` says STOP. That is how Qovery's console groups the
states (STOP_QUEUED, STOPPING, STOPPED, STOP_ERROR under "Stop"; the DELETE ones under "Delete"). CRON runs
the job now, as a deploy does. A script that needs another path for an event gives it in
`JobScript.event_timelines`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from qovery_job_deploy.simulator.scripts import DeploymentRequest, JobScript

Timeline = list[tuple[float, str]]


@dataclass(frozen=True)
class Event:
    """An event's action (`status_details.action`), the state its request waits in while the environment
    deploys something else, and the deploy's states translated into its own (the rest are kept)."""

    action: str
    queued: str
    states: dict[str, str] = field(default_factory=dict)

    def timeline(self, deploy: Timeline) -> Timeline:
        """The deploy's timeline in this event's states, a state repeated at once kept only once."""
        translated: Timeline = []
        for offset, deploy_state in deploy:
            state = self.states.get(deploy_state, deploy_state)
            if not translated or translated[-1][1] != state:
                translated.append((offset, state))
        return translated


def _in_states(queued: str, running: str, done: str, error: str) -> dict[str, str]:
    return {
        "QUEUED": queued,
        "DEPLOYMENT_QUEUED": queued,
        "BUILDING": running,
        "DEPLOYING": running,
        "EXECUTING": running,
        "DEPLOYED": done,
        "BUILD_ERROR": error,
        "DEPLOYMENT_ERROR": error,
    }


DEPLOY = Event("DEPLOY", "QUEUED")
# The events, by `forceEvent` (none: a plain deploy). Helm charts take DIFF: a deploy all the same.
EVENTS: dict[str | None, Event] = {
    None: DEPLOY,
    "START": DEPLOY,
    "CRON": DEPLOY,
    "DIFF": DEPLOY,
    "STOP": Event("STOP", "STOP_QUEUED", _in_states("STOP_QUEUED", "STOPPING", "STOPPED", "STOP_ERROR")),
    "DELETE": Event(
        "DELETE", "DELETE_QUEUED", _in_states("DELETE_QUEUED", "DELETING", "DELETED", "DELETE_ERROR")
    ),
}
JOB_EVENTS = ("START", "STOP", "DELETE", "CRON")  # the spec's JobForceEvent


def deployment_request(script: JobScript, asked: dict[str, Any], now: float) -> DeploymentRequest:
    """The request a deploy asks for (`asked`, as `asks.read_ask` read it): its event's timeline, action
    and queued state. A forceEvent the kind does not take is left to `read_ask`: none here is a deploy."""
    forced = asked["query"].get("forceEvent")
    event = EVENTS.get(forced, DEPLOY)
    timeline = script.event_timelines.get(forced or "") or event.timeline(script.timeline)
    return DeploymentRequest(
        str(uuid.uuid4()),
        script.job_id,
        now,
        timeline,
        asked=asked,
        action=event.action,
        queued_state=event.queued,
    )
