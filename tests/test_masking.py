"""What the step masks on GitHub (`::add-mask::`), before anything else is printed: the secret inputs'
values, the GitHub token variable, and any other value given to an input that has a token's shape; never
a name, a UUID or a commit SHA, which a mask would turn into `***` in the whole job's log."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.github import GITHUB_TOKEN
from support.inputs import release
from support.sims import FAST, TOKEN, SimFactory
from support.step import assert_secret_absent, base_env, run_step

from qovery_job_deploy.main import token_candidates
from qovery_job_deploy.simulator import JobScript

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
PAT = "github_pat_11ABCDEFG0123456789"
SECRET = "not-shaped-like-a-token"  # a secret input's value is masked whatever its shape
UUID = "11111111-1111-4111-8111-111111111111"
SHA = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c"
ENV = "e0e0e0e0-0000-4000-8000-0000000000cc"
RELEASE = ["--environment", "production", "--jobs", "migrate,web-broken", "--git-commit-id", SHA]
PASTED = "qov_PastedIntoANameInputZyXwVuTsRq"  # a Qovery token given where a name goes
GH = "ghp_PastedIntoTheWrongInput0123"


@pytest.mark.parametrize(
    ("argv", "environ", "masked"),
    [
        # the secret inputs, from each of their variables and flags, in each spelling argparse takes
        ([], {"QOVERY_API_TOKEN": SECRET}, {SECRET}),
        ([], {"INPUT_API-TOKEN": SECRET}, {SECRET}),
        ([], {"QOVERY_GITHUB_TOKEN": SECRET}, {SECRET}),
        ([], {"INPUT_GITHUB-TOKEN": SECRET}, {SECRET}),
        ([], {"GITHUB_TOKEN": SECRET}, {SECRET}),  # a `run:` step's GitHub token
        (["--api-token", SECRET], {}, {SECRET}),
        (["--api-token=" + SECRET], {}, {SECRET}),
        (["--github-token", SECRET], {}, {SECRET}),
        (["--github-token=" + SECRET], {}, {SECRET}),
        ([], {"QOVERY_API_TOKEN": f"  {TOKEN}\n"}, {TOKEN}),  # trimmed, as validation trims it
        (["--api-token", "--environment", "production"], {}, set()),  # a flag is no value argparse takes
        ([], {"QOVERY_API_TOKEN": "qov_abc"}, set()),  # too short: masking it would garble the log
        # a token after a mistyped flag, or without one, or pasted into another input
        (["--token", TOKEN], {}, {TOKEN}),
        (["--tokn=" + TOKEN], {}, {TOKEN}),
        (["--api-tokn", JWT], {}, {JWT}),
        (["--gh-token", GITHUB_TOKEN], {}, {GITHUB_TOKEN}),
        ([PAT], {}, {PAT}),
        (["--jobs", f"migrate,{TOKEN}"], {}, {TOKEN}),  # an item of a list
        ([], {"QOVERY_JOBS": f"migrate\n{JWT}"}, {JWT}),
        ([], {"INPUT_ENVIRONMENT": GITHUB_TOKEN}, {GITHUB_TOKEN}),
        # a token with text around it: the token itself
        (["--job-id", f"'{PASTED}'"], {}, {PASTED}),  # quoted
        (["--jobs", f"[{PASTED}]"], {}, {PASTED}),  # bracketed
        (["--jobs", f"migrate;{PASTED}"], {}, {PASTED}),
        (["--services", f"a:{GH}"], {}, {GH}),
        (["--environment", f"x={JWT}"], {}, {JWT}),
        ([f"--jobs=release{PASTED}.v2"], {}, {PASTED}),  # inside a longer word
        ([f"'{PASTED}'"], {}, {PASTED}),  # a stray value
        ([f"--{PASTED}"], {}, {PASTED}),  # a flag
        ([], {"INPUT_JOBS": f"migrate;{PASTED}", "QOVERY_PROJECT": f"shop/{GH}"}, {PASTED, GH}),
        (["--jobs", f"migrate,'{PASTED}'"], {}, {PASTED}),  # an item, quoted
        (["--jobs", f"migrate,{PASTED}x"], {}, {f"{PASTED}x"}),  # an item that starts like a token: whole
        # everything else stays readable
        (["--environment", "production"], {}, set()),
        (["--job-id", UUID], {}, set()),
        (["--git-commit-id", SHA], {}, set()),
        (["--jobs", "migrate,web-broken"], {}, set()),
        (["--jobs=migrate,web-broken"], {}, set()),
        (["--environmnet", "production"], {}, set()),  # a mistyped flag's value that is no token
        (["--jobs", "qov_"], {}, set()),  # a prefix alone is no token
        (["--jobs", "migrate;qov_abc"], {}, set()),  # nor a prefix and a few characters in a text
        (["--jobs", "keyJob.v1.2"], {}, set()),  # nor `eyJ` in a word: a JWT's header is longer
        (["--jobs", "nightly-ghs_backup"], {}, set()),  # nor a prefix and a short word
        (["--image-tag", "v1.2.3"], {}, set()),
        ([], {"QOVERY_ENVIRONMENT": "production", "INPUT_JOB-ID": UUID, "QOVERY_GIT_COMMIT_ID": SHA}, set()),
        (RELEASE, {"GITHUB_ACTIONS": "true", "QOVERY_API_TOKEN": TOKEN}, {TOKEN}),  # the trial's command
    ],
)
def test_only_secrets_and_values_shaped_like_a_token_are_masked(
    argv: list[str], environ: dict[str, str], masked: set[str]
) -> None:
    assert set(token_candidates(argv, environ)) == masked


def test_a_run_step_masks_its_tokens_and_leaves_names_and_shas_readable(
    simulator: SimFactory, tmp_path: Path
) -> None:
    """The trial: the command in a GitHub `run:` step (no INPUT_* variables), names and a SHA as flags."""
    jobs = [
        JobScript(
            str(uuid.uuid4()),
            [(0.0, "QUEUED"), (0.5, end)],
            job_name=name,
            environment_id=ENV,
            job_origin="git",
        )
        for name, end in (("migrate", "DEPLOYED"), ("web-broken", "DEPLOYMENT_ERROR"))
    ]
    sim = simulator(*jobs)
    env = base_env() | {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "QOVERY_API_TOKEN": TOKEN,
        "GITHUB_TOKEN": GITHUB_TOKEN,
    }
    files = {"output": tmp_path / "output", "summary": tmp_path / "summary"}
    run = run_step(env, files, args=[*RELEASE, "--api-url", sim.url, "--poll-interval", FAST])

    assert run.code == 1, run.stdout + run.stderr  # web-broken failed, and said so
    masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
    assert masks == [f"::add-mask::{TOKEN}", f"::add-mask::{GITHUB_TOKEN}"]
    assert run.stdout.splitlines()[:2] == masks  # before anything else
    assert SHA in run.outputs()["git-commit-id"] and "production" in run.summary()


REFUSED = {"QOVERY_API_TOKEN": "not-a-qovery-token-but-secret"}  # the simulator answers 401


@pytest.mark.parametrize(
    ("args", "environ", "token", "code", "said"),
    [
        (["--job-id", f"'{PASTED}'"], {}, PASTED, 2, [
            "Invalid input `job-id` (value not shown (part of it looks like a token), from the flag "
            "--job-id): is not a UUID",
        ]),
        ([f"'{PASTED}'"], {}, PASTED, 2, ["a value without a flag before it (not shown: it looks like a token)"]),
        (["--jobs", f"migrate;{PASTED}", "--environment", "production"], {}, PASTED, 2, [
            "Inputs: poll-interval ", "; jobs value not shown (part of it looks like a token), from the flag --jobs;",
            "Invalid input `jobs` (value not shown (part of it looks like a token), from the flag --jobs): no "
            "job is named (not shown: it looks like a token) in environment production.",
        ]),
        (["--jobs", f"migrate;{PASTED}", "--environment", "production"], REFUSED, PASTED, 3, [
            "::group::Qovery job (not shown): nothing was deployed",  # the group's title
        ]),
        (["--jobs", f"[{PASTED}]", "--environment", "production"], {}, PASTED, 2, ["no job is named (not shown"]),
        (["--services", f"a:{GH}", "--environment", "production"], {}, GH, 2, ["`a` is not a service type"]),
        (["--services", f"api, x={JWT}", "--environment", "production"], {}, JWT, 2, [
            "no service is named (not shown: it looks like a token) in environment production",
        ]),
        (["--jobs", "migrate", "--environment", f"release{PASTED}.v2"], {}, PASTED, 2, [
            "no environment is named (not shown: it looks like a token) in ",
        ]),
        (["--job-id", UUID, "--image-tag", f"v1;{PASTED}"], {}, PASTED, 2, [
            "Invalid input `image-tag` (value not shown (part of it looks like a token), from the flag "
            "--image-tag): holds what looks like a token",
        ]),
        (["--job-id", UUID], {"QOVERY_GIT_COMMIT_ID": GH}, GH, 2, [
            "Invalid input `git-commit-id` (value not shown, from the environment variable QOVERY_GIT_COMMIT_ID): "
            "holds what looks like a token",
        ]),
    ],
)  # fmt: skip
def test_a_token_inside_a_value_is_masked_first_and_never_printed(
    simulator: SimFactory,
    tmp_path: Path,
    args: list[str],
    environ: dict[str, str],
    token: str,
    code: int,
    said: list[str],
) -> None:
    """A token pasted with text around it (quotes, brackets, a list's `;`, a `TYPE:`, `x=`, a longer word),
    in a value, a stray argument or a name: masked before anything is printed, and no line says it."""
    sim, _ = release(simulator)
    env = base_env() | {"GITHUB_ACTIONS": "true", "QOVERY_API_TOKEN": TOKEN} | environ
    run = run_step(env, {}, args=[*args, "--api-url", sim.url, "--poll-interval", FAST])

    assert run.code == code, run.stdout + run.stderr
    assert f"::add-mask::{token}" in run.stdout.splitlines()[:2]  # before anything else
    for words in said:
        assert words in run.shown(), run.shown()
    assert [line for line in run.shown().splitlines() if token in line] == [f"::add-mask::{token}"]
    assert_secret_absent(run, token)  # nor any 8 characters of it
