"""A failed deployment explained, end to end: our job's deployment log, Qovery's hint, console links and
names, on each runner, and never at the cost of the verdict or of the runner's safety."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

import pytest
from support.github import GITHUB_TOKEN
from support.inputs import inputs, job_inputs
from support.runner_commands import commands_outside_frames
from support.sims import TOKEN, SimFactory, job
from support.step import StepRun, github_env, gitlab_env, plain_env, run_step

from qovery_job_deploy.simulator import DEFAULT_ERROR, HOSTILE_LOG_JOB, Fault, JobScript

FAILING = [(0.0, "QUEUED"), (0.3, "EXECUTING"), (0.8, "DEPLOYMENT_ERROR")]
SUCCEEDING = [(0.0, "QUEUED"), (0.3, "EXECUTING"), (0.8, "DEPLOYED")]
HINT = DEFAULT_ERROR["hint_message"]
CAUSE = DEFAULT_ERROR["user_log_message"]
HOSTILE_LINES = [
    "::add-mask::DEPLOYED",
    "::error::pwned",
    "  ::warning title=x::indented",
    "##[error]legacy pwned",
    "::stop-commands::guessed",
    "\x1b[31mcoloured\x1b[0m output",
    "</details><script>alert(1)</script>",
    "\ud800 a lone surrogate",
    "y" * 100_000,
    f"printed the token {TOKEN} by mistake",
]


def expected_console_url(script: JobScript, execution_id: str) -> str:
    return (
        f"https://console.qovery.com/organization/{script.organization_id}/project/{script.project_id}"
        f"/environment/{script.environment_id}/service/{script.job_id}/deployments/logs/{execution_id}"
    )


def log_group(run: StepRun) -> list[str]:
    """The lines of the deployment log group GitHub shows (between its frame's markers)."""
    lines = run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::group::Qovery deployment log"))
    end = lines.index("::endgroup::", start)
    return lines[start + 2 : end - 1]


def assert_only_our_commands(run: StepRun) -> None:
    """No line outside a stop-commands frame acts as a runner command, except the step's own."""
    ours = re.compile(
        rf"^(::add-mask::({re.escape(TOKEN)}|{re.escape(GITHUB_TOKEN)})|::group::[^\n]*|::endgroup::|::error title=Qovery job [^\n]*"
        r"|::stop-commands::[0-9a-f]{32})$"
    )
    for stream in (run.stdout, run.stderr):
        commands = commands_outside_frames(stream)
        assert all(ours.match(line) for line in commands), [c[:80] for c in commands if not ours.match(c)]
    assert "pwned" not in "".join(commands_outside_frames(run.stdout + "\n" + run.stderr))


@pytest.mark.parametrize("platform", ["github", "plain"])
def test_the_verdict_is_the_last_word_and_qovery_s_diagnosis_is_said_once(
    simulator: SimFactory, tmp_path: Path, platform: str
) -> None:
    script = job(*FAILING)
    sim = simulator(script)
    env, files = (
        github_env(tmp_path, job_inputs(sim, script))
        if platform == "github"
        else (plain_env(job_inputs(sim, script)), {})
    )
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    commands = [line for line in run.stdout.splitlines() if line.startswith("::")]
    shown = run.stderr + "\n".join(commands)  # the human log: stdout holds the JSON result off GitHub
    assert shown.count(f"Qovery: {CAUSE}") == 1 and shown.count(f"Hint: {HINT}") == 1
    if platform == "github":  # the annotation, after the deployment log's group, carries the diagnosis
        assert commands[-1].startswith("::error title=Qovery job deployment failed") and CAUSE in commands[-1]
        last_group_end = max(i for i, line in enumerate(commands) if line == "::endgroup::")
        assert last_group_end == len(commands) - 2  # the deployment log's group, then the annotation
    else:  # the verdict's line, after the log and the console link
        assert run.stderr.splitlines()[-1].split("] ", 1)[1].startswith("failed: The deployment ended in")


def test_github_failure_shows_our_lines_the_hint_the_link_and_the_names(
    simulator: SimFactory, tmp_path: Path
) -> None:
    script = job(*FAILING, log_lines=["applying migration 0042", "ERROR: relation users exists"])
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    (ours,) = sim.deployments_of(script.job_id)
    group = log_group(run)
    assert any("applying migration 0042" in line for line in group)
    assert any("ERROR: relation users exists" in line for line in group)
    assert not any("frontend" in line for line in group)  # another service's lines stay out
    annotation = next(line for line in run.stdout.splitlines() if line.startswith("::error title="))
    assert f"Hint: {HINT}" in annotation and f"Qovery: {CAUSE}" in annotation
    assert "Not our job's error" not in run.everything()
    summary = run.summary()
    assert summary.index(f"**Hint:** {HINT}") < summary.index("| Verdict |")
    url = expected_console_url(script, ours.execution_id)
    assert run.outputs()["console-url"] == url and f"({url})" in summary
    result = run.json_result()
    assert result["error"] == {"message": CAUSE, "hint": HINT, "link": DEFAULT_ERROR["link"]}
    assert result["console_url"] == url
    assert "migrate (shop / production)" in summary
    assert "Deploying Qovery job migrate (shop / production)" in run.stdout
    assert sim.calls("service") == 1 and sim.calls("environment") == 1 and sim.calls("logs") == 1


def test_logs_never_reads_no_log_but_still_links_the_console(simulator: SimFactory, tmp_path: Path) -> None:
    script = job(*FAILING)
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script, logs="never"))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    assert sim.calls("logs") == 0
    assert "Qovery deployment log" not in run.stdout and "<details>" not in run.summary()
    assert run.outputs()["console-url"] == expected_console_url(
        script, sim.deployments_of(script.job_id)[0].execution_id
    )


