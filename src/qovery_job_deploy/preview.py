"""A pull request's own environment (`clone-from`): find the preview by its name, or clone the blueprint
into it and deploy everything in the clone, in Qovery's stage order.

- The blueprint, by name or UUID, and the preview, by name (case-insensitive, as Qovery compares names), are
  looked up in one list: the project's (`project`), or each project of the organization's. A blueprint that
  does not exist is an input error that lists the names there, closest first: nothing is cloned.
- An environment of the preview's name whose mode is not PREVIEW or DEVELOPMENT (`cloning.PREVIEW_MODES`,
  what `delete-environment` deletes) is no preview: an input error before anything is posted (`_refuse`), so
  that `environment: production` with `clone-from` never redeploys production.
- A preview that exists is used as it is, the blueprint untouched: what is named deploys into it, as in any
  run (`Prepared.whole` is None). With nothing named (no `job-id`, `jobs` or `services`), the whole preview
  deploys again, as a fresh clone does: every service, in the preview's stage order, each what it is
  configured with (`_again`).
- Else everything is planned in the blueprint first, so that a wrong name or value is an input error before
  anything is cloned: the services named (with the values given) and every other service (with no value:
  what the blueprint runs, since nothing runs in a clone yet), in the order of the blueprint's stages
  (`GET /environment/{id}/deploymentStage`; a clone has the same); a service its stage skips in
  environment-level deployments is left out, unless named. Then `POST /environment/{id}/clone {name, mode:
  PREVIEW, apply_deployment_rule: true}`, and the clone's lists are read again until each service of the
  blueprint is listed there (`cloning.py`, which also answers a clone refused because another run made it
  meanwhile: that environment is used, once its services are listed, as one that existed).
- A preview that exists but does not list a service named (or, with nothing named, lists none) may be
  another run's clone, made moments ago: it is waited for as a clone (`settle`, `_again`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from qovery_job_deploy.api.errors import short_error
from qovery_job_deploy.api.models import Named
from qovery_job_deploy.cloning import MODE, PREVIEW_MODES, Cloning, a_mode, key, same
from qovery_job_deploy.context import Context
from qovery_job_deploy.deploy import ServiceRun
from qovery_job_deploy.directory import Directory
from qovery_job_deploy.errors import ActionError, InputError
from qovery_job_deploy.identity import ServiceIdentity, canonical_uuid
from qovery_job_deploy.inputs.plan import Plan
from qovery_job_deploy.kinds import KINDS, Deploy
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Outcome, PreviewEnvironment, Verdict
from qovery_job_deploy.plan import deploys
from qovery_job_deploy.resolve import Place, Resolver, Scope, identity_in, pick
from qovery_job_deploy.text import one_line
from qovery_job_deploy.urls import chosen

LINK_BUDGET_SECONDS = 5.0  # the preview's link is for the report: one try
WOULD = "a run would deploy"  # a dry run's words for what it does not do


@dataclass(frozen=True)
class Whole:
    """Everything a fresh clone deploys (or, with nothing named, a preview deployed whole again), in stage
    order: each service, its deploy request, its stage's position and whether it was named."""

    identities: list[ServiceIdentity]
    deploys: list[Deploy]
    stages: list[int]
    named: list[bool]


@dataclass(frozen=True)
class Prepared:
    """The preview a run deploys into. `whole`: everything in it deploys (a fresh clone's, or, in a dry run
    that would clone, what would; with nothing named, also a preview that exists); None: what is named, as
    in any run."""

    place: Place  # the preview's (a dry run's clone not made has no id)
    blueprint: Place
    cloned: bool = False  # this run cloned it
    whole: Whole | None = None
    would_clone: bool = False  # a dry run: nothing was cloned


class _Quiet:
    """A log that says nothing: the names checked in the blueprint are the clone's to say."""

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def state(self, state: str) -> None:
        pass


