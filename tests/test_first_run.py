"""A new user's first runs, through the whole step on the simulator: every name problem in one run, a
refused token said first with where it came from, each platform's words, names from the API on one line."""

from __future__ import annotations

import uuid
from collections import deque
from pathlib import Path

import pytest
from support.inputs import ENV, job_inputs, release, service, sim_inputs
from support.sims import SimFactory, job
from support.step import assert_secret_absent, run_on

from qovery_job_deploy.simulator import Fault, JobScript, Place

OTHER_ORG = "0a0b0c0d-0000-4000-8000-0000000000f2"


def namesakes() -> list[JobScript]:
    """Beside the release: a second job, and a container and an application of one name."""
    return [
        service("job", "nightly-report"),
        service("container", "shared"),
        service("application", "shared"),
    ]


# -- every name problem in one run ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"jobs": "migrat, nightly-report, nightly-reprt"}, [
            "Invalid input `jobs` (`migrat, nightly-report, nightly-reprt` from the environment variable "
            "QOVERY_JOBS): no job is named 'migrat' in environment production. Names there, closest first: "
            "migrate, nightly-report. Fix: use one of these names, or the job's UUID.",
            "no job is named 'nightly-reprt' in environment production. Names there, closest first: "
            "nightly-report, migrate.",
        ]),
        ({"services": "migrat, ap, shared, container:wbe"}, [
            "no service is named 'migrat' in environment production. Names there, closest first: migrate,",
            "no service is named 'ap' in environment production. Names there, closest first: api,",
            "the service name 'shared' matches 2 in environment production: shared (application, id ",
            "no container is named 'wbe' in environment production. Names there, closest first: shared, api.",
        ]),
        ({"jobs": "migrate, MIGRATE, report, nightly-report, nightly-report"}, [
            "no job is named 'report'",
            "Invalid input `jobs` (`migrate, MIGRATE, report, nightly-report, nightly-report` from the "
            "environment variable QOVERY_JOBS): job migrate (shop / production) is named twice. Fix: list "
            "each once.",
            "job nightly-report (shop / production) is named twice.",
        ]),
        ({"jobs": "migrat, nightly-reprt", "environment": "prod"}, [  # nothing to look the jobs up in
            "Invalid input `environment` (`prod` from the environment variable QOVERY_ENVIRONMENT): no "
            "environment is named 'prod' in project 'shop'. Names there, closest first: "
            "production. Fix: use one of these names, or the environment's UUID.",
        ]),
    ],
)  # fmt: skip
def test_every_name_problem_is_reported_in_one_run_one_line_each(
    simulator: SimFactory, tmp_path: Path, inputs: dict[str, str], said: list[str]
) -> None:
    sim, _ = release(simulator, *namesakes())
    run = run_on("plain", tmp_path, sim_inputs(sim, **({"environment": "production"} | inputs)))

    assert run.code == 2, run.stderr
    problems = run.problems()
    assert len(problems) == len(said), problems
    for problem, words in zip(problems, said, strict=True):
        assert words in problem
        assert problem.startswith("Invalid input `") and "Fix:" in problem
    assert sim.calls("deploy") == 0 and sim.calls("status") == 0  # nothing posted, no status read
    reads = [e.path for e in sim.exchanges if e.method == "GET"]
    assert len(reads) == len(set(reads)), reads  # every problem found, and no list read twice
    assert run.stdout == ""  # an input error writes no result
    named = [line for line in run.stderr.splitlines() if " -> " in line]
    assert len(named) == len(set(named)), named  # each name shown once, though it was given twice


def test_each_unknown_uuid_is_reported_in_one_run(simulator: SimFactory, tmp_path: Path) -> None:
    sim, (_, api, *_) = release(simulator, *namesakes())
    missing = [str(uuid.uuid4()), str(uuid.uuid4())]
    run = run_on("plain", tmp_path, sim_inputs(sim, services=f"{missing[0]}, {api.job_id}, {missing[1]}"))

    assert run.code == 2, run.stderr
    assert len(run.problems()) == 2
    for unknown, problem in zip(missing, run.problems(), strict=True):
        assert f"no service has the id {unknown} in the API token's reach" in problem
    assert sim.calls("deploy") == 0


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"jobs": "migrat", "environment": ENV}, "closest first: mi grate [31m::error::x. Fix:"),
        ({"jobs": "migrate", "environment": "staging"}, "closest first: prod uction. Fix:"),
    ],
)
def test_names_from_the_api_are_shown_on_one_line_without_control_characters(
    simulator: SimFactory, tmp_path: Path, inputs: dict[str, str], said: str
) -> None:
    sim = simulator(service("job", "mi\ngrate\x1b[31m::error::x"))
    sim.places[ENV] = Place(ENV, "prod\r\nuction")
    run = run_on("github", tmp_path, sim_inputs(sim, **inputs))

    assert run.code == 2, run.stderr
    assert len(run.problems()) == 1 and said in run.problems()[0]
    assert "\x1b" not in run.stderr
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1  # one problem, one annotation, however many lines its names held