@pytest.mark.parametrize(("mode", "shown"), [("always", True), ("on-failure", False)])
def test_logs_always_shows_the_log_of_a_success(
    simulator: SimFactory, tmp_path: Path, mode: str, shown: bool
) -> None:
    script = job(*SUCCEEDING, log_lines=["migrated 3 tables"])
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script, logs=mode))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert sim.calls("logs") == (1 if shown else 0)
    assert ("migrated 3 tables" in run.stdout) is shown
    assert ("migrated 3 tables" in run.summary()) is shown
    assert run.json_result()["error"] is None


@pytest.mark.parametrize(
    ("operation", "fault", "note", "deviation"),
    [
        ("logs", Fault(status=500), "Deployment log unavailable", ""),
        ("logs", Fault(status=404), "Deployment log unavailable (HTTP 404)", ""),
        ("logs", Fault(kind="truncated"), "has no line from migrate (", "Failed to deserialize"),
        ("logs", Fault(status=200, body="<html>proxy</html>"), "has no line from migrate (", "200 to GET"),
        ("logs", Fault(kind="reset"), "Deployment log unavailable", ""),
        ("logs", Fault(kind="delay", seconds=30), "Deployment log unavailable", ""),  # the floor cuts it
        pytest.param(  # only a socket can trickle: served, the step as a process
            "logs",
            Fault(kind="trickle", seconds=0.5),
            "Deployment log unavailable",
            "",
            marks=pytest.mark.process,
        ),
        (
            "service",
            Fault(status=503),
            "names and console links are unavailable (Qovery answered HTTP 503 to GET); it is called by its id",
            "",
        ),
        (
            "environment",
            Fault(status=403),
            "names and console links are unavailable (HTTP 403); it is called 'migrate' alone",
            "",
        ),
    ],
)
def test_a_failing_or_hanging_read_changes_neither_verdict_nor_exit_code(
    request: pytest.FixtureRequest, operation: str, fault: Fault, note: str, deviation: str
) -> None:
    script = job(*FAILING)
    script.faults[operation] = deque([fault])
    make: SimFactory = request.getfixturevalue("served_simulator" if fault.kind == "trickle" else "simulator")
    sim = make(script)
    if deviation:
        sim.allowed_deviations = (deviation,)
    run = run_step(plain_env(job_inputs(sim, script, **{"request-timeout": "2s"})))

    assert run.code == 1, run.stderr
    result = run.json_result()
    assert result["verdict"] == "failed" and result["state"] == "DEPLOYMENT_ERROR"
    assert note in run.stderr
    assert sim.calls(operation) == 1  # one try: no retry, no second read
    assert run.seconds < 20  # the hanging read is cut at the floor (5 s), not at the 30 s it would take


