"""The command as a user meets it: --help, --version, flags, the demo (in-process, and once as a process)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path

import pytest
from support.inputs import inputs
from support.sims import TOKEN, SimFactory
from support.step import (
    ROOT,
    base_env,
    github_env,
    plain_env,
    platform_env,
    run_step,
    run_subprocess,
)

from qovery_job_deploy import __version__
from qovery_job_deploy.cli import help_text
from qovery_job_deploy.demo import render, summary
from qovery_job_deploy.inputs.model import Settings
from qovery_job_deploy.inputs.names import qovery_env_name
from qovery_job_deploy.invocation import commands
from qovery_job_deploy.simulator import FAILURE_JOB, SLOW_JOB, SUCCESS_JOB, JobScript


@pytest.mark.parametrize(
    "shown",
    [
        "--api-token TOKEN ",
        "--job-id UUID ",
        "--timeout DURATION ",
        "Default: 30m.",
        "--poll-interval DURATION ",
        "Default: 3s.",
        "From 1s to 24h.",
        "--wait [true|false]",
        "Default: true.",
        "--auth-scheme auto|token|bearer",
        "--force-event START|STOP|DELETE|CRON|DIFF",
        "START, STOP, DELETE or CRON for jobs, DIFF for helm charts.",
        "--services NAME|UUID|TYPE:NAME,... ",
        "(job, application, container, helm, database or terraform). [QOVERY_SERVICES]",
        "--chart-version VERSION ",
        "(helm charts from a chart repository). [QOVERY_CHART_VERSION]",
        "--apply-immediately [true|false]",
        "not in the maintenance window. Default: false. [QOVERY_APPLY_IMMEDIATELY]",
        "--api-url URL ",
        "[QOVERY_TIMEOUT]",
        "-V, --version",
        "demo [SCENARIO]",
        "exit codes:",
        "124 ",
        "Pass the token through the environment",
        "--no-wait",
    ],
)
def test_help_speaks_the_users_terms(shown: str) -> None:
    assert shown in " ".join(help_text().split()) + " "


@pytest.mark.parametrize(
    "absent", ["(required)", "SecretStr", "float", "1800", "None", "True", "False", "{auto,token,bearer}"]
)
def test_help_shows_no_python_internals(absent: str) -> None:
    assert absent not in help_text()


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_help_names_the_variable_of_every_input(field: str) -> None:
    assert f"[{qovery_env_name(field)}]" in " ".join(help_text().split())


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (["--help"], 0, "usage: qovery-job-deploy [OPTION ...]"),
        (["-h"], 0, "exit codes:"),
        (["--job-id", "x", "--help"], 0, "exit codes:"),
        (["--version"], 0, f"qovery-job-deploy {__version__}\n"),
        (["-V"], 0, f"qovery-job-deploy {__version__}\n"),
        (["demo", "--help"], 0, "qovery-job-deploy demo failure"),
        (["demo", "-h"], 0, "scenarios:"),
    ],
)
def test_help_and_version_print_and_send_nothing(args: list[str], code: int, shown: str) -> None:
    run = run_step(base_env(), args=args)
    assert run.code == code, run.stderr
    assert shown in run.stdout
    assert "Deploying" not in run.stderr


@pytest.mark.parametrize(("args"), [["demo", "bogus"], ["demo", "success", "extra"], ["demo", "--fast"]])
def test_an_unknown_demo_scenario_lists_them_and_runs_nothing(args: list[str]) -> None:
    run = run_step(base_env(), args=args)
    assert run.code == 2
    assert "Unknown demo scenario" in run.stderr and "qovery-job-deploy demo timeout" in run.stderr
    assert "Deploying" not in run.stderr and run.stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "state"),
    [
        ([], 0, "DEPLOYED"),
        (["failure"], 1, "DEPLOYMENT_ERROR"),
        (["timeout"], 124, "EXECUTING"),
    ],
)
def test_the_demo_shows_the_log_a_readable_result_and_what_to_run_next(
    args: list[str], code: int, state: str
) -> None:
    """`qovery-job-deploy demo`, the README's first command, against the built-in simulator."""
    run = run_step(base_env(), args=["demo", *args])
    assert run.code == code, run.stderr
    assert "Deploying Qovery job" in run.stderr  # the step's own log
    lines = run.stdout.splitlines()
    assert any(line.split() == ["state", state] for line in lines), run.stdout
    assert f"Exit code {code}: " in run.stdout
    assert "Next:" in run.stdout and "qovery-job-deploy --help" in run.stdout
    assert not any(line.lstrip().startswith("{") for line in lines)  # no raw JSON on the terminal
    assert "None" not in run.stdout and not any(line.split()[:1] == ["jobs"] for line in lines)  # no repeats
    assert max(len(line) for line in lines if "https://" not in line) <= 120  # links are kept whole


