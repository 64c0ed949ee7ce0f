"""The step's inputs for the tests, in one place: the API token and what each test gives.

An input is named as in action.yml; a keyword spells its hyphens as underscores (`job_id=` is `job-id`), and
`**{"job-id": ...}` is taken as it is. Each builder's keywords add inputs or override its own.
"""

from __future__ import annotations

from qovery_job_deploy.simulator import JobScript, QoverySimulator
from support.sims import FAST, TOKEN, SimFactory, job

ENV = "e0e0e0e0-0000-4000-8000-0000000000aa"  # the environment of `service` and `release`
BUILT = {"application", "container"}  # built before they deploy
TAG, COMMIT, CHART = "v2.0.0", "fedcba9876543210fedcba9876543210fedcba98", "2.0.0"


def inputs(**given: str) -> dict[str, str]:
    """The API token and the inputs given."""
    return {"api-token": TOKEN} | _named(given)


def sim_inputs(sim: QoverySimulator, **given: str) -> dict[str, str]:
    """The inputs that reach `sim`, polled at FAST, and the inputs given."""
    return inputs(api_url=sim.url, poll_interval=FAST) | _named(given)


def job_inputs(sim: QoverySimulator, script: JobScript, **given: str) -> dict[str, str]:
    """The inputs that deploy `script` on `sim`, polled at FAST."""
    return sim_inputs(sim, job_id=script.job_id) | _named(given)


def jobs_inputs(sim: QoverySimulator, jobs: str, **given: str) -> dict[str, str]:
    """The inputs that deploy the jobs named `jobs` in shop / production on `sim`, polled at FAST."""
    return sim_inputs(sim, jobs=jobs, project="shop", environment="production") | _named(given)


def release_inputs(sim: QoverySimulator, services: str, **given: str) -> dict[str, str]:
    """The inputs that deploy `services` of ENV on `sim`, polled at FAST, with a value for each kind."""
    release = sim_inputs(sim, services=services, environment=ENV)
    return release | _named({"image-tag": TAG, "git-commit-id": COMMIT, "chart-version": CHART} | given)


def _named(given: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in given.items()}


def timeline(kind: str, end: str, length: float = 1.0) -> list[tuple[float, str]]:
    """A deployment of `kind` that ends in `end` after `length` seconds (built kinds build first)."""
    middle = [(0.2, "BUILDING"), (0.5, "DEPLOYING")] if kind in BUILT else [(0.3, "DEPLOYING")]
    return [(0.0, "QUEUED"), *middle, (length, end)]


def service(kind: str, name: str, end: str = "DEPLOYED", length: float = 1.0, **options: object) -> JobScript:
    """A service of `kind` named `name`, in ENV unless `environment_id=` says otherwise."""
    options = {"environment_id": ENV} | options
    return job(timeline=timeline(kind, end, length), kind=kind, job_name=name, **options)


def release(
    simulator: SimFactory, *more: JobScript, web_end: str = "DEPLOYED"
) -> tuple[QoverySimulator, list[JobScript]]:
    """A simulator with a release of ENV: job migrate, container api and application web (whose build
    fails when `web_end` says so), then `more`."""
    scripts = [
        service("job", "migrate"),
        service("container", "api", length=1.5),
        service("application", "web", web_end, length=2.0, log_lines=["npm ERR! build failed"]),
        *more,
    ]
    return simulator(*scripts), scripts
