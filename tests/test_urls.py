"""Where a deployed service answers: its URL, read from Qovery's links once it succeeded, in every output
(`url`, each `services[].url`, the summary, the dotenv report, the JSON result). In-process, on a virtual
clock, through the real client, engine and writers; every exchange checked against the OpenAPI spec."""

from __future__ import annotations

import io
import json
import re
from collections import deque
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.inputs import ENV, service, sim_inputs
from support.sims import TOKEN, SimFactory, default_url, job
from support.step import StepRun, github_env, gitlab_env, plain_env, run_step

from qovery_job_deploy.api.models import Link as ApiLink
from qovery_job_deploy.clock import VirtualClock
from qovery_job_deploy.demo import run_demo
from qovery_job_deploy.outcome import Known, Outcome, RunOutcome, Verdict
from qovery_job_deploy.results import outputs
from qovery_job_deploy.simulator import Fault, JobScript, Link, QoverySimulator
from qovery_job_deploy.urls import chosen, web_url

ROOT = Path(__file__).resolve().parents[1]
TAG, COMMIT = "v2.0.0", "fedcba9876543210fedcba9876543210fedcba98"
CUSTOM = "https://www.shop.example"


def values_for(sim: QoverySimulator, services: str, **extra: str) -> dict[str, str]:
    """The inputs that deploy `services` of ENV, an image tag and a commit given (no chart version)."""
    return sim_inputs(sim, services=services, environment=ENV, image_tag=TAG, git_commit_id=COMMIT, **extra)


def deployed(
    platform: str, sim: QoverySimulator, services: str, where: Path | None = None, **extra: str
) -> StepRun:
    """The step run on `platform`: "github" or "gitlab" with their files in `where`, else plain."""
    values = values_for(sim, services, **extra)
    if where is None:
        return run_step(plain_env(values))
    env, files = {"github": github_env, "gitlab": gitlab_env}[platform](where, values)
    return run_step(env, files)


def link_reads(sim: QoverySimulator) -> tuple[int, int]:
    """(`GET /{kind}/{id}/link` reads, `GET /environment/{id}/link` reads)."""
    return sim.calls("links"), sim.calls("environment_links")


def about_urls(run: StepRun) -> list[str]:
    """The log's lines about URLs: what a failed or skipped link read says."""
    return [line for line in run.stderr.splitlines() if "URL" in line and "unavailable" in line]


def web(**options: Any) -> JobScript:
    """An application on a port of its Qovery domain and, by default, on a custom domain."""
    links = [
        Link("https://p3000-web.qovery.example", is_default=False, internal_port=3000),
        Link(CUSTOM, is_qovery_domain=False, internal_port=3000),
    ]
    return service("application", "web", links=links, **options)


# -- one service ----------------------------------------------------------------------------------------


def test_a_container_that_succeeded_has_its_url_in_every_output_on_github(
    simulator: SimFactory, tmp_path: Path
) -> None:
    api = service("container", "api")
    sim = simulator(api)
    run = deployed("github", sim, "api", where=tmp_path)

    assert run.code == 0, run.stderr
    url = default_url(api)
    values = run.outputs()
    assert values["url"] == url
    assert json.loads(values["result"])["url"] == url
    [entry] = json.loads(values["services"])
    assert entry["url"] == url
    assert f"| URL | [{url}]({url}) |" in run.summary()
    assert f"URL: {url}" in run.stderr
    assert link_reads(sim) == (1, 0)  # its own read: the only service of its environment


def test_on_gitlab_the_url_is_in_the_dotenv_report_and_the_result_file(
    simulator: SimFactory, tmp_path: Path
) -> None:
    api = service("container", "api")
    sim = simulator(api)
    run = deployed("gitlab", sim, "api", where=tmp_path)

    assert run.code == 0, run.stderr
    assert run.dotenv()["QOVERY_URL"] == default_url(api)  # what `environment: url: $QOVERY_URL` reads
    assert run.result_file()["url"] == default_url(api)
    assert run.result_file()["services"][0]["url"] == default_url(api)


