"""The run, from a plan to verdicts: resolve the names, deploy and follow, then explain.

`deploy(plan, ctx)` runs one `Engine` once; every way the run can end becomes a `RunOutcome`, except an
input error (a name that matches nothing), which is raised for `main` to report. If something unexpected
escapes, the boundary in `deploy` asks `abandoned()` for the outcome with what is known.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qovery_job_deploy.api.errors import ApiError, rate_limited_out, short_error, token_refused
from qovery_job_deploy.cloning import NotReady
from qovery_job_deploy.context import Context, bounded
from qovery_job_deploy.deploy import Deployments, Options, ServiceRun, held_back
from qovery_job_deploy.diagnosis import explain, linked
from qovery_job_deploy.directory import Directory
from qovery_job_deploy.errors import ActionError, InputError, Interrupted
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.inputs.names import holds_a_token
from qovery_job_deploy.inputs.plan import Plan
from qovery_job_deploy.kinds import KINDS, WHOLE_ENVIRONMENT, Deploy, noun_of
from qovery_job_deploy.labels import complete_identities
from qovery_job_deploy.live import LiveLog, Tailed
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import Known, Outcome, RunOutcome, Verdict
from qovery_job_deploy.plan import deploys
from qovery_job_deploy.preview import Prepared, Previews, would_clone
from qovery_job_deploy.reading import StatusReader
from qovery_job_deploy.resolve import Resolver, Scope
from qovery_job_deploy.stages import StagedDeployments


def deploy(plan: Plan, ctx: Context, unexpected: Callable[[Exception], str]) -> RunOutcome:
    """The run, from a plan to every service's verdict; it knows no runner. An input error (a name that
    matches nothing) is raised: nothing was deployed. Anything unexpected ends the services still without a
    verdict with `unexpected(error)`, the one line that says it."""
    engine = Engine(plan, ctx)
    return bounded(engine.run, engine.abandoned, unexpected)


class Engine:
    def __init__(self, plan: Plan, ctx: Context) -> None:
        self.plan = plan
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        self.log = ctx.log
        self.deadline = ctx.deadline
        self.given = plan.given
        # Until the names are resolved, each service is known by the name or id it was given; with nothing
        # named (`clone-from`: the whole preview), the preview is, by its name.
        given = [(item.kind or "", item.ref) for item in plan.services]  # kind "": any
        unresolved = [  # a token pasted into a name input is never shown, even as a label
            ServiceIdentity("(not shown)" if holds_a_token(ref) else ref, kind=kind)
            for kind, ref in given or [(WHOLE_ENVIRONMENT, (plan.environment or "").strip())]
        ]
        self.runs = [
            ServiceRun(identity, ctx.log, Known(identity.service_id, identity=identity))
            for identity in unresolved
        ]
        self.deployments: Deployments | StagedDeployments | None = None
        self.asked = plan.request  # until each service's request is planned: what was given
        self.previews: Previews | None = None  # `clone-from`: a preview, found or cloned
        # Each list and each service read once, shared by the names, the labels and the plan; and each link,
        # after the verdicts: the services' URLs and a preview's own link.
        self.directory = Directory(self.client, decides=lambda kind: kind.needs_source(plan.request))

    def run(self) -> RunOutcome:
        plan = self.plan
        try:
            try:
                resolver = Resolver(self.directory, self.log, self.given, plan.platform)
                identities, planned, named = self._services(self.directory, resolver)
            except InputError:
                raise  # nothing to open: the caller reports an input error
            except BaseException as error:
                refused = self._token_problem(error)
                if refused is not None:  # first: why nothing else will happen, where the token came from
                    self.log.info(f"error: {refused}")
                # The report that follows needs the group open; its title does not claim a deployment.
                self.ctx.events.begin(_title([run.identity for run in self.runs], nothing=True))
                if refused is not None:  # the verdict's line, last, says it in short: not twice in full
                    short = short_error(error) if isinstance(error, ActionError) else "refused"
                    return self._everyone(
                        Verdict.ERROR, f"Nothing was deployed: the API token was refused ({short})."
                    )
                raise
            # What the report says was deployed: the values the named services took.
            self.asked = plan.request.taken_by(
                [one for one, by_name in zip(planned, named, strict=True) if by_name]
            )
            self.ctx.events.begin(_title(identities, dry_run=plan.dry_run) + self._into())
            several = len(identities) > 1
            self.runs = [
                _service_run(identity, deploy, self.log, several=several)
                for identity, deploy in zip(identities, planned, strict=True)
            ]
            if plan.dry_run:
                return self._ended(self._dry_run(), announced=several)
            self.deployments = self._deployments(several)
            outcomes = self.deployments.run()
            ended = self.clock.now()
            if self.deployments.signum is None:
                outcomes = self._explained(outcomes)
            else:  # after a signal, stop promptly: no more reads, but the console links need none
                outcomes = linked(outcomes, plan)
            return self._ended(outcomes, self.deployments.signum, announced=several, at=ended)
        except Interrupted as interruption:  # while resolving names: before anything was deployed
            return self._everyone(
                Verdict.CANCELLED, "Interrupted; nothing was deployed.", interruption.signum
            )
        except InputError:
            if self.previews is not None:
                self.previews.kept()
            raise
        except ActionError as error:  # while resolving names (or cloning): nothing was deployed
            return self._nothing_deployed(error)

    def _nothing_deployed(self, error: ActionError) -> RunOutcome:
        """Every service ends in `error`, met before anything was deployed."""
        if isinstance(error, NotReady):  # a clone's services not listed in time (`_ended` says it is kept)
            verdict = Verdict.TIMED_OUT if error.timed_out else Verdict.ERROR
            return self._everyone(verdict, f"Nothing was deployed: {error}.")
        if rate_limited_out(error):  # a 429 waited out until `timeout`: the timeout's verdict
            return self._everyone(Verdict.TIMED_OUT, held_back(error))
        return self._everyone(Verdict.ERROR, f"Nothing was deployed: {error}")

    def _services(
        self, directory: Directory, resolver: Resolver
    ) -> tuple[list[ServiceIdentity], list[Deploy], list[bool]]:
        """The services to deploy, each with its deploy request and whether it was named: those named, or,
        in a preview that this run cloned, everything in it (`preview.py`), in stage order."""
        plan = self.plan
        refs = [(item.kind, item.ref) for item in plan.services]
        scope = Scope(plan.organization, plan.project, plan.environment)
        place = None
        if plan.clone_from:
            self.previews = Previews(plan, self.ctx, directory, resolver)
            prepared = self.previews.prepare()
            if (whole := prepared.whole) is not None:
                identities = whole.identities
                if not prepared.would_clone:  # a clone not made has no names to complete
                    identities = complete_identities(directory, identities, self.log)
                return identities, whole.deploys, whole.named
            place = prepared.place
        try:
            found = resolver.services(refs, scope, input_name=plan.input_name, place=place)
        except InputError:
            if self.previews is None or not self.previews.settle():  # not a clone still being made
                raise
            found = resolver.services(refs, scope, input_name=plan.input_name, place=place)
        identities = complete_identities(directory, found, self.log)
        planned = deploys(directory.service, identities, plan.request, self.log, given=self.given)
        return identities, planned, [True] * len(identities)

    def _deployments(self, several: bool) -> Deployments | StagedDeployments:
        """Every service at once (or in sequence); a fresh clone's, stage after stage."""
        live = self._live(several)

        def deployments(runs: list[ServiceRun]) -> Deployments:
            return Deployments(self.ctx, runs, _options(self.plan), live=live, several=several)

        whole = self.prepared.whole if self.prepared is not None else None
        if whole is None:
            return deployments(self.runs)
        return StagedDeployments(self.runs, whole.stages, deployments, self.log)

    @property
    def prepared(self) -> Prepared | None:
        """The preview, once found or cloned (`clone-from`)."""
        return self.previews.prepared if self.previews is not None else None

    def _into(self) -> str:
        """The title's end in a preview this run clones: ` into pr-42, cloned from staging`; deployed whole
        (nothing named): ` into pr-42 (nothing named: the whole environment)`."""
        prepared = self.prepared
        if prepared is None:
            return ""
        blueprint, whole = prepared.blueprint.environment_name, not self.plan.services
        into = f" into {prepared.place.environment_name}" + (
            " (nothing named: the whole environment)" if whole else ""
        )
        if prepared.would_clone:
            return f"{into}, which a run would clone from {blueprint}"
        if prepared.cloned:
            return f"{into}, cloned from {blueprint}"
        return into if whole else ""

    def _token_problem(self, error: BaseException) -> ApiError | None:
        """A token Qovery refused before anything was deployed (a 401, or a 403 on what it was to deploy),
        said with where the token came from; None for any other error."""
        if not token_refused(error, first_read=True):
            return None
        source = self.given.get("api_token", "value not shown")
        return ApiError(f"the API token ({source}) was refused: {error}")

    def _live(self, several: bool) -> LiveLog | None:
        if self.plan.reporting.logs != "live":
            return None

        def show(run: Tailed, lines: Sequence[str]) -> None:
            self.ctx.events.live(run.name if several else "", lines)

        return LiveLog(self.ctx, show, list(self.plan.secrets))

    def _dry_run(self) -> list[Outcome]:
        """What would be deployed, explained; in a preview that does not exist, what would be cloned."""
        if self.prepared is not None and self.prepared.would_clone:
            return would_clone(self.prepared, self.runs, self.log)
        return self._explained(self._statuses())

    def _explained(self, outcomes: list[Outcome]) -> list[Outcome]:
        """`explain`, its links read through the run's `Directory`: a preview's own link (`_ended`) is the
        same read of its environment's links as its services' URLs."""
        prepared = self.prepared
        preview = {prepared.place.environment_id} if prepared and prepared.place.environment_id else set()
        return explain(outcomes, self.plan, self.ctx, self.directory, read_anyway=preview)

    def _statuses(self) -> list[Outcome]:
        """Each service's status, which proves that the token sees it, and what would be deployed: the
        names, the values and the force-event were checked on the way here. Nothing is posted."""
        reading = StatusReader(self.ctx).read(self.runs)
        outcomes = []
        for run in self.runs:
            if run.service_id in reading.failures:
                failure = f"Nothing was deployed: {reading.failures[run.service_id]}"
                outcomes.append(Outcome(run.known, Verdict.ERROR, failure, 0.0))
            else:
                state = reading.statuses[run.service_id].state
                what = run.deploy.requested(run.kind.noun)
                message = (
                    f"Dry run: the {run.kind.noun} is {state}; would request {what}. Nothing was posted."
                )
                outcomes.append(Outcome(run.known, Verdict.PLANNED, message, 0.0, current_state=state))
            if len(self.runs) > 1:  # each service's line, as a real run's; one service's is the closing
                self.log.info(outcomes[-1].verdict_line())
        return outcomes

    def abandoned(self, message: str) -> RunOutcome:
        """The outcome after an unexpected error: jobs without a verdict end with `message`."""
        if self.deployments is None:
            return self._everyone(Verdict.ERROR, message)
        self.deployments.end_pending(Verdict.ERROR, message)
        outcomes = [run.outcome for run in self.deployments.runs if run.outcome is not None]
        return self._ended(outcomes, announced=len(outcomes) > 1)

    def _everyone(self, verdict: Verdict, message: str, signum: int | None = None) -> RunOutcome:
        """Every service ends alike, before any was posted: no time spent deploying."""
        outcomes = [Outcome(run.known, verdict, message, 0.0) for run in self.runs]
        return self._ended(outcomes, signum)

    def _ended(
        self,
        outcomes: list[Outcome],
        signum: int | None = None,
        *,
        announced: bool = False,
        at: float | None = None,
    ) -> RunOutcome:
        """The run's outcome; `at`: when the last verdict was reached (now, unless given). A preview's
        environment is said with its link (not read after a signal: the step stops promptly)."""
        environment = None
        if self.previews is not None and self.prepared is not None:
            if not all(outcome.verdict.went_well for outcome in outcomes):
                self.previews.kept()
            environment = self.previews.environment(self.prepared, read_link=signum is None)
        return RunOutcome(
            outcomes,
            signum,
            request=self.asked,
            dry_run=self.plan.dry_run,
            elapsed_seconds=(self.clock.now() if at is None else at) - self.ctx.started_at,
            announced=announced,
            environment=environment,
        )


