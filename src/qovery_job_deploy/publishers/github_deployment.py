"""A GitHub deployment record of the run (`github-deployment: true`): created, and set `in_progress` with the
Qovery console's link, once Qovery accepts the first deploy request; then ended with exactly one final
state, whatever ended the run: `success` (with the URL where it answers), `failure` (a deployment failed)
or `error` (a timeout, a cancellation, a signal, Qovery out of reach). Three requests in all.

A dry run, or a run where Qovery accepted nothing, records nothing. What GitHub refuses is one warning; the
verdict and the exit code stand.

A `delete-environment` run records no deployment: once the environment is gone (`Deletion.gone`), the GitHub
environment's latest deployments (`GET .../deployments?environment=`, at most `MAX_RETIRED`) each get an
`inactive` status, so that GitHub shows the preview as no longer deployed. A deployment this step recorded
for another Qovery environment (its `payload`) is left alone. At most 1 + MAX_RETIRED requests.
"""

from __future__ import annotations

from typing import Any

from qovery_job_deploy.console import console_url
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.outcome import RunOutcome, Verdict
from qovery_job_deploy.publishers import Target
from qovery_job_deploy.publishers.github_api import (
    Budget,
    GitHubApi,
    GitHubProblem,
    api_for,
    github_run,
    guarded,
    say,
    signals_held,
)
from qovery_job_deploy.results import headline
from qovery_job_deploy.text import one_line

WHAT = "GitHub deployment record"
PERMISSION = "deployments: write"
# The calls that begin the record (its creation and `in_progress`), and the one that ends it, each within
# a few seconds: GitHub kills a cancelled step 10 s after SIGINT.
BEGIN_SECONDS = 4.0
END_SECONDS = 4.0
MAX_DESCRIPTION = 140  # GitHub's limit
# The record's final state, by the run's verdict. `accepted` (`wait: false`): Qovery took the request, the
# step's job is done; nothing can be left `in_progress`.
FINAL_STATES = {
    Verdict.SUCCEEDED: "success",
    Verdict.ACCEPTED: "success",
    Verdict.SKIPPED: "success",
    Verdict.PLANNED: "success",
    Verdict.FAILED: "failure",
    Verdict.TIMED_OUT: "error",
    Verdict.CANCELLED: "error",
    Verdict.ERROR: "error",
}
# A deletion's `inactive` statuses: the GitHub environment's latest deployments (GitHub lists the newest
# first), at most this many, all within RETIRE_SECONDS.
MAX_RETIRED = 5
RETIRE_SECONDS = 6.0
# GitHub's words for a Qovery environment's mode (`EnvironmentModeEnum`).
TRANSIENT_MODES = ("PREVIEW",)
PRODUCTION_MODE = "PRODUCTION"