def test_the_plain_json_result_has_the_url_at_its_top_level(simulator: SimFactory) -> None:
    ingress = service("helm", "ingress")
    sim = simulator(ingress)
    run = deployed("plain", sim, "ingress", None, **{"chart-version": "2.0.0"})

    assert run.code == 0, run.stderr
    assert run.json()["url"] == default_url(ingress)


# -- a release -----------------------------------------------------------------------------------------


def test_a_release_reads_its_environment_s_links_once_and_claims_the_first_succeeded_url(
    simulator: SimFactory, tmp_path: Path
) -> None:
    migrate, api, application = service("job", "migrate"), service("container", "api"), web()
    sim = simulator(migrate, api, application)
    run = deployed("gitlab", sim, "migrate, api, web", sequential="true", where=tmp_path)

    assert run.code == 0, run.stderr
    assert link_reads(sim) == (0, 1)  # one read for the environment, none per service
    result = run.result_file()
    assert result["url"] == default_url(api)  # the first that succeeded with a link, in the order given
    assert [entry["url"] for entry in result["services"]] == [None, default_url(api), CUSTOM]
    report = run.dotenv()
    assert report["QOVERY_URL"] == default_url(api)
    assert report["QOVERY_CONTAINER_API_URL"] == default_url(api)
    assert report["QOVERY_APPLICATION_WEB_URL"] == CUSTOM  # its default link: its own domain
    assert "QOVERY_JOB_MIGRATE_URL" not in report  # a job has no link: no key spent on it
    assert len(report) <= 20


def test_the_release_summary_has_a_url_column(simulator: SimFactory, tmp_path: Path) -> None:
    migrate, api = service("job", "migrate"), service("container", "api")
    sim = simulator(migrate, api)
    run = deployed("github", sim, "migrate, api", where=tmp_path)

    assert run.code == 0, run.stderr
    summary = run.summary()
    assert "| Service | Type | Verdict | Final state | Duration | URL | Qovery console |" in summary
    assert "|---|---|---|---|---|---|---|" in summary
    [row] = [line for line in summary.splitlines() if line.startswith("| api ")]
    assert f"| [{default_url(api)}]({default_url(api)}) |" in row
    [row] = [line for line in summary.splitlines() if line.startswith("| migrate ")]
    assert " | – | [" in row  # no URL for the job: the placeholder, then its console link


def test_without_any_url_the_release_summary_keeps_its_columns(simulator: SimFactory, tmp_path: Path) -> None:
    sim = simulator(service("job", "migrate"), service("database", "postgres"))
    run = deployed("github", sim, "migrate, postgres", where=tmp_path)

    assert run.code == 0, run.stderr
    assert "| Service | Type | Verdict | Final state | Duration | Qovery console |" in run.summary()
    assert link_reads(sim) == (0, 0)  # neither a job nor a database has links
    assert run.outputs()["url"] == ""


def test_services_of_two_environments_cost_one_read_each(simulator: SimFactory) -> None:
    other = "e0e0e0e0-0000-4000-8000-0000000000ac"
    api, worker = service("container", "api"), service("container", "worker")
    staging_api = service("container", "api-staging", environment_id=other)
    staging_web = service("application", "web-staging", environment_id=other)
    sim = simulator(api, worker, staging_api, staging_web)
    ids = ", ".join(f"container:{s.job_id}" for s in (api, worker, staging_api))
    values = values_for(sim, f"{ids}, application:{staging_web.job_id}")
    del values["environment"]  # by UUID alone: each service's own read places it
    run = run_step(plain_env(values))

    assert run.code == 0, run.stderr
    assert link_reads(sim) == (0, 2)
    urls = [entry["url"] for entry in run.json()["services"]]
    assert urls == [default_url(s) for s in (api, worker, staging_api, staging_web)]


# -- no URL to claim -----------------------------------------------------------------------------------