class Previews:
    def __init__(self, plan: Plan, ctx: Context, directory: Directory, resolver: Resolver) -> None:
        self.plan = plan
        self.ctx = ctx
        self.log = ctx.log
        self.directory = directory
        self.resolver = resolver
        self.scope = Scope(plan.organization, plan.project, plan.environment)
        self.cloning = Cloning(ctx, directory, plan.waiting.poll_interval)
        # The preview, as soon as it is known: a clone is kept and reported whatever happens after.
        self.prepared: Prepared | None = None

    def prepare(self) -> Prepared:
        """Find the preview, or plan everything in the blueprint and clone it (not in a dry run). Raises
        InputError before anything is cloned, NotReady or an ActionError after."""
        name = (self.plan.environment or "").strip()
        organization_id, projects = self.resolver.projects(self.scope)
        candidates = [(p, env) for p in projects for env in self.directory.environments(str(p.id))]
        blueprint = self._blueprint(candidates, projects, organization_id)
        if (found := _named(candidates, blueprint.project_id, name)) is not None:
            self._refuse(found)
            what = ": deploying into it what is named" if self.plan.services else ""  # else said next
            self.log.info(
                f"environment {found.name} -> {found.id} (it exists{what}; {blueprint.environment_name} is "
                "untouched)"
            )
            place = _place_of(found, blueprint)
            self.prepared = Prepared(place, blueprint)
            if not self.plan.services:
                self.prepared = Prepared(place, blueprint, whole=self._again(place, blueprint))
            return self.prepared
        whole = self._whole(blueprint)
        where = f"project {one_line(blueprint.project_name or blueprint.project_id or '', 60)}"
        if self.plan.dry_run:
            self.log.info(f"environment {name} does not exist in {where}: a run would clone it")
            place = _place_of(Named(id="", name=name, mode=MODE), blueprint)
            self._nothing_named(place, whole, WOULD)
            self.prepared = Prepared(place, blueprint, whole=_unmade(place, whole), would_clone=True)
            return self.prepared
        self.log.info(
            f"environment {name} does not exist in {where}: cloning {blueprint.environment_name} "
            f"({blueprint.environment_id}) into it, mode {MODE}, with the project's deployment rules"
        )
        made, cloned = self.cloning.clone(blueprint, name)
        if not cloned:  # the name taken meanwhile: that environment, a preview or refused as one found
            self._refuse(made)
        place = _place_of(made, blueprint)
        self.prepared = Prepared(place, blueprint, cloned=cloned)
        if cloned:
            self.log.info(f"cloned {blueprint.environment_name} -> {place.environment_name} ({made.id})")
        self.cloning.wait(place, blueprint)
        # Another run's clone, made at the same time, is deployed whole by that run: this one deploys what
        # it names, or, with nothing named, the whole of it too.
        if cloned or not self.plan.services:
            whole = self._in_clone(place, whole)
            self._nothing_named(place, whole, "deploying")
            self.prepared = Prepared(place, blueprint, cloned=cloned, whole=whole)
        return self.prepared

    def _refuse(self, found: Named) -> None:
        """An input error, before anything is posted, for an environment of the preview's name that is no
        preview: `clone-from` deploys only into a PREVIEW or DEVELOPMENT environment (the modes
        `delete-environment` deletes), never into a long-lived one (PRODUCTION, STAGING, or a mode not known)
        that happens to bear the name."""
        if found.mode in PREVIEW_MODES:
            return
        given = self.plan.given.get("environment", f"`{self.plan.environment}`")
        raise InputError(
            f"Invalid input `environment` ({given}): {_shown(found)} ({found.id}) is {a_mode(found.mode)}, "
            f"and `clone-from` deploys only into a preview ({' or '.join(PREVIEW_MODES)}). Fix: give the "
            "preview its own name, such as pr-42."
        )

    def _again(self, place: Place, blueprint: Place) -> Whole:
        """Nothing named, and the preview exists: the whole of it again, as a fresh clone deploys, in its
        own stage order, each service what it is configured with. A preview that lists no service yet may
        be another run's clone, made moments ago: waited for as a clone first (NotReady as a clone's)."""
        if not any(self.directory.services(kind, place.environment_id) for kind in KINDS.values()):
            self.cloning.wait(place, blueprint)
        whole = self._whole(place)
        self._nothing_named(place, whole, WOULD if self.plan.dry_run else "deploying", again=True)
        return whole

    def _nothing_named(self, place: Place, whole: Whole, doing: str, *, again: bool = False) -> None:
        """Why everything deploys, said once what it is is known."""
        if not self.plan.services:
            count = len(whole.identities)
            self.log.info(
                f"nothing named: {doing} the whole environment {place.environment_name}"
                f"{' again' if again else ''} ({count} {'service' if count == 1 else 'services'}), each "
                "service what it is configured with"
            )

    def environment(self, prepared: Prepared, *, read_link: bool = True) -> PreviewEnvironment:
        """The preview as the report says it, with its default link (one try: a failure is one line)."""
        place = prepared.place
        url = None
        if place.environment_id and read_link:
            try:
                # The read the services' URLs made, if they did (`urls.located`): one a run.
                links = self.directory.environment_links(place.environment_id, budget=LINK_BUDGET_SECONDS)
                url = chosen(links.results)  # as each service's URL is chosen (`urls.py`)
            except ActionError as error:
                self.log.info(f"The preview's link is unavailable ({short_error(error)})")
        return PreviewEnvironment(
            place.environment_id or None,
            place.environment_name,
            url,
            cloned=prepared.cloned,
            cloned_from=prepared.blueprint.environment_name if prepared.cloned else None,
            whole=not self.plan.services,
        )

    def kept(self) -> None:
        """After a clone, whatever went wrong: the clone stays, for the next run."""
        if self.prepared is not None and self.prepared.cloned:
            place = self.prepared.place
            self.log.info(
                f"The clone {place.environment_name} ({place.environment_id}) is kept: the next run deploys "
                "into it what it names, or the whole of it again when nothing is named"
            )

    # -- finding ----------------------------------------------------------------------------------------

    def _blueprint(
        self,
        candidates: list[tuple[Named, Named]],
        projects: list[Named],
        organization_id: str | None,
    ) -> Place:
        wanted = (self.plan.clone_from or "").strip()
        by_id = canonical_uuid(wanted)
        matches = [pair for pair in candidates if by_id and pair[1].id == by_id]
        where = f"project {_shown(projects[0])}" if len(projects) == 1 else None
        if by_id and not matches:
            names = ", ".join(sorted(_shown(env) for _, env in candidates)[:10]) or "none"
            raise InputError(
                f"Invalid input `clone-from` ({self.plan.given.get('clone_from', wanted)}): no environment "
                f"has the id {by_id} in {where or 'the organization'}. Environments there: {names}. Fix: "
                "give the blueprint's name or UUID, as in the Qovery console."
            )
        project, blueprint = (
            matches[0]
            if matches
            else pick(
                "clone-from",
                wanted,
                candidates,
                name_of=lambda pair: pair[1].name or "",
                where=where or "every project of the organization",
                describe=lambda pair: f"{_shown(pair[1])} (id {pair[1].id}, project {_shown(pair[0])})",
                what="environment",
                given=self.plan.given.get("clone_from"),
            )
        )
        self.log.info(f"blueprint {blueprint.name} -> {blueprint.id} (clone-from)")
        return Place(
            str(blueprint.id), blueprint.name, str(project.id), project.name, organization_id, blueprint.mode
        )

    # -- planning everything in the blueprint, before anything is cloned --------------------------------

    def _whole(self, place: Place) -> Whole:
        """The named services, checked in `place` (the blueprint, or a preview deployed whole again), and
        every other one, each with its deploy request, in stage order: InputError here, before anything is
        cloned or posted."""
        plan = self.plan
        quiet = Resolver(self.directory, _Quiet(), plan.given, plan.platform)
        refs = [(item.kind, item.ref) for item in plan.services]
        named = quiet.services(refs, self.scope, input_name=plan.input_name, place=place)
        order, skipped = self._stages(place.environment_id)  # by id: (its stage, its place there)
        others = [
            identity_in(place, str(item.id), item.name, kind.name)
            for kind in KINDS.values()
            for item in self.directory.services(kind, place.environment_id)
            if str(item.id) not in {one.service_id for one in named}
        ]
        for left_out in [one for one in others if one.service_id in skipped]:
            self.log.info(f"{left_out.name}: its stage skips it in environment-level deployments: left out")
        everything = named + [one for one in others if one.service_id not in skipped]
        if not everything:  # only with nothing named: a service named is never left out
            raise InputError(
                f"Invalid input `clone-from` ({plan.given.get('clone_from', plan.clone_from)}): nothing is "
                f"named, so the whole environment deploys, and {_shown_place(place)} has no service an "
                "environment-level deployment deploys (none, or its stages skip each one): nothing to "
                "deploy. Fix: name the services to deploy in `services` or `jobs`."
            )
        unstaged = (max((stage for stage, _ in order.values()), default=0) + 1, 0)  # in no stage: last
        everything.sort(key=lambda one: order.get(one.service_id, unstaged))  # stable: in none, named first
        unnamed = {one.service_id for one in others}
        planned = deploys(
            self.directory.service, everything, plan.request, self.log, given=plan.given, unnamed=unnamed
        )
        stages = [order.get(one.service_id, unstaged)[0] for one in everything]
        return Whole(everything, planned, stages, [one.service_id not in unnamed for one in everything])

    def _stages(self, environment_id: str) -> tuple[dict[str, tuple[int, int]], set[str]]:
        """Each service's stage and its place in it, and the services environment-level deployments skip."""
        order: dict[str, tuple[int, int]] = {}
        skipped: set[str] = set()
        for position, stage in enumerate(self.ctx.client.deployment_stages(environment_id).ordered(), 1):
            for place, service in enumerate(stage.services):
                if service.service_id:
                    order[service.service_id.lower()] = (position, place)
                    if service.is_skipped:
                        skipped.add(service.service_id.lower())
        return order, skipped

    def settle(self) -> bool:
        """After a name not found in a preview that exists: whether it did not list every service of the
        blueprint yet (another run cloned it moments ago), waited for; False when it did (the name is
        wrong). NotReady as a clone's wait."""
        prepared = self.prepared
        if prepared is None or prepared.cloned or not prepared.place.environment_id:
            return False
        return self.cloning.wait(prepared.place, prepared.blueprint)

    def _in_clone(self, place: Place, whole: Whole) -> Whole:
        """The blueprint's services as the clone has them: the same kinds and names, the clone's ids."""
        ids: dict[tuple[str, str], list[str]] = {}
        for kind in {KINDS[one.kind] for one in whole.identities}:
            for item in self.directory.services(kind, place.environment_id):
                ids.setdefault((kind.name, key(item.name)), []).append(str(item.id))
        taken: Counter[tuple[str, str]] = Counter()
        identities = []
        for one in whole.identities:
            named = (one.kind, key(one.name))
            identities.append(identity_in(place, ids[named][taken[named]], one.name, one.kind))
            taken[named] += 1
        return Whole(identities, whole.deploys, whole.stages, whole.named)