@pytest.mark.process
def test_the_release_demo_deploys_a_job_a_container_and_an_application_in_order() -> None:
    run = run_step(base_env(), args=["demo", "release"])
    assert run.code == 0, run.stderr
    assert "Deploying 3 Qovery services: migrate, api, web" in run.stderr
    assert (
        "api: the container is" in run.stderr and "requesting a deployment of image tag 1.5.0" in run.stderr
    )
    assert (
        "web: the application is" in run.stderr and "requesting a deployment of commit 4f2a9c1" in run.stderr
    )
    assert "job migrate succeeded DEPLOYED, container api succeeded DEPLOYED," in run.stdout
    assert max(len(line) for line in run.stdout.splitlines() if "https://" not in line) <= 120


@pytest.mark.parametrize(
    ("scenario", "said", "shown"),
    [
        (
            "dry-run",
            "Dry run: checking 3 Qovery services: migrate, api, web",
            "job migrate planned (now DEPLOYED), container api planned (now DEPLOYED),",
        ),
        ("live", "  migrate | ", "job migrate succeeded DEPLOYED, container api succeeded DEPLOYED,"),
    ],
)
def test_the_headline_features_have_a_demo(scenario: str, said: str, shown: str) -> None:
    """`dry-run` posts nothing and says so; `live` shows a deployment's log lines while it runs."""
    run = run_step(base_env(), args=["demo", scenario])
    assert run.code == 0, run.stderr
    assert said in run.stderr
    assert shown in run.stdout
    if scenario == "dry-run":
        assert "Nothing was posted" in run.stderr and "requesting" not in run.stderr
        assert "Exit code 0: the dry run found everything deployable." in run.stdout
    help_text = run_step(base_env(), args=["demo", "--help"]).stdout
    assert f"qovery-job-deploy demo {scenario}" in help_text


@pytest.mark.process
def test_the_demo_runs_in_real_time_as_a_process() -> None:
    """What a user sees first: the command itself, a simulator on loopback, a deployment of about 2 s."""
    run = run_subprocess(base_env(), args=["demo"])
    assert run.code == 0, run.stderr
    assert "A simulated Qovery API on http://127.0.0.1:" in run.stderr and "] DEPLOYED" in run.stderr
    assert run.seconds >= 2.0  # it really ran the simulated deployment, not a virtual one


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--job-idd", "x"], "unknown flag `--job-idd`. Did you mean `--job-id`?"),
        (["--tiemout", "5m"], "Did you mean `--timeout`?"),
    ],
)
def test_an_unknown_flag_suggests_the_closest_one(args: list[str], said: str) -> None:
    run = run_step(plain_env(inputs()), args=args)
    assert run.code == 2
    assert said in run.stderr
    assert run.stderr.count("Invalid command line") == 1  # its value is not a second, stray problem


def test_a_token_given_as_a_flag_is_used_but_warned_about(simulator: SimFactory) -> None:
    sim = simulator()
    env = plain_env({"job-id": SUCCESS_JOB, "api-url": sim.url, "poll-interval": "0.2s"})
    run = run_step(env, args=["--api-token", TOKEN])

    assert run.code == 0, run.stderr
    assert "pass it as QOVERY_API_TOKEN instead" in run.stderr
    assert TOKEN not in run.stdout + run.stderr