def test_a_failed_service_has_no_url_and_its_links_are_not_read(
    simulator: SimFactory, tmp_path: Path
) -> None:
    api = service("container", "api", "BUILD_ERROR")
    sim = simulator(api)
    run = deployed("gitlab", sim, "api", where=tmp_path)

    assert run.code == 1, run.stderr
    assert link_reads(sim) == (0, 0)
    assert run.result_file()["url"] is None and run.result_file()["services"][0]["url"] is None
    assert run.dotenv()["QOVERY_URL"] == ""
    assert "URL:" not in run.stderr and about_urls(run) == []


def test_beside_a_failure_the_service_that_succeeded_has_its_url(simulator: SimFactory) -> None:
    api, application = service("container", "api", "BUILD_ERROR"), web()
    sim = simulator(api, application)
    run = deployed("plain", sim, "api, web")

    assert run.code == 1, run.stderr  # the failure decides, the URL changes nothing
    assert link_reads(sim) == (1, 0)  # one service succeeded: its own read
    result = run.json()
    assert result["url"] == CUSTOM and result["verdict"] == "failed"
    assert [entry["url"] for entry in result["services"]] == [None, CUSTOM]


@pytest.mark.parametrize(
    "extra",
    [{"wait": "false"}, {"dry-run": "true"}, {"timeout": "5s"}],
    ids=["wait-false", "dry-run", "timed-out"],
)
def test_a_service_not_seen_to_succeed_claims_no_url(
    simulator: SimFactory, tmp_path: Path, extra: dict[str, str]
) -> None:
    """`wait: false` (accepted), a dry run (planned), a timeout: no link read, no URL."""
    api = job(timeline=[(0.0, "QUEUED"), (0.5, "BUILDING"), (600.0, "DEPLOYED")], kind="container",
              job_name="api", environment_id=ENV)  # fmt: skip
    sim = simulator(api)
    run = deployed("github", sim, "api", **extra, where=tmp_path)

    assert run.code in (0, 124), run.stderr
    assert link_reads(sim) == (0, 0)
    assert run.outputs()["url"] == "" and json.loads(run.outputs()["services"])[0]["url"] is None
    assert "| URL |" not in run.summary()


def test_a_service_without_a_public_port_has_no_url_and_nothing_is_said(
    simulator: SimFactory, tmp_path: Path
) -> None:
    api = service("container", "api", links=[])
    sim = simulator(api)
    run = deployed("github", sim, "api", where=tmp_path)

    assert run.code == 0, run.stderr
    assert link_reads(sim) == (1, 0)
    assert run.outputs()["url"] == ""
    assert "warning" not in run.stderr.lower() and "URL:" not in run.stderr and about_urls(run) == []
    assert "::warning" not in run.stdout and "| URL |" not in run.summary()


# -- a link read that fails ----------------------------------------------------------------------------


FAILURES = [
    (Fault(status=500), "HTTP 500"),
    (Fault(status=403), "HTTP 403"),
    (Fault(kind="hang", seconds=600), "no response"),
]


@pytest.mark.parametrize(("fault", "said"), FAILURES, ids=["500", "403", "timeout"])
def test_a_failed_link_read_is_one_info_line_and_changes_no_verdict(
    simulator: SimFactory, tmp_path: Path, fault: Fault, said: str
) -> None:
    api = service("container", "api")
    api.faults["links"] = deque([fault] * 5)
    sim = simulator(api)
    run = deployed("gitlab", sim, "api", where=tmp_path)

    assert run.code == 0, run.stderr
    assert link_reads(sim) == (1, 0)  # one try: a URL is not worth the step's patience
    [line] = about_urls(run)
    assert "The URL of api (shop / production) is unavailable (" in line and said in line, line
    assert "warning" not in run.stderr.lower()
    result = run.result_file()
    assert result["verdict"] == "succeeded" and result["url"] is None
    assert run.dotenv()["QOVERY_URL"] == ""