def _options(plan: Plan) -> Options:
    waiting = plan.waiting
    return Options(
        plan.request,
        waiting.poll_interval,
        wait=waiting.wait,
        sequential=waiting.sequential,
        cancel_on_abort=waiting.cancel_on_abort,
        cancel_on_timeout=waiting.cancel_on_timeout,
    )


def _title(identities: Sequence[ServiceIdentity], *, dry_run: bool = False, nothing: bool = False) -> str:
    """`Deploying Qovery job migrate (shop / production)`; `nothing`: stopped before anything was posted."""
    kinds = {KINDS.get(i.kind) for i in identities}  # "": not known yet
    kind = kinds.pop() if len(kinds) == 1 else None
    doing = "Dry run: checking" if dry_run else "Deploying"
    if len(identities) == 1:
        what = f"Qovery {noun_of(identities[0].kind)} {identities[0].label()}"
    else:
        names = ", ".join(i.short_name() for i in identities)
        what = f"{len(identities)} Qovery {kind.plural if kind else 'services'}: {names}"
    return f"{what}: nothing was deployed" if nothing else f"{doing} {what}"


def _service_run(identity: ServiceIdentity, deploy: Deploy, log: HumanLog, *, several: bool) -> ServiceRun:
    job_log = log.prefixed(identity.short_name()) if several else log
    return ServiceRun(identity, job_log, Known(identity.service_id, identity=identity), deploy=deploy)