def test_bare_no_wait_flag_is_accepted_end_to_end(simulator: SimFactory) -> None:
    script = JobScript(str(uuid.uuid4()), timeline=[(0.0, "QUEUED"), (30.0, "DEPLOYED")])
    sim = simulator(script)
    env = plain_env(inputs(api_url=sim.url, wait="true"))
    run = run_step(env, args=["--job-id", script.job_id, "--no-wait"])
    assert run.code == 0, run.stderr
    assert run.json()["verdict"] == "accepted"


@pytest.mark.parametrize("runner", ["github", "gitlab", "plain"])
def test_several_input_errors_are_one_line_each_in_every_runner(tmp_path: Path, runner: str) -> None:
    given = inputs(job_id="not-a-uuid", timeout="9999999h", wait="perhaps")
    env, files = platform_env(runner, tmp_path, given)
    run = run_step(env | {"QOVERY_SERVICES": "container:api"}, files)

    assert run.code == 2
    errors = [problem for problem in run.problems() if problem.startswith("Invalid input")]
    assert run.stderr.count("Invalid input") == (0 if runner == "github" else 4)  # said once: not twice
    assert [line.split("`")[1] for line in errors] == ["job-id", "wait", "timeout", "job-id"]
    assert "job-id and services are both set" in errors[-1]
    said = "\n".join(run.problems())
    assert "`9999999h` from the " in said and "must be at most 24h" in said
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    if runner == "github":  # one annotation per problem, each a single line (no %0A inside)
        assert len(annotations) == 4 and all("%0A" not in line for line in annotations)
        assert run.outputs() == {}  # nothing attempted: no outputs
    else:
        assert annotations == []


def test_a_stale_qovery_variable_is_named_with_its_value() -> None:
    env = plain_env(inputs(job_id=str(uuid.uuid4()), timeout="90 minutes"))
    run = run_step(env)
    assert run.code == 2
    assert "Invalid input `timeout` (`90 minutes` from the environment variable QOVERY_TIMEOUT)" in run.stderr


def test_an_absurd_timeout_is_an_input_error_not_a_crash() -> None:
    env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url="http://127.0.0.1:9"))
    run = run_step(env, args=["--timeout", "9999999h"])
    assert run.code == 2, run.stderr
    assert "must be at most 24h" in run.stderr and "Overflow" not in run.stderr