def test_a_hanging_link_read_costs_seconds_not_the_step_s_timeout(simulator: SimFactory) -> None:
    api = service("container", "api")
    api.faults["links"] = deque([Fault(kind="hang", seconds=600)])
    sim = simulator(api)
    run = deployed("plain", sim, "api", None, **{"timeout": "30m", "request-timeout": "60s"})

    assert run.code == 0, run.stderr
    [line] = about_urls(run)
    ended = next(line for line in run.stderr.splitlines() if "succeeded: The container reached" in line)
    waited = _seconds(line) - _seconds(ended)
    assert 0 <= waited <= 6  # the read's own budget (5 s), not the request timeout (60 s)


def _seconds(line: str) -> int:
    """The elapsed seconds a log line starts with: `[  12s] ...`."""
    return int(line.split("]", 1)[0].strip("[ s"))


@pytest.mark.parametrize("status", [500, 403])
def test_a_failed_environment_link_read_leaves_a_failed_release_s_exit_code_as_it_was(
    simulator: SimFactory, tmp_path: Path, status: int
) -> None:
    migrate = service("job", "migrate", "DEPLOYMENT_ERROR")
    api, application = service("container", "api"), web()
    migrate.faults["environment_links"] = deque([Fault(status=status)])  # the environment's first service
    sim = simulator(migrate, api, application)
    run = deployed("gitlab", sim, "migrate, api, web", where=tmp_path)

    assert run.code == 1, run.stderr
    assert link_reads(sim) == (0, 1)
    [line] = about_urls(run)
    assert "The URLs of api (shop / production), web (shop / production) are unavailable (" in line
    assert f"HTTP {status}" in line
    assert run.result_file()["verdict"] == "failed" and run.result_file()["url"] is None


# -- untrusted link text -------------------------------------------------------------------------------


HOSTILE = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example/\n::error::injected",
    "https://evil.example/ [x](javascript:alert(1))",
    'https://evil.example/"><script>alert(1)</script>',
    "https://user:secret@evil.example/",
    "//evil.example/",
    "https://evil.example/`code`|cell|",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_link_text_never_becomes_a_url(simulator: SimFactory, tmp_path: Path, url: str) -> None:
    api = service("container", "api", links=[Link(url)])
    sim = simulator(api)
    run = deployed("github", sim, "api", where=tmp_path)

    assert run.code == 0, run.stderr
    assert run.outputs()["url"] == "" and json.loads(run.outputs()["result"])["url"] is None
    summary = run.summary()
    assert "| URL |" not in summary and "javascript" not in summary and "<script" not in summary
    assert "evil.example" not in run.stderr + run.stdout


def test_a_url_that_would_close_a_markdown_link_is_kept_inside_it(
    simulator: SimFactory, tmp_path: Path
) -> None:
    """Parentheses and brackets are valid in a URL: in Markdown they are percent-encoded, so that the link
    cannot end early and open another; the hostile default is skipped for the next Qovery domain."""
    tricky = "https://api.qovery.example/x)](javascript:alert(1))"
    api = service("container", "api", links=[Link("javascript:alert(1)"), Link(tricky, is_default=False)])
    sim = simulator(api)
    run = deployed("gitlab", sim, "api", where=tmp_path)

    assert run.code == 0, run.stderr
    assert run.dotenv()["QOVERY_URL"] == tricky
    (tmp_path / "github").mkdir()
    summary = deployed("github", sim, "api", where=tmp_path / "github").summary()
    [row] = [line for line in summary.splitlines() if line.startswith("| URL |")]
    assert row.endswith("](https://api.qovery.example/x%29%5D%28javascript:alert%281%29%29) |")
    assert len(re.findall(r"(?<!\\)\]\(", row)) == 1  # the text's own `](` is escaped: one link


# -- which link --------------------------------------------------------------------------------------------