class GitHubDeployment:
    """A publisher and a tracker: begins the record on the first accepted deploy request, ends it in
    `publish`."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.told = False  # the first accepted request begins the record; the others are part of it
        self.api: GitHubApi | None = None
        self.deployment_id: int | None = None

    def accepted(self, identity: ServiceIdentity, request_id: str | None) -> None:
        if not self.target.github.deployment or self.told:
            return
        self.told = True
        run = github_run(self.target.environ)
        if isinstance(run, str):
            self.target.warning(f"{WHAT}: {run}; nothing was sent to GitHub")
            return
        self.api = api = api_for(self.target, run, WHAT)
        if api is None:
            return
        budget = Budget(self.target.clock, BEGIN_SECONDS)
        try:
            with signals_held():  # once GitHub made it, the run knows it and can end it, signal or not
                created = api.call(
                    "POST",
                    run.repo_path("/deployments"),
                    budget,
                    body=self._deployment(identity, request_id, run.sha),
                    creates=True,
                )
                self.deployment_id = _id(created)
            if self.deployment_id is None:
                said = one_line(created.get("message", "") if isinstance(created, dict) else "", 200)
                self.target.warning(f"{WHAT}: GitHub made none{f' ({said})' if said else ''}")
                return
            self._status(
                "in_progress", budget, f"Qovery is deploying {identity.label()}", self._link(identity)
            )
        except GitHubProblem as problem:
            say(self.target, WHAT, problem, PERMISSION)
        except Exception as error:  # never the deployment's cost
            self.target.warning(f"{WHAT}: unexpected {type(error).__name__}: {one_line(error)}")
        finally:
            if self.deployment_id is None:  # nothing to end
                api.close()
                self.api = None

    def publish(self, outcome: RunOutcome) -> list[str]:
        """The final state, once; never a problem of the report: a warning at most."""
        if outcome.deletion is not None:
            self._retire(outcome)
            return []
        if self.api is None or self.deployment_id is None:
            return []
        state = FINAL_STATES[outcome.verdict]
        deciding = outcome.deciding()
        try:
            self._status(
                state,
                Budget(self.target.clock, END_SECONDS),
                headline(outcome),
                deciding.console_url,
                outcome.url if state == "success" else None,
            )
            self.target.log.info(f"GitHub deployment {self.deployment_id}: {state}")
        except GitHubProblem as problem:
            self.target.warning(
                f"{WHAT}: could not set it to {state} ({problem}); GitHub shows it in progress until the "
                "environment's next deployment"
            )
        except Exception as error:
            self.target.warning(f"{WHAT}: unexpected {type(error).__name__}: {one_line(error)}")
        finally:
            self.api.close()
        return []

    def _retire(self, outcome: RunOutcome) -> None:
        """A deletion's end: the GitHub environment's latest deployments made `inactive`, once it is gone."""
        deletion, environment = outcome.deletion, outcome.environment
        if not self.target.github.deployment or deletion is None or environment is None:
            return
        if not deletion.gone:
            self.target.log.info(f"{WHAT}s left as they are: the environment is not gone")
            return
        run = github_run(self.target.environ)
        if isinstance(run, str):
            self.target.warning(f"{WHAT}: {run}; nothing was sent to GitHub")
            return
        api = api_for(self.target, run, WHAT)
        if api is None:
            return
        name = self._named(environment.name, environment.environment_id)
        budget = Budget(self.target.clock, RETIRE_SECONDS)
        with guarded(self.target, api, WHAT, PERMISSION):
            listed = api.call(
                "GET",
                run.repo_path("/deployments"),
                budget,
                params={"environment": name, "per_page": str(MAX_RETIRED)},
            )
            ids = _ids_of(listed, environment.environment_id)[:MAX_RETIRED]
            body = {"state": "inactive", "description": _short(f"Qovery environment {name} deleted")}
            for number in ids:
                api.call("POST", run.repo_path(f"/deployments/{number}/statuses"), budget, body=body)
            self.target.log.info(f"GitHub environment {name}: {len(ids)} deployment(s) made inactive")

    def _deployment(self, identity: ServiceIdentity, request_id: str | None, sha: str) -> dict[str, Any]:
        mode = identity.environment_mode
        body: dict[str, Any] = {
            "ref": sha,
            "auto_merge": False,  # else GitHub may merge the default branch into the ref first (409)
            "required_contexts": [],  # else 409 while this very workflow's checks are still running
            "environment": self._environment(identity),
            "description": _short(f"Qovery: {identity.label()}"),
            "transient_environment": mode in TRANSIENT_MODES,
            "payload": {
                "qovery": {
                    "organization_id": identity.organization_id,
                    "project_id": identity.project_id,
                    "environment_id": identity.environment_id,
                    "service_id": identity.service_id,
                    "deployment_request_id": request_id,
                }
            },
        }
        if mode is not None:  # unknown: GitHub's own default (production when named `production`)
            body["production_environment"] = mode == PRODUCTION_MODE
        return body

    def _environment(self, identity: ServiceIdentity) -> str:
        """`github-environment`, else the Qovery environment's name (its id when the name is unknown)."""
        return self._named(identity.environment_name, identity.environment_id)

    def _named(self, name: str | None, environment_id: str | None) -> str:
        chosen = self.target.github.environment or name or environment_id
        return one_line(chosen or "qovery", 255)

    def _link(self, identity: ServiceIdentity) -> str | None:
        return console_url(self.target.console_url, identity, None)

    def _status(
        self, state: str, budget: Budget, description: str, log_url: str | None, url: str | None = None
    ) -> None:
        if self.api is None or self.deployment_id is None:
            return
        body: dict[str, Any] = {"state": state, "description": _short(description)}
        if log_url:
            body["log_url"] = log_url
        if url:
            body["environment_url"] = url
        path = self.api.run.repo_path(f"/deployments/{self.deployment_id}/statuses")
        self.api.call("POST", path, budget, body=body)


def _id(answer: object) -> int | None:
    """The id of the deployment GitHub made: a 201's; a 202 ("merged") made none."""
    found = answer.get("id") if isinstance(answer, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _ids_of(listed: object, environment_id: str | None) -> list[int]:
    """The listed deployments' ids, but those whose payload names another Qovery environment (this step's
    record of another preview sharing the GitHub environment's name)."""
    ids = []
    for deployment in listed if isinstance(listed, list) else []:
        found = _id(deployment)
        payload = deployment.get("payload") if isinstance(deployment, dict) else None
        qovery = payload.get("qovery") if isinstance(payload, dict) else None
        theirs = qovery.get("environment_id") if isinstance(qovery, dict) else None
        if found is not None and not (
            environment_id and isinstance(theirs, str) and theirs != environment_id
        ):
            ids.append(found)
    return ids


def _short(text: str) -> str:
    return one_line(text, MAX_DESCRIPTION)
