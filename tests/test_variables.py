"""A variable that looks like an input's but is none (`QOVERY_SEQUENTAIL`, `QOVERY_SERVICE`) is ignored, and
said so with the variable it likely means; other tools' variables (`QOVERY_CLI_ACCESS_TOKEN`, Qovery's own,
this step's dotenv report) are never mentioned, and no variable's value is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.inputs import ENV, inputs, release, release_inputs
from support.sims import TOKEN, SimFactory
from support.step import assert_refused, gitlab_env, platform_env, run_step

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.inputs.sources import load_settings, misspelled_variables

GITHUB = {"GITHUB_ACTIONS": "true"}
GITLAB = {"GITLAB_CI": "true"}
JOB = "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize(
    ("environ", "meant"),
    [
        # a typo away from an input's variable: said, with the closest
        ({"QOVERY_SEQUENTAIL": "true"}, {"QOVERY_SEQUENTAIL": "QOVERY_SEQUENTIAL"}),
        ({"QOVERY_SERVICE": "migrate"}, {"QOVERY_SERVICE": "QOVERY_SERVICES"}),
        ({"QOVERY_JOB": "migrate"}, {"QOVERY_JOB": "QOVERY_JOBS"}),  # not QOVERY_JOB_ID: a word short
        ({"QOVERY_JOBID": JOB}, {"QOVERY_JOBID": "QOVERY_JOB_ID"}),
        ({"QOVERY_DRYRUN": "true"}, {"QOVERY_DRYRUN": "QOVERY_DRY_RUN"}),
        ({"QOVERY_TIMOUT": "5m"}, {"QOVERY_TIMOUT": "QOVERY_TIMEOUT"}),
        ({"QOVERY_WIAT": "false"}, {"QOVERY_WIAT": "QOVERY_WAIT"}),
        ({"QOVERY_ENVIRONEMNT": "x"}, {"QOVERY_ENVIRONEMNT": "QOVERY_ENVIRONMENT"}),
        ({"QOVERY_ORGANISATION": "x"}, {"QOVERY_ORGANISATION": "QOVERY_ORGANIZATION"}),
        ({"QOVERY_CLONE_FORM": "x"}, {"QOVERY_CLONE_FORM": "QOVERY_CLONE_FROM"}),
        ({"QOVERY_PR_COMMENTS": "true"}, {"QOVERY_PR_COMMENTS": "QOVERY_PR_COMMENT"}),
        ({"QOVERY_APITOKEN": "x"}, {"QOVERY_APITOKEN": "QOVERY_API_TOKEN"}),
        ({"QOVERY_JOBS_": "x"}, {"QOVERY_JOBS_": "QOVERY_JOBS"}),
        ({"qovery_jobs": "x"}, {"qovery_jobs": "QOVERY_JOBS"}),  # names are case-sensitive
        (GITHUB | {"INPUT_JOB_ID": JOB}, {"INPUT_JOB_ID": "INPUT_JOB-ID"}),  # the runner keeps the hyphen
        (GITHUB | {"INPUT_SERVICE": "x"}, {"INPUT_SERVICE": "INPUT_SERVICES"}),
        (GITHUB | {"QOVERY_SERVICE": "x"}, {"QOVERY_SERVICE": "QOVERY_SERVICES"}),
        (
            {"QOVERY_SERVICE": "x", "QOVERY_TIMOUT": "5m"},
            {"QOVERY_SERVICE": "QOVERY_SERVICES"} | {"QOVERY_TIMOUT": "QOVERY_TIMEOUT"},
        ),
        # an input's own variable, an empty one, anyone else's: nothing
        ({"QOVERY_SERVICES": "x", "QOVERY_DRY_RUN": "true", "INPUT_JOB-ID": JOB}, {}),
        ({"QOVERY_SERVICE": "", "QOVERY_SEQUENTAIL": "  "}, {}),  # empty counts as unset
        ({"QOVERY_CLI_ACCESS_TOKEN": TOKEN}, {}),  # Qovery's CLI
        ({"QOVERY_TOKEN": TOKEN, "QOVERY_API_KEY": TOKEN}, {}),  # a word dropped, or another word
        ({"QOVERY_GITHUB_ENV": "x"}, {}),  # ENV is neither TOKEN nor ENVIRONMENT
        ({"QOVERY_PROJECT_ID": JOB, "QOVERY_ORGANIZATION_ID": JOB, "QOVERY_ENVIRONMENT_NAME": "x"}, {}),
        ({"QOVERY_CLOUD_PROVIDER_REGION": "x", "QOVERY_KUBERNETES_NAMESPACE_NAME": "x"}, {}),
        ({"QOVERY_URL": "x", "QOVERY_STATE": "x", "QOVERY_VERDICT": "x", "QOVERY_CLONED": "x"}, {}),  # ours
        ({"QOVERY_ENVIRONMENT_ID": JOB, "QOVERY_ENVIRONMENT_URL": "x", "QOVERY_DEPLOYED_IMAGE_TAG": "x"}, {}),
        ({"QOVERY_JOB_MIGRATE_URL": "x", "QOVERY_CONTAINER_API_URL": "x", "QOVERY_JOB_A_STATE": "x"}, {}),
        ({"INPUT_JOB_ID": JOB, "INPUT_SERVICE": "x"}, {}),  # INPUT_* is GitHub's: elsewhere anyone's
        (GITLAB | {"INPUT_SERVICE": "x"}, {}),
        ({"SEQUENTAIL": "true", "QOVERYSERVICE": "x"}, {}),  # no prefix
    ],
)
def test_a_variable_a_typo_away_from_an_input_s_is_named_with_the_one_it_means(
    environ: dict[str, str], meant: dict[str, str]
) -> None:
    assert {miss.variable: miss.meant for miss in misspelled_variables(environ)} == meant


def test_the_warning_names_the_variable_never_its_value_and_escapes_it() -> None:
    (miss,) = misspelled_variables({"QOVERY_SERVICES\r": "migrate"})
    assert miss.warning() == (
        "QOVERY_SERVICES\\r is not an input of this step (ignored); did you mean QOVERY_SERVICES?"
    )
    assert miss.hint() == "did you mean QOVERY_SERVICES? (QOVERY_SERVICES\\r is set)"


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        (
            {"QOVERY_SERVICE": "migrate"},
            "Invalid input `job-id`: is required (or give `jobs` or `services`): set the environment variable "
            "QOVERY_JOB_ID, or give --job-id; did you mean QOVERY_SERVICES? (QOVERY_SERVICE is set). Fix: ",
        ),
        ({"QOVERY_JOB": "migrate"}, "did you mean QOVERY_JOBS? (QOVERY_JOB is set). Fix: "),
        ({"QOVERY_JOBID": JOB}, "did you mean QOVERY_JOB_ID? (QOVERY_JOBID is set). Fix: "),
        (
            GITHUB | {"INPUT_JOB_ID": JOB},
            "set `job-id` in the step's `with:`; did you mean INPUT_JOB-ID? (INPUT_JOB_ID is set). Fix: ",
        ),
        (
            {"QOVERY_API_TOKEN": "", "QOVERY_APITOKEN": TOKEN, "QOVERY_JOB_ID": JOB},
            "Invalid input `api-token`: is required, and the environment variable QOVERY_API_TOKEN is not set; "
            "did you mean QOVERY_API_TOKEN? (QOVERY_APITOKEN is set). Fix: ",
        ),
        (
            {"QOVERY_JOBS": "migrate", "QOVERY_ENVIRONEMNT": "production"},
            "give --environment; did you mean QOVERY_ENVIRONMENT? (QOVERY_ENVIRONEMNT is set). Fix: ",
        ),
    ],
)
def test_a_missing_input_s_error_names_the_variable_that_likely_meant_it(
    environ: dict[str, str], said: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN} | environ)
    assert said in str(caught.value)
    assert "migrate`" not in str(caught.value) and TOKEN not in str(caught.value)  # no value shown


@pytest.mark.parametrize(
    "environ",
    [
        {"QOVERY_SEQUENTAIL": "true"},  # a near-miss of another input: not what job-id misses
        {"QOVERY_SERVICE_NAME": "migrate"},  # another variable: a word added
        {"QOVERY_JOBS": "", "QOVERY_JOB": ""},  # empty
    ],
)
def test_a_missing_input_s_error_names_no_variable_that_is_no_near_miss_of_it(
    environ: dict[str, str],
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN} | environ)
    assert "Invalid input `job-id`: is required" in str(caught.value)
    assert "did you mean" not in str(caught.value)


@pytest.mark.parametrize("platform", ["github", "gitlab", "plain"])
def test_the_step_warns_of_a_misspelled_variable_and_its_error_names_the_one_meant(
    platform: str, tmp_path: Path
) -> None:
    env, files = platform_env(platform, tmp_path, inputs())
    run = run_step(env | {"QOVERY_SERVICE": "migrate-and-seed", "QOVERY_SEQUENTAIL": "true"}, files)

    assert_refused(run, "Invalid input `job-id`: is required")
    warnings = [line.split("] ", 1)[1] for line in run.stderr.splitlines() if "is not an input" in line]
    assert warnings == [
        "warning: QOVERY_SEQUENTAIL is not an input of this step (ignored); did you mean QOVERY_SEQUENTIAL?",
        "warning: QOVERY_SERVICE is not an input of this step (ignored); did you mean QOVERY_SERVICES?",
    ]
    assert "did you mean QOVERY_SERVICES? (QOVERY_SERVICE is set)" in run.problems()[0]
    assert "migrate-and-seed" not in run.stdout + run.stderr


def test_a_later_job_that_reads_this_step_s_dotenv_report_hears_of_none_of_its_variables(
    simulator: SimFactory, tmp_path: Path
) -> None:
    """GitLab hands the dotenv report to the jobs that `needs:` this one: a second run of the step there
    reads QOVERY_URL, QOVERY_CONTAINER_API_URL, QOVERY_DEPLOYED_IMAGE_TAG... as its environment."""
    sim, _ = release(simulator)
    (tmp_path / "first").mkdir()
    first = run_step(*gitlab_env(tmp_path / "first", release_inputs(sim, "migrate, api, web")))
    assert first.code == 0, first.stderr
    report = first.dotenv()
    assert {"QOVERY_URL", "QOVERY_CONTAINER_API_URL", "QOVERY_JOB_MIGRATE_STATE"} <= set(report)

    (tmp_path / "second").mkdir()
    env, files = gitlab_env(tmp_path / "second", release_inputs(sim, "api", environment=ENV))
    second = run_step(report | env, files)

    assert second.code == 0, second.stderr
    assert "is not an input" not in second.stderr