def link(url: str, *, default: bool = False, qovery: bool = False) -> ApiLink:
    return ApiLink(url=url, is_default=default, is_qovery_domain=qovery)


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        # The default link, wherever it is in the list.
        ([link("https://p8080.q.example", qovery=True), link("https://q.example", default=True, qovery=True)],
         "https://q.example"),
        # A custom domain that is the default beats a Qovery domain that is not.
        ([link("https://p80.q.example", qovery=True), link("https://mine.example", default=True)],
         "https://mine.example"),
        # No default: the first on a Qovery domain.
        ([link("https://p80-mine.example"), link("https://p80.q.example", qovery=True)],
         "https://p80.q.example"),
        # Neither: the first.
        ([link("http://a.example:8080/"), link("https://b.example")], "http://a.example:8080/"),
        # A default that is no web address does not count: the next rule decides.
        ([link("javascript:alert(1)", default=True), link("https://q.example", qovery=True)],
         "https://q.example"),
        ([], None),
        ([link("ftp://files.example", default=True)], None),
    ],
)  # fmt: skip
def test_the_url_is_the_default_link_else_the_first_qovery_domain_else_the_first(
    links: list[ApiLink], expected: str | None
) -> None:
    assert chosen(links) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://a.example",
        "http://a.example:8080/path?q=1#top",
        "HTTPS://A.EXAMPLE/(x)",
        "https://a-b.c.example",
    ],
)
def test_web_addresses_are_accepted(text: str) -> None:
    assert web_url(text) == text


@pytest.mark.parametrize(
    "text",
    [*HOSTILE, "", "https://", "https://a.example:", "https://a.example:8o", "https://-a.example",
     "https://a.example\\@b.example", "https://a.example/" + "x" * 2000, None, 42],
)  # fmt: skip
def test_anything_else_is_no_url(text: object) -> None:
    assert web_url(text) is None


# -- declared and documented -------------------------------------------------------------------------------


def test_action_yml_declares_every_output_the_step_writes() -> None:
    declared = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["outputs"]
    written = outputs(RunOutcome([Outcome(Known("x"), Verdict.SUCCEEDED, "ok", 1.0)]))
    assert set(written) - set(declared) == set()
    assert "url" in declared


# -- the simulator and the demo ------------------------------------------------------------------------------


def test_the_simulator_serves_links_as_the_spec_says(simulator: SimFactory) -> None:
    """Each kind with links answers its own, the environment all of theirs; a job has no link endpoint."""
    migrate, api, application = service("job", "migrate"), service("container", "api"), web()
    sim = simulator(migrate, api, application)
    auth = {"Authorization": f"Token {TOKEN}"}

    def get(path: str) -> tuple[int, Any]:
        answer = sim.handle("GET", path, {}, auth, b"")
        return answer.status, json.loads(answer.body) if answer.body else None

    assert get(f"/container/{api.job_id}/link") == (200, {"results": [{
        "service_id": api.job_id, "service_type": "CONTAINER", "url": default_url(api),
        "internal_port": 8080, "external_port": 443, "is_qovery_domain": True, "is_default": True,
    }]})  # fmt: skip
    status, body = get(f"/environment/{ENV}/link")
    assert status == 200
    assert [(link["service_id"], link["url"]) for link in body["results"]] == [
        (api.job_id, default_url(api)),
        (application.job_id, "https://p3000-web.qovery.example"),
        (application.job_id, CUSTOM),
    ]
    sim.allowed_deviations = (f"Path not found for https://api.qovery.com/job/{migrate.job_id}/link",)
    assert get(f"/job/{migrate.job_id}/link")[0] == 404  # the spec has no such path: nor the simulator
    assert get(f"/application/{api.job_id}/link")[0] == 404  # a container's id under another kind
    assert get("/environment/e0e0e0e0-0000-4000-8000-0000000000ff/link")[0] == 404


def test_the_release_demo_shows_where_the_container_answers() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_demo(["release"], out, err, clock=VirtualClock(), environ={"PATH": ""}) == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert any(line.split() == ["url", "https://api-66666666.qovery.example"] for line in lines), lines
    assert "api (shop / production): URL: https://api-66666666.qovery.example" in err.getvalue()
    assert "web (shop / production): URL: https://www.shop.example" in err.getvalue()  # its custom domain
