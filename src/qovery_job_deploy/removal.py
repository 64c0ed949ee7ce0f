"""Deleting a preview (`delete-environment`): find the environment, refuse what is never deleted, send
`DELETE /environment/{id}` and wait until it is gone. Its outcome is the environment's (`outcome.Deletion`):
the report says "deleted", never "deployed".

- Found by UUID (`GET /environment/{id}`, for its name and mode) or by name in the project's list
  (case-insensitive; in every project of the organization when `project` is not given). One that does not
  exist, or no longer does, leaves nothing to delete: exit 0, and said (a cleanup that runs again is fine).
- Deleted: PREVIEW and DEVELOPMENT environments only (a pull request's preview; the step's clones are
  PREVIEW). Never deleted, exit 2 before any change: the environment `clone-from` names, when both are given
  (the blueprint); one in PRODUCTION or STAGING mode (or whose mode is not known): a cleanup job that forgot
  `clone-from`, or names the wrong environment, never wipes a long-lived one.
- `GET /environment/{id}/status` first (the list and `GET /environment/{id}` do not say an environment's
  state): already DELETE_QUEUED, DELETING or WAITING_DELETING (an earlier request: another run, the
  console), no DELETE is sent; the step waits until it is gone and says it did not delete it (`deleted`
  false). Gone (404, or DELETED): nothing to delete.
- `DELETE` (204), then `GET /environment/{id}/status` every `poll-interval` (DELETE_QUEUED, DELETING) until
  it is gone (404, or DELETED). A settled state instead (DELETE_ERROR; READY, DEPLOYED, STOPPED, CANCELED: a
  deletion cancelled) is a failure (exit 1), at once, said as such ("stopped ... not deleted"), once the
  deletion was seen under way: the first reads after the DELETE may still show the state from before, which
  ends the wait only after DELETE_GRACE_SECONDS of nothing else. `timeout` running out is exit 124, the
  deletion going on in Qovery. A 403: deleting an environment needs the admin permission (exit 3).
- A dry run says what would be deleted (or that it is being deleted already), and deletes nothing.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass

from qovery_job_deploy.api.errors import RefusedError, TransientError, token_refused
from qovery_job_deploy.cloning import PREVIEW_MODES, a_mode
from qovery_job_deploy.context import Context, bounded
from qovery_job_deploy.directory import Directory
from qovery_job_deploy.errors import ActionError, InputError, Interrupted
from qovery_job_deploy.identity import canonical_uuid
from qovery_job_deploy.inputs.plan import Plan
from qovery_job_deploy.outcome import Deletion, PreviewEnvironment, RunOutcome, Verdict
from qovery_job_deploy.resolve import Resolver, Scope, pick
from qovery_job_deploy.scheduler import Pause
from qovery_job_deploy.states import StateKind, kind_of
from qovery_job_deploy.text import one_line

# An environment in these states is being deleted already: no DELETE is sent, its end is waited for.
BEING_DELETED = ("DELETE_QUEUED", "DELETING", "WAITING_DELETING")
# After the DELETE, Qovery may show the state from before for a moment (DEPLOYED, or a DEPLOYMENT_ERROR that
# is why the preview goes): a settled state ends the wait once the deletion was seen under way, or once it
# was all Qovery showed for this long (from the DELETE, or from the last state in progress: a deletion
# queued behind a deployment starts when that ends).
DELETE_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Target:
    """The environment to delete: its id, its name, its mode and where it is."""

    environment_id: str
    name: str
    mode: str | None
    project: str = ""  # its project's name, when known: for messages


def remove(plan: Plan, ctx: Context, unexpected: Callable[[Exception], str]) -> RunOutcome:
    """The deletion, from a plan to its verdict. An input error (a project that does not exist, an
    environment never deleted) is raised: nothing was deleted."""
    removal = Removal(plan, ctx)
    return bounded(removal.run, lambda message: removal.ended(Verdict.ERROR, message), unexpected)


class Removal:
    def __init__(self, plan: Plan, ctx: Context) -> None:
        self.plan = plan
        self.ctx = ctx
        self.log = ctx.log
        self.wanted = (plan.environment or "").strip()
        self.target: Target | None = None
        self.state: str | None = None  # the environment's last state seen
        self.signum: int | None = None
        self.sent = False  # the DELETE was sent
        self.deleted = False  # and accepted
        self.already = False  # it was being deleted when this run found it: no DELETE sent

    def run(self) -> RunOutcome:
        try:
            try:
                target = self._find()
            except InputError:
                raise
            except ActionError:
                self.ctx.events.begin(f"Qovery environment {one_line(self.wanted, 60)}: nothing was deleted")
                raise
            if isinstance(target, str):  # nothing to delete: why
                self.ctx.events.begin(f"Qovery environment {one_line(self.wanted, 60)}: nothing to delete")
                return self.ended(Verdict.SUCCEEDED, target, absent=True)
            self.target = target
            self._refuse(target)
            return self._act(target)
        except Interrupted as interruption:
            self.signum = interruption.signum
            name = signal.Signals(interruption.signum).name
            if self.deleted or self.already:
                return self.ended(
                    Verdict.CANCELLED, f"Interrupted by {name}; the deletion goes on in Qovery."
                )
            return self.ended(Verdict.CANCELLED, f"Interrupted by {name}; nothing was deleted.")
        except InputError:
            raise
        except ActionError as error:
            said = self._token_problem(error) or str(error)
            done = "Nothing was deleted:"
            if self.already:
                done = "The deletion was already under way (an earlier request), but"
            elif self.sent:  # Qovery may have acted on a DELETE whose answer was lost
                done = (
                    "The deletion was requested, but"
                    if self.deleted
                    else "Qovery did not confirm the deletion:"
                )
            return self.ended(Verdict.ERROR, f"{done} {said}")

    # -- finding, refusing ------------------------------------------------------------------------------

    def _find(self) -> Target | str:
        """The environment to delete, or why there is nothing to delete."""
        plan, client = self.plan, self.ctx.client
        by_id = canonical_uuid(self.wanted)
        if by_id is not None:
            try:
                info = client.environment(by_id)
            except RefusedError as error:
                if error.status_code == 404:
                    return f"Environment {by_id} does not exist (HTTP 404): nothing to delete."
                raise
            self.log.info(f"environment {info.name} -> {by_id} ({info.mode})")
            return Target(by_id, info.name or by_id, info.mode)
        directory = Directory(client)
        resolver = Resolver(directory, self.log, plan.given, plan.platform)
        _, projects = resolver.projects(Scope(plan.organization, plan.project, plan.environment))
        candidates = [(p, env) for p in projects for env in directory.environments(str(p.id))]
        where = f"project {_shown(projects[0].name or projects[0].id)}" if len(projects) == 1 else None
        key = self.wanted.casefold()
        if not any((env.name or "").strip().casefold() == key for _, env in candidates):
            names = sorted({env.name or "" for _, env in candidates})
            there = ", ".join(_shown(name) for name in names[:10]) or "none"
            where = where or "any project of the organization"
            return (
                f"No environment is named {_shown(self.wanted)} in {where}: nothing to delete (environments "
                f"there: {there})."
            )
        project, environment = pick(
            "environment",
            self.wanted,
            candidates,
            name_of=lambda pair: pair[1].name or "",
            where=where or "every project of the organization",
            describe=lambda pair: f"{_shown(pair[1].name)} (id {pair[1].id}, project {_shown(pair[0].name)})",
            given=plan.given.get("environment"),
        )
        self.log.info(f"environment {environment.name} -> {environment.id} ({environment.mode})")
        return Target(str(environment.id), environment.name or "", environment.mode, project.name or "")

    def _refuse(self, target: Target) -> None:
        """An input error for what is never deleted: the blueprint `clone-from` names, and an environment
        whose mode is not PREVIEW or DEVELOPMENT (PRODUCTION, STAGING, or not known)."""
        given = self.plan.given.get("environment", f"`{self.wanted}`")
        blueprint = canonical_uuid(self.plan.clone_from or "")
        named = f"{_shown(target.name)} ({target.environment_id})"
        if blueprint is not None and blueprint == target.environment_id:
            why = (
                f"{named} is the blueprint `clone-from` names ({self.plan.given.get('clone_from')}), which "
                "this step never deletes"
            )
            fix = "give the preview its own name, such as pr-42"
        elif target.mode not in PREVIEW_MODES:  # a PRODUCTION or STAGING one is long-lived
            mode = target.mode and _shown(target.mode)
            why = (
                f"{named} is {a_mode(target.mode)}, which this step never deletes: it deletes PREVIEW and "
                "DEVELOPMENT environments only"
            )
            fix = (
                "set `environment` to the preview's name, such as pr-42; delete "
                f"{f'a {mode}' if mode else 'any other'} environment in the Qovery console"
            )
        else:
            return
        raise InputError(f"Invalid input `environment` ({given}): {why}. Fix: {fix}.")

    # -- its state, before anything is sent --------------------------------------------------------------

    def _act(self, target: Target) -> RunOutcome:
        """What its state calls for: nothing (gone), a dry run's word, a wait for a deletion already under
        way, or the DELETE."""
        what = f"Qovery environment {target.name}" + (f" ({target.project})" if target.project else "")
        state = self._state(target) or ""  # read once before anything is sent
        if state == "DELETED":
            self.ctx.events.begin(f"{what}: nothing to delete")
            return self._gone_already(target)
        self.already = state in BEING_DELETED
        if self.plan.dry_run:
            self.ctx.events.begin(f"Dry run: checking the deletion of {what}")
            return self._dry_run(target, state)
        if self.already:
            self.ctx.events.begin(f"Waiting for the deletion of {what}, already under way")
            return self._join(target, state)
        self.ctx.events.begin(f"Deleting {what}")
        return self._delete(target)

    def _state(self, target: Target) -> str | None:
        """The environment's state now (`GET /environment/{id}/status`: the list and `GET /environment/{id}`
        do not say it): DELETED when it is gone (a 404), None when Qovery does not say."""
        try:
            return self.ctx.client.environment_state(target.environment_id).state
        except RefusedError as error:
            if error.status_code != 404:
                raise
            return "DELETED"  # gone: what a 404 says now

    def _gone_already(self, target: Target) -> RunOutcome:
        return self.ended(
            Verdict.SUCCEEDED, f"Environment {target.name} no longer exists: nothing to delete.", absent=True
        )

    def _dry_run(self, target: Target, state: str) -> RunOutcome:
        said = f"Dry run: environment {target.name} ({target.environment_id}, {target.mode})"
        if self.already:
            self.state = state
            return self.ended(
                Verdict.PLANNED,
                f"{said} is already being deleted ({_shown(state)}), by an earlier request: a run would send "
                "no DELETE, and wait until it is gone. Nothing was deleted.",
            )
        return self.ended(Verdict.PLANNED, f"{said} would be deleted. Nothing was deleted.")

    def _join(self, target: Target, state: str) -> RunOutcome:
        """A deletion already under way (an earlier request: another run, the console): no DELETE is sent,
        and the run says it did not delete the environment."""
        self.state = state
        said = f"Environment {target.name} is already being deleted ({_shown(state)}), by an earlier request"
        if not self.plan.waiting.wait:
            return self.ended(Verdict.ACCEPTED, f"{said}: no DELETE sent; not waiting for it (wait: false).")
        self.log.info(f"{said}: no DELETE sent; waiting until it is gone")
        return self._wait(target)

    # -- deleting ---------------------------------------------------------------------------------------

    def _delete(self, target: Target) -> RunOutcome:
        self.sent = True
        try:
            self.ctx.client.delete_environment(target.environment_id)
        except RefusedError as error:
            if error.status_code == 404:  # gone since it was listed
                return self._gone_already(target)
            if error.status_code == 403:
                source = self.plan.given.get("api_token", "value not shown")
                return self.ended(
                    Verdict.ERROR,
                    f"Qovery refused to delete environment {target.name} (HTTP 403): deleting an environment "
                    f"needs the admin permission, which the API token ({source}) lacks. Fix: use a token "
                    "whose role is admin on the environment's project.",
                )
            raise
        self.deleted = True
        if not self.plan.waiting.wait:
            return self.ended(Verdict.ACCEPTED, "Deletion requested; not waiting for it (wait: false).")
        self.log.info(f"Deletion of {target.name} requested: waiting until it is gone")
        return self._wait(target)

    def _wait(self, target: Target) -> RunOutcome:
        """Until it is gone; or, once the deletion was seen under way (or DELETE_GRACE_SECONDS of settled
        states: the stale ones from before the DELETE end within it), until a settled state other than
        DELETED says it stopped. States in progress, unknown or unsaid never end the wait: `timeout` does."""
        clock, deadline = self.ctx.clock, self.ctx.deadline
        started = clock.now()
        seen = self.already  # the deletion seen under way: joining, the first read's state was
        quiet_since = started  # since then, Qovery showed nothing in progress
        pause = Pause(self.ctx, self.plan.waiting.poll_interval)
        while True:
            if deadline.left() <= 0:
                return self._timed_out(seen=seen)
            pause.sleep()
            try:
                state = self._state(target)
            except TransientError as error:
                if error.deadline_reached:
                    return self._timed_out(f"while its state could not be read ({error})", seen=seen)
                raise
            if state not in (self.state, "DELETED"):
                self.log.state(state or "no state")
                self.state = state
            if state == "DELETED":
                waited = f"{clock.now() - started:.0f}s"
                if self.already:
                    return self.ended(
                        Verdict.SUCCEEDED,
                        f"Environment {target.name} was already being deleted; it is gone now (waited "
                        f"{waited}; no DELETE sent).",
                    )
                return self.ended(
                    Verdict.SUCCEEDED, f"Environment {target.name} deleted in {waited}: it is gone."
                )
            seen = seen or state in BEING_DELETED
            if state is None or kind_of(state, "DELETED") in (StateKind.IN_PROGRESS, StateKind.UNKNOWN):
                quiet_since = clock.now()  # under way (this deletion, or what it waits behind), or unsaid
            elif seen or clock.now() - quiet_since >= DELETE_GRACE_SECONDS:
                return self._stopped(target, state)

    def _stopped(self, target: Target, state: str) -> RunOutcome:
        """A settled state other than DELETED: the deletion ended, not deleting (an error, or cancelled)."""
        if state.endswith("_ERROR"):
            return self.ended(
                Verdict.FAILED, f"Qovery could not delete environment {target.name} ({_shown(state)})."
            )
        which = "The earlier deletion" if self.already else "The deletion"
        return self.ended(
            Verdict.FAILED,
            f"{which} of {target.name} stopped: its state is {_shown(state)}, not deleted (cancelled in "
            "Qovery?). Nothing was deleted.",
        )

    def _timed_out(self, how: str = "", *, seen: bool = True) -> RunOutcome:
        last = _shown(self.state) or "no state read yet"
        how = f" {how}" if how else ""
        if not seen:  # Qovery showed no deletion yet: what it shows may be what the deletion waits behind
            return self.ended(
                Verdict.TIMED_OUT,
                f"Timed out before Qovery showed the deletion under way ({last}){how}: it may still run in "
                "Qovery. Raise `timeout` to wait for its end.",
            )
        return self.ended(
            Verdict.TIMED_OUT,
            f"Timed out with the deletion still in progress ({last}){how}: it goes on in Qovery. Raise "
            "`timeout` to wait for its end.",
        )

    def ended(self, verdict: Verdict, message: str, *, absent: bool = False) -> RunOutcome:
        target = self.target
        environment = PreviewEnvironment(
            target.environment_id if target else None, target.name if target else self.wanted
        )
        if verdict is Verdict.SUCCEEDED and not absent:
            self.state = None  # gone: it has no state left
        return RunOutcome(
            [],
            self.signum,
            dry_run=self.plan.dry_run,
            elapsed_seconds=self.ctx.clock.now() - self.ctx.started_at,
            environment=environment,
            deletion=Deletion(verdict, message, self.state, absent=absent, already=self.already),
        )

    def _token_problem(self, error: ActionError) -> str | None:
        if not token_refused(error, first_read=not (self.deleted or self.already)):
            return None
        source = self.plan.given.get("api_token", "value not shown")
        return f"the API token ({source}) was refused: {error}"


def _shown(name: str | None) -> str:
    return one_line(name or "", 60)