@pytest.mark.process
@pytest.mark.parametrize("port", ["taken", "99999"])
def test_the_simulator_says_in_one_line_why_it_cannot_listen(port: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        given = str(taken.getsockname()[1]) if port == "taken" else port
        done = subprocess.run(
            [sys.executable, "-m", "qovery_job_deploy.simulator", "--port", given],
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"--port {given}" in done.stderr or f"127.0.0.1:{given}" in done.stderr
    assert "--port 0 for a free one" in done.stderr


@pytest.mark.process
@pytest.mark.parametrize(("flags", "logged"), [([], True), (["--quiet"], False)])
def test_the_simulator_alone_lists_its_jobs_and_logs_each_request(
    tmp_path: Path, flags: list[str], logged: bool
) -> None:
    url_file = tmp_path / "url"
    simulator = subprocess.Popen(
        [sys.executable, "-m", "qovery_job_deploy.simulator", "--url-file", str(url_file), *flags],
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            if url_file.exists() and url_file.read_text().strip():
                break
            time.sleep(0.1)
        url = url_file.read_text().strip()
        run = run_step(plain_env(inputs(job_id=SUCCESS_JOB, api_url=url, poll_interval="0.2s")))
        assert run.code == 0, run.stderr
    finally:
        simulator.send_signal(signal.SIGTERM)
        out, err = simulator.communicate(timeout=10)

    assert f"export QOVERY_API_URL={url} QOVERY_API_TOKEN=qov_anything" in out
    for job, about in [(SUCCESS_JOB, "succeeds"), (FAILURE_JOB, "fails"), (SLOW_JOB, "10 minutes")]:
        assert any(job in line and about in line for line in out.splitlines())
    request_lines = [f"POST /job/{SUCCESS_JOB}/deploy -> 202", f"GET /job/{SUCCESS_JOB}/status -> 200"]
    assert all((line in err) is logged for line in request_lines), err
    assert ("Each request is logged below" in out) is logged and ("not logged (--quiet)" in out) is not logged


RUNTIME = {"requests", "urllib3", "certifi", "idna", "charset_normalizer", "pydantic", "pydantic_core"}
RUNTIME |= {"pydantic_settings", "annotated_types", "typing_extensions", "typing_inspection", "dotenv"}


@pytest.mark.process
def test_the_demo_and_the_simulator_need_only_the_runtime_dependencies() -> None:
    """The README's first command is `pip install -e .`: nothing of the test extra may creep in."""
    code = "import sys, qovery_job_deploy.cli, qovery_job_deploy.demo; print('\\n'.join(sys.modules))"
    run = subprocess.run(
        [sys.executable, "-c", code], env=base_env(), capture_output=True, text=True, check=True
    )
    # Private names (`_cython_3_3_1`, `_sysconfigdata_...`) are the interpreter's and compiled modules' own.
    loaded = {name.split(".")[0] for name in run.stdout.split() if not name.startswith("_")}
    foreign = loaded - set(sys.stdlib_module_names) - RUNTIME - {"qovery_job_deploy", "cython_runtime"}
    assert not foreign


@pytest.mark.parametrize(
    ("extra", "absent"),
    [("test", "matplotlib"), ("test", "ruff"), ("test", "mypy"), ("lint", "matplotlib"), ("bench", "pytest")],
)
def test_each_extra_installs_only_what_its_use_needs(extra: str, absent: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [pin for pin in project["optional-dependencies"][extra] if pin.startswith(absent)]
    assert sorted(pin.split(">")[0] for pin in project["dependencies"]) == ["pydantic-settings", "requests"]


@pytest.mark.parametrize(
    ("runner", "variables", "line"),
    [
        ("plain", {"timeout": "5s"}, "timeout `5s` from the environment variable QOVERY_TIMEOUT"),
        ("plain", {"timeout": "30m"}, None),  # at its default: nothing to say
        ("github", {}, None),  # every declared input empty, as the runner passes them: nothing to say
        ("github", {"timeout": "1m", "wait": "true"}, "timeout `1m` from the GitHub input `timeout`"),
    ],
)
def test_inputs_not_at_their_default_are_logged_with_their_source(
    simulator: SimFactory, tmp_path: Path, runner: str, variables: dict[str, str], line: str | None
) -> None:
    script = JobScript(str(uuid.uuid4()), timeline=[(0.0, "QUEUED"), (0.3, "DEPLOYED")])
    sim = simulator(script)
    given = inputs(job_id=script.job_id, poll_interval="0.2s") | variables
    if runner == "github":
        env, files = github_env(tmp_path, given | {"api-url": sim.url})
    else:
        env, files = plain_env(given), {}
    run = run_step(env, files, args=["--api-url", sim.url] if runner == "plain" else [])
    assert run.code == 0, run.stderr
    logged = [text.split("] Inputs: ", 1)[1] for text in run.stderr.splitlines() if "] Inputs: " in text]
    assert len(logged) == 1  # job-id, api-url and poll-interval are never at their default here
    entries = logged[0].split("; ")
    assert entries[0] == f"job-id `{script.job_id}` from " + (
        "the GitHub input `job-id`" if runner == "github" else "the environment variable QOVERY_JOB_ID"
    )
    entries = [entry for entry in entries[1:] if not entry.startswith(("api-url", "poll-interval"))]
    assert entries == ([line] if line else [])


# On GitHub a QOVERY_* variable set in the workflow's, job's or step's `env:` reaches the container beside the
# INPUT_* the runner passes for every declared input, empty (or absent) when `with:` leaves it out: action.yml
# sets no `default:`, so only `with:` beats `env:`. The Inputs line says which one applied.
@pytest.mark.parametrize(
    ("in_with", "empty_inputs_absent"),
    [(False, False), (False, True), (True, False)],
    ids=["with-leaves-it-out", "input-absent", "with-wins"],
)
def test_on_github_a_qovery_variable_from_env_applies_unless_with_gives_the_input(
    simulator: SimFactory, tmp_path: Path, in_with: bool, empty_inputs_absent: bool
) -> None:
    script = JobScript(str(uuid.uuid4()), timeline=[(0.0, "QUEUED"), (0.3, "DEPLOYED")])
    sim = simulator(script)
    elsewhere = "https://qovery.example.invalid"
    env, files = github_env(
        tmp_path, inputs(job_id=script.job_id) | ({"api-url": sim.url} if in_with else {})
    )
    if empty_inputs_absent:
        env = {name: value for name, value in env.items() if value or not name.startswith("INPUT_")}
    env |= {"QOVERY_API_URL": elsewhere if in_with else sim.url, "QOVERY_POLL_INTERVAL": "0.2s"}
    run = run_step(env, files)
    assert run.code == 0, run.stderr
    assert len(sim.deployments_of(script.job_id)) == 1
    [logged] = [text.split("] Inputs: ", 1)[1] for text in run.stderr.splitlines() if "] Inputs: " in text]
    entries = {entry.split(" ", 1)[0]: entry for entry in logged.split("; ")}
    assert entries["api-url"].startswith(f"api-url `{sim.url}` from ")
    assert ("QOVERY_API_URL" in entries["api-url"]) is not in_with, entries["api-url"]
    assert "QOVERY_POLL_INTERVAL" in entries["poll-interval"]
    assert elsewhere not in run.stderr + run.stdout


@pytest.mark.process
def test_the_simulator_says_when_it_cannot_write_its_url_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "url"
    done = subprocess.run(
        [sys.executable, "-m", "qovery_job_deploy.simulator", "--url-file", str(missing)],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"cannot write --url-file {missing}" in done.stderr and "--port" not in done.stderr


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ([{"step_name": "EXECUTING", "status": "SUCCESS", "duration_sec": 2.0}], "EXECUTING SUCCESS 2 s"),
        (True, "yes"),
        ({"message": "failed", "hint": None}, "message: failed"),
    ],
)
def test_the_demo_shows_each_value_as_people_read_it(value: object, shown: str) -> None:
    assert render(value) == shown


def test_the_demo_leaves_out_a_dry_run_that_was_not_one() -> None:
    said = summary('{"verdict": "succeeded", "dry_run": false}', 0, commands())
    assert "verdict" in said and "dry run" not in said and "False" not in said


def services_json(*services: tuple[str | None, str | None, str | None]) -> str:
    """A result whose top-level `job_id` and `job_name` are the first service's: (type, id, name) each."""
    _, first_id, name = services[0]
    entries = [
        {"type": k, "id": i, "name": n, "verdict": "succeeded", "state": "DEPLOYED"} for k, i, n in services
    ]
    return json.dumps({"job_id": first_id, "verdict": "succeeded", "job_name": name, "services": entries})


@pytest.mark.parametrize(
    ("printed", "rows"),
    [
        (services_json(("database", "d-1", "postgres")), ["database id  d-1", "database name  postgres"]),
        (services_json(("helm", "h-1", "ingress")), ["helm chart id  h-1", "helm chart name  ingress"]),
        (services_json(("job", "j-1", "migrate")), ["job id  j-1", "job name  migrate"]),
        (
            services_json(("container", "c-1", "api"), ("job", "j-1", "migrate")),
            ["container id  c-1", "container name  api"],
        ),
        (services_json((None, None, "migrat")), ["service name  migrat"]),  # nothing resolved
    ],
    ids=["database", "helm", "job", "release", "unresolved"],
)
def test_the_demo_calls_each_service_by_its_type_not_a_job(printed: str, rows: list[str]) -> None:
    """The JSON keeps `job_id` and `job_name` for every type (compatibility); people read the type."""
    said = [" ".join(line.split()) for line in summary(printed, 0, commands()).splitlines()]
    for row in rows:
        assert " ".join(row.split()) in said, said
    if not any(row.startswith("job ") for row in rows):
        assert not any(line.startswith(("job id", "job name")) for line in said), said