def test_hostile_log_lines_execute_nothing_and_break_nothing(simulator: SimFactory, tmp_path: Path) -> None:
    script = job(*FAILING, log_lines=HOSTILE_LINES, job_name="mi::grate ##[error]x <b>")
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script))
    github = run_step(env, files)  # run_step scans every output for the token

    assert github.code == 1, github.stderr
    assert_only_our_commands(github)
    group = log_group(github)
    assert any(line.endswith("::add-mask::DEPLOYED") for line in group)  # shown, inside the frame
    assert any("coloured output" in line for line in group) and "\x1b[31m" not in github.everything()
    assert max(len(line) for line in group) <= 1000
    summary = github.summary()
    assert "<script" not in summary and "<b>" not in summary
    assert summary.count("<details>") == 1 and summary.count("</details>") == 1
    assert len(summary.encode()) < 64 * 1024
    assert "DEPLOYMENT_ERROR" in github.outputs()["state"]

    gitlab_dir = tmp_path / "gitlab"
    gitlab_dir.mkdir()
    env, files = gitlab_env(gitlab_dir, job_inputs(sim, script))
    gitlab = run_step(env, files)
    assert gitlab.code == 1, gitlab.stderr
    assert "coloured output" in gitlab.stderr and "\x1b[31m" not in gitlab.stderr
    assert "section_start:" in gitlab.stderr and "qovery_deployment_log[collapsed=true]" in gitlab.stderr
    assert f"Hint: {HINT}" in gitlab.stderr

    plain = run_step(plain_env(job_inputs(sim, script)))
    assert plain.code == 1 and "\x1b" not in plain.stderr
    assert plain.json_result()["error"]["hint"] == HINT


def test_a_signal_during_the_log_read_keeps_the_verdict_and_stops_promptly(
    served_simulator: SimFactory,
) -> None:
    script = job(*FAILING)
    script.faults["logs"] = deque([Fault(kind="delay", seconds=30)])
    sim = served_simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)), signal_when=lambda: sim.calls("logs") >= 1)

    assert run.code == 1, run.stderr  # the deployment had failed: that is what the step reports
    assert run.json_result()["verdict"] == "failed"
    assert "Interrupted while reading the deployment log" in run.stderr
    assert run.seconds < 7.5  # inside GitHub's 7.5 s from SIGINT to SIGTERM, even on a loaded machine


def test_a_timeout_shows_the_log_so_far(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (0.2, "EXECUTING"), (60.0, "DEPLOYED"))
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, timeout="2s")))

    assert run.code == 124, run.stderr
    assert "migrate: EXECUTING" in run.stderr and "migrate: DEPLOYED" not in run.stderr
    assert sim.calls("logs") == 1
    assert run.seconds < 15  # the log read after the deadline is held to its floor


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"logs": "sometimes"}, "logs"),
        ({"console-url": "http://console.qovery.com"}, "console-url"),
        ({"console-url": "https://console.qovery.com/?x=1"}, "console-url"),
    ],
)
def test_invalid_new_inputs_exit_2_naming_them_and_send_nothing(
    simulator: SimFactory, variables: dict[str, str], named: str
) -> None:
    script = job(*FAILING)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, **variables)))

    assert run.code == 2, run.stderr
    assert f"`{named}`" in run.stderr and "Fix:" in run.stderr
    assert sim.exchanges == []


def test_logs_input_is_case_insensitive(simulator: SimFactory) -> None:
    script = job(*SUCCEEDING, log_lines=["shown"])
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, logs=" Always ")))

    assert run.code == 0, run.stderr
    assert "shown" in run.stderr


def test_a_log_over_the_size_limit_is_cut_and_said_so(simulator: SimFactory) -> None:
    script = job(*FAILING, log_lines=[f"{n:05d} " + "z" * 10_000 for n in range(600)])  # 6 MB of JSON
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 1, run.stderr
    assert "The deployment log is over 4 MB: showing its first part" in run.stderr
    assert "00000 zzz" in run.stderr and "00599 zzz" not in run.stderr  # the part past the cut is not
    assert max(len(line) for line in run.stderr.splitlines()) < 1100  # each line cut to 1000 characters
    assert run.json_result()["verdict"] == "failed"


def test_the_simulators_built_in_hostile_job_executes_nothing(simulator: SimFactory, tmp_path: Path) -> None:
    """The job tests/e2e can deploy under act, where the runner's own parser reads the output."""
    sim = simulator()
    env, files = github_env(tmp_path, inputs(job_id=HOSTILE_LOG_JOB, api_url=sim.url))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    assert_only_our_commands(run)
    assert any("pwned by a legacy command" in line for line in log_group(run))
