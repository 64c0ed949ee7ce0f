"""The rules of a preview's inputs, across inputs: `clone-from` (clone a blueprint into `environment` when
it does not exist; with nothing named, deploy the whole preview) and `delete-environment` (delete
`environment`). Checked once every input is valid on its own, since each problem names two inputs, each with
its value and where it came from; one line each.
"""

from __future__ import annotations

from collections.abc import Mapping

from qovery_job_deploy.identity import is_uuid
from qovery_job_deploy.inputs.model import Settings, split_job_refs, split_service_refs
from qovery_job_deploy.inputs.names import Given, Platform, holds_a_token, input_name

# The values the services named take: with nothing named, no service would.
VALUES = ("image_tag", "git_commit_id", "chart_version", "force_event", "apply_immediately")
# What names services or what they deploy: nothing a deletion takes.
DEPLOY_INPUTS = ("job_id", "jobs", "services", *VALUES)
EXAMPLE = "such as pr-42"


def preview_problems(settings: Settings, given: Mapping[str, Given], platform: Platform) -> list[str]:
    """Every problem of `clone-from` and `delete-environment` with the other inputs, one line each."""
    said = _Said(given, platform)
    clone_from, environment = settings.clone_from, settings.environment
    delete = settings.delete_environment
    problems: list[str] = []
    if (clone_from or delete) and not environment:
        asking = "delete_environment" if delete else "clone_from"
        what = "the environment to delete" if delete else "the preview's name"
        problems.append(
            f"Invalid input {said(asking)}: needs `environment`, {what}, and "
            f"{platform.unset('environment')}. Fix: {platform.how_to_set('environment')}, {EXAMPLE}."
        )
    if delete:
        problems += [
            f"Invalid input {said(name)}: {said('delete_environment')} deletes an environment and deploys "
            f"nothing. Fix: leave `{input_name(name)}` out of the step that deletes."
            for name in DEPLOY_INPUTS
            if getattr(settings, name)
        ]
    if (clone_from or delete) and environment and holds_a_token(environment):
        # A preview's name is shown everywhere (the log, the outputs, the summary, Qovery's console).
        problems.append(
            f"Invalid input {said('environment')}: it names the preview{' to delete' if delete else ''}, and "
            f"part of it looks like a token, which a name would show to everyone. Fix: give the preview its "
            f"own name, {EXAMPLE}."
        )
    if not clone_from or not environment:
        return problems
    if is_uuid(environment):
        problems.append(
            f"Invalid input {said('clone_from')}: {said('environment')} is a UUID, which names an "
            f"environment that exists; a clone is named. Fix: name the preview in `environment`, {EXAMPLE}."
        )
    elif environment.strip().casefold() == clone_from.strip().casefold():
        never = "a preview is never cloned into its own blueprint"
        never = "the blueprint is never deleted" if delete else never
        problems.append(
            f"Invalid input {said('environment')}: it is the blueprint `clone-from` names"
            f"{said.origin('clone_from')}; {never}. Fix: give the preview its own name, {EXAMPLE}."
        )
    if not delete:
        problems += _named_by_uuid(settings, said) + _values_for_none(settings, said)
    return problems


def _values_for_none(settings: Settings, said: _Said) -> list[str]:
    """With `clone-from` and nothing named, the whole preview deploys: each service what it is configured
    with. A value would go to no service: said, rather than dropped."""
    if settings.job_id is not None or settings.jobs or settings.services:
        return []
    return [
        f"Invalid input {said(name)}: it goes to the services named, and none is: with "
        f"{said('clone_from')} and nothing named, the whole preview deploys, each service what it is "
        f"configured with. Fix: name the services it is for in `services` or `jobs`, or leave "
        f"`{input_name(name)}` out."
        for name in VALUES
        if getattr(settings, name)
    ]


def _named_by_uuid(settings: Settings, said: _Said) -> list[str]:
    """With `clone-from`, services are named by name: a clone's services have ids of their own."""
    if settings.job_id is not None:
        named, uuids = "job_id", [str(settings.job_id)]
    else:
        named = "services" if settings.services else "jobs"
        items = split_service_refs(settings.services) if settings.services else ()
        refs = [item.ref for item in items] or list(split_job_refs(settings.jobs or ""))
        uuids = [ref for ref in refs if is_uuid(ref)]
    if not uuids:
        return []
    return [
        f"Invalid input {said(named)}: with {said('clone_from')}, services are named by name, since a "
        "clone's services have ids of their own (a UUID names one environment's service). Fix: give "
        f"{'the job' if named == 'job_id' else 'each service'} by name"
        f"{' in `jobs`' if named == 'job_id' else ''}."
    ]


class _Said:
    """`clone-from` (`staging` from the flag --clone-from): an input, its value and where it came from."""

    def __init__(self, given: Mapping[str, Given], platform: Platform) -> None:
        self.given = given
        self.platform = platform

    def __call__(self, field: str) -> str:
        return f"`{input_name(field)}`{self.origin(field)}"

    def origin(self, field: str) -> str:
        """` (`staging` from the flag --clone-from)`: the value and where it came from, when given."""
        item = self.given.get(field)
        return f" ({item.describe(secret=False)})" if item else ""
