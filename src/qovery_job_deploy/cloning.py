"""Cloning a blueprint into a preview, as Qovery answers it: the clone's request, the name taken by another
run meanwhile, a blueprint busy with an operation, an answer lost; then the wait until the clone lists every
service of the blueprint (Qovery makes them after it answers).

- `POST /environment/{blueprint}/clone {name, mode: PREVIEW, apply_deployment_rule: true}`: the new
  environment. Two runs at once never make two clones: a clone refused because the name is taken now (409,
  as the spec documents, or 400) is answered by reading the project's list again and using that environment.
  A 409 while the list does not have the name is an operation in progress on the blueprint: the clone is
  sent again after each of CONFLICT_PAUSES. An answer lost (a 5xx, a timeout) is looked for in the list
  before the clone is sent again.
- The wait reads each kind's list of the clone again every `poll-interval` until it lists each service of
  the blueprint, by kind and name, for CLONE_WAIT_SECONDS at most (never past `timeout`): `NotReady` then,
  never a wait without end.
"""

from __future__ import annotations

from collections import Counter

from qovery_job_deploy.api.errors import RefusedError, TransientError
from qovery_job_deploy.api.models import Named
from qovery_job_deploy.context import Context
from qovery_job_deploy.directory import Directory
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.identity import canonical_uuid
from qovery_job_deploy.kinds import KINDS, ServiceKind
from qovery_job_deploy.resolve import Place
from qovery_job_deploy.scheduler import Pause
from qovery_job_deploy.text import one_line

MODE = "PREVIEW"  # the clone's mode: its deployment rules, and how the console shows it
# A preview's modes: what `clone-from` deploys into when it exists, and all `delete-environment` deletes. A
# PRODUCTION or STAGING environment (or one whose mode is not known) is long-lived: never either.
PREVIEW_MODES = (MODE, "DEVELOPMENT")
CLONE_WAIT_SECONDS = 60.0  # for a clone's services to be listed: as long as the reads before a POST wait
CONFLICT_PAUSES = (2.0, 4.0, 8.0)  # a 409 while the name is not taken: the blueprint is busy


class NotReady(ActionError):
    """A clone whose services were not all listed in time (`timed_out`: the step's `timeout` ran out)."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class Cloning:
    def __init__(self, ctx: Context, directory: Directory, poll_interval: float) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.directory = directory
        self.poll_interval = poll_interval

    def clone(self, blueprint: Place, name: str) -> tuple[Named, bool]:
        """The clone, and whether this run made it; or, when the name is taken now, that environment."""
        client, clock, deadline = self.ctx.client, self.ctx.clock, self.ctx.deadline
        pauses = iter(CONFLICT_PAUSES)
        lost = False  # an answer lost on the way: a clone found later is most likely this run's
        while True:
            try:
                made = client.clone_environment(blueprint.environment_id, name, mode=MODE)
            except RefusedError as error:
                if error.status_code not in (400, 409):
                    raise
                if (found := self.listed(blueprint, name)) is not None:
                    self.log.info(
                        f"{found.name} is listed now, after an answer lost: taken as this run's clone"
                        if lost
                        else f"{found.name} exists now (HTTP {error.status_code} to the clone): another run "
                        "made it at the same time; this run deploys into it"
                    )
                    return found, lost
                pause = next(pauses, None)
                if error.status_code == 400 or pause is None or deadline.left() < pause:
                    raise
                self.log.info(f"{error}; cloning again in {pause:g}s")
                clock.sleep(pause)
                continue
            except TransientError as error:  # Qovery may have acted: the list says
                if (found := self.listed(blueprint, name)) is not None:
                    self.log.info(f"The clone's answer was lost ({error}), and {found.name} is listed now")
                    return found, True
                if lost:
                    raise
                lost = True
                continue
            if (made_id := canonical_uuid(made.id)) is None:
                raise ActionError(f"Qovery's answer to the clone of {blueprint.environment_name} has no id")
            return Named(id=made_id, name=made.name or name, mode=made.mode or MODE), True

    def listed(self, blueprint: Place, name: str) -> Named | None:
        """The environment of the blueprint's project named `name`, read again (one may have been made)."""
        listed = self.directory.environments(blueprint.project_id or "", fresh=True)
        return next((env for env in listed if same(env.name, name)), None)

    def wait(self, place: Place, blueprint: Place) -> bool:
        """Until the clone lists each service of the blueprint, by kind and name; whether it had to wait.
        NotReady after CLONE_WAIT_SECONDS, or when `timeout` runs out first."""
        clock, deadline = self.ctx.clock, self.ctx.deadline
        wanted: dict[ServiceKind, Counter[str]] = {}
        for kind in KINDS.values():
            if names := Counter(
                key(item.name) for item in self.directory.services(kind, blueprint.environment_id)
            ):
                wanted[kind] = names
        started = clock.now()
        give_up = min(deadline.at, started + CLONE_WAIT_SECONDS)
        total = sum(sum(names.values()) for names in wanted.values())
        waited = False
        pause = Pause(self.ctx, self.poll_interval)
        while True:
            for kind in list(wanted):
                listed = self.directory.services(kind, place.environment_id, fresh=True)
                if not wanted[kind] - Counter(key(item.name) for item in listed):
                    del wanted[kind]
            if not wanted:
                return waited
            if not waited:
                self.log.info(
                    f"Waiting for {place.environment_name} to list the {total} "
                    f"{'service' if total == 1 else 'services'} of "
                    f"{blueprint.environment_name}: Qovery makes a clone's after it answers"
                )
                waited = True
            if clock.now() + self.poll_interval > give_up:
                missing = sorted(name for names in wanted.values() for name in names)
                raise NotReady(
                    f"the clone {place.environment_name} ({place.environment_id}) does not list every "
                    f"service of {blueprint.environment_name} after {clock.now() - started:.0f}s (not yet: "
                    f"{', '.join(missing[:10])}): Qovery may still be making them, or have failed to",
                    timed_out=give_up == deadline.at,
                )
            pause.sleep(until=give_up)


def same(name: str | None, wanted: str) -> bool:
    """Two environment or service names that are the same to Qovery (case-insensitive, trimmed)."""
    return key(name) == key(wanted)


def key(name: str | None) -> str:
    return (name or "").strip().casefold()


def a_mode(mode: str | None) -> str:
    """`a PRODUCTION environment`: what an environment is, in a refusal (a preview's is in PREVIEW_MODES)."""
    return f"a {one_line(mode, 60)} environment" if mode else "an environment whose mode Qovery did not say"