def would_clone(prepared: Prepared, runs: Sequence[ServiceRun], log: Log) -> list[Outcome]:
    """A dry run's outcomes when the preview does not exist: what a run would clone and deploy."""
    name, blueprint = prepared.place.environment_name, prepared.blueprint.environment_name
    outcomes = []
    for run in runs:
        message = (
            f"Dry run: {name} would be cloned from {blueprint}, and this {run.kind.noun} deployed "
            f"({run.deploy.described(run.kind.noun)}). Nothing was cloned or posted."
        )
        outcomes.append(Outcome(run.known, Verdict.PLANNED, message, 0.0))
        if len(runs) > 1:
            log.info(outcomes[-1].verdict_line())
    return outcomes


def _unmade(place: Place, whole: Whole) -> Whole:
    """A dry run's clone, not made: its services by name (no id yet)."""
    identities = [
        identity_in(place, one.name or one.service_id, one.name, one.kind) for one in whole.identities
    ]
    return Whole(identities, whole.deploys, whole.stages, whole.named)


def _named(candidates: Sequence[tuple[Named, Named]], project_id: str | None, name: str) -> Named | None:
    return next(
        (env for project, env in candidates if str(project.id) == project_id and same(env.name, name)), None
    )


def _place_of(environment: Named, blueprint: Place) -> Place:
    """The preview, in the blueprint's project, with its mode (what a GitHub deployment record says)."""
    return Place(
        str(environment.id),
        environment.name,
        blueprint.project_id,
        blueprint.project_name,
        blueprint.organization_id,
        environment.mode,
    )


def _shown(item: Named) -> str:
    return one_line(item.name or str(item.id), 60)


def _shown_place(place: Place) -> str:
    return f"environment {one_line(place.environment_name or place.environment_id, 60)}"
