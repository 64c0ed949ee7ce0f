"""GitLab CI as the step meets it (GITLAB_CI=true), through run_step: the dotenv report for `needs:` jobs,
the JSON result in its own file beside it (kept by `artifacts: paths:`), and a job log kept for people."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.inputs import job_inputs
from support.sims import SimFactory, job
from support.step import gitlab_env, run_step


def test_gitlab_writes_a_valid_dotenv_report_and_log_sections(simulator: SimFactory, tmp_path: Path) -> None:
    script = job()
    sim = simulator(script)
    env, files = gitlab_env(tmp_path, job_inputs(sim, script))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    report = run.dotenv()
    assert report["QOVERY_STATE"] == "DEPLOYED"
    assert report["QOVERY_DEPLOYMENT_REQUEST_ID"] == sim.deployments_of(script.job_id)[0].id
    assert set(report) >= {
        "QOVERY_EXECUTION_ID",
        "QOVERY_SERVICE_DEPLOYMENT_STATUS",
        "QOVERY_DURATION_SECONDS",
    }
    assert "\x1b[0Ksection_start:" in run.stderr and "\x1b[0Ksection_end:" in run.stderr


@pytest.mark.parametrize(
    ("dotenv_file", "result_file", "said"),
    [
        (None, "qovery-result.json", "qovery-result.json"),  # $CI_PROJECT_DIR, as artifacts: paths: names it
        ("reports/deploy.env", "reports/qovery-result.json", "reports/qovery-result.json"),
        ("../elsewhere/deploy.env", "../elsewhere/qovery-result.json", "{tmp}/elsewhere/qovery-result.json"),
    ],
)
def test_gitlab_keeps_the_json_result_in_a_file_beside_the_dotenv_and_the_log_for_people(
    simulator: SimFactory, tmp_path: Path, dotenv_file: str | None, result_file: str, said: str
) -> None:
    script = job()
    sim = simulator(script)
    project = tmp_path / "project"
    inputs = job_inputs(sim, script)
    if dotenv_file is not None:
        inputs["dotenv-file"] = str(project / dotenv_file)
    env, files = gitlab_env(project, inputs)
    files = {"dotenv": project / (dotenv_file or "qovery.env"), "result": project / result_file}
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    result, report = run.result_file(), run.dotenv()
    (ours,) = sim.deployments_of(script.job_id)
    assert (result["verdict"], result["state"], result["deployment_request_id"]) == (
        "succeeded",
        "DEPLOYED",
        ours.id,
    )
    assert result["execution_id"] == report["QOVERY_EXECUTION_ID"]  # one outcome, told twice
    assert run.stdout == ""  # the job log is for people: no JSON line in it
    assert "{" not in run.stderr
    assert f"The JSON result is in {said.format(tmp=tmp_path)} (" in run.stderr
    assert sorted(path.name for path in files["result"].parent.iterdir() if ".partial" in path.name) == []


def test_a_project_dir_that_is_a_file_is_said_in_the_file_system_s_words(
    simulator: SimFactory, tmp_path: Path
) -> None:
    script = job()
    sim = simulator(script)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env, _ = gitlab_env(tmp_path, job_inputs(sim, script))
    run = run_step(env | {"CI_PROJECT_DIR": str(blocker)})

    assert run.code == 3, run.stderr  # the deployment succeeded; its report could not be written
    said = [line for line in run.stderr.splitlines() if "error: could not write the dotenv report: " in line]
    assert said and str(blocker) in said[0] and "Error:" not in said[0]  # not Python's exception name