def test_several_organizations_ask_for_one_in_the_platforms_words(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim, _ = release(simulator, *namesakes())
    other = job(job_name="elsewhere", organization_id=OTHER_ORG)
    sim.services[other.job_id] = other
    sim.places[other.environment_id] = Place(
        other.environment_id, organization_id=OTHER_ORG, organization_name="umbrella"
    )
    run = run_on("gitlab", tmp_path, sim_inputs(sim, jobs="migrate", environment="production"))

    assert run.code == 2, run.stderr
    assert run.problems() == [
        "Missing input `organization` (the variable QOVERY_ORGANIZATION is not set): the API token sees 2 "
        f"organizations: acme (id 0a0b0c0d-0000-4000-8000-000000000001), umbrella (id {OTHER_ORG}). Fix: "
        "give the organization's name or UUID (set the variable QOVERY_ORGANIZATION (in the job's "
        "`variables:`))."
    ]


# -- a refused token: the first line says so, and where the token came from -----------------------------

SOURCES = {
    "plain": "the environment variable QOVERY_API_TOKEN",
    "github": "the GitHub input `api-token`",
    "gitlab": "the variable QOVERY_API_TOKEN",
}


@pytest.mark.parametrize("platform", list(SOURCES))
@pytest.mark.parametrize(
    "given",
    [
        {"jobs": "migrate, api", "environment": "production"},  # names: the lists are the first reads
        {"job-id": "{migrate}"},  # an id: the job's own read is the first
        {"services": "{migrate}, {api}"},  # ids of any type: each kind's read
        {"services": "migrate, container:api", "environment": ENV},  # names in an environment given by id
    ],
    ids=["names", "job-id", "service-ids", "service-names"],
)
def test_a_rejected_token_is_the_first_thing_said_with_where_it_came_from(
    simulator: SimFactory, tmp_path: Path, platform: str, given: dict[str, str]
) -> None:
    sim, (migrate, api, *_) = release(simulator, *namesakes())
    inputs = {name: value.format(migrate=migrate.job_id, api=api.job_id) for name, value in given.items()}
    run = run_on(platform, tmp_path, sim_inputs(sim, api_token="not-a-qovery-token-but-secret", **inputs))

    assert run.code == 3, run.stderr  # Qovery refused a request: not an input error (2)
    said = [
        line.split("] ", 1)[1] for line in run.stderr.splitlines() if "] " in line and "Inputs: " not in line
    ]
    assert said[0].startswith(
        f"error: the API token (value not shown, from {SOURCES[platform]}) was refused: Qovery rejected the "
        "API token (HTTP 401). Check that it is a valid, unexpired token"
    ), said
    assert "unavailable" not in run.stderr  # not taken for a name problem
    assert sim.calls("deploy") == 0
    assert "not-a-qovery-token-but-secret" not in run.stderr
    # Said once in full; nothing claims a deployment; the last word says it in short.
    assert (run.stderr + run.stdout).count("was refused: Qovery rejected the API token") == 1
    assert "Deploying" not in run.stderr and ": nothing was deployed" in (run.stderr + run.stdout)
    assert run.json_result()["message"].endswith(
        "Nothing was deployed: the API token was refused (HTTP 401)."
    )


def test_a_token_not_allowed_to_see_the_job_is_said_first(simulator: SimFactory, tmp_path: Path) -> None:
    script = job()
    script.faults["service"] = deque([Fault(status=403)])
    sim = simulator(script)
    run = run_on("plain", tmp_path, job_inputs(sim, script))

    assert run.code == 3, run.stderr
    assert run.problems()[0].startswith(
        "the API token (value not shown, from the environment variable QOVERY_API_TOKEN) was refused: The API "
        f"token is not allowed to act on job {script.job_id} (HTTP 403)."
    )
    assert sim.calls("deploy") == 0 and sim.calls("status") == 0


@pytest.mark.parametrize("platform", ["plain", "github", "gitlab"])
def test_a_token_pasted_into_a_name_input_is_never_shown(
    simulator: SimFactory, tmp_path: Path, platform: str
) -> None:
    pasted = "qov_AnotherTokenPastedAsANameZyXwVuTs"
    sim, _ = release(simulator, *namesakes())
    run = run_on(platform, tmp_path, sim_inputs(sim, jobs=f"migrate, {pasted}", environment="production"))

    assert run.code == 2, run.stderr
    assert "no job is named (not shown: it looks like a token)" in "\n".join(run.problems())
    assert_secret_absent(run, pasted)


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"jobs": "api"}, "no job is named 'api' in environment production."),
        ({"services": "container:web"}, "no container is named 'web' in environment production."),
    ],
)
def test_a_name_of_another_type_is_pointed_at(
    simulator: SimFactory, tmp_path: Path, inputs: dict[str, str], said: str
) -> None:
    sim, _ = release(simulator, *namesakes())
    run = run_on("plain", tmp_path, sim_inputs(sim, environment="production", **inputs))

    assert run.code == 2, run.stderr
    (problem,) = run.problems()
    assert said in problem
    hint = {
        "jobs": "api is a container there: deploy it with `services`.",
        "services": "web is an application there: deploy it with `services: application:web`.",
    }
    assert hint[next(iter(inputs))] + " Fix:" in problem
    assert sim.calls("deploy") == 0
