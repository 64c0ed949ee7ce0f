"""Runner writers: whatever the API sends, every file still parses by its runner's rules."""

from __future__ import annotations

import errno
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.runner_files import (
    MalformedOutputFile,
    outside_code_spans,
    parse_dotenv,
    parse_github_output,
    parse_result_file,
)

from qovery_job_deploy import markdown
from qovery_job_deploy.api.models import Step
from qovery_job_deploy.api.responses import clean_text
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.inputs.model import Settings
from qovery_job_deploy.inputs.names import qovery_env_name
from qovery_job_deploy.kinds import DeployRequest
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import Deletion, Known, Outcome, PreviewEnvironment, RunOutcome, Verdict
from qovery_job_deploy.publishers import Target
from qovery_job_deploy.publishers.github_outputs import format_outputs
from qovery_job_deploy.publishers.gitlab_dotenv import format_dotenv
from qovery_job_deploy.results import dotenv, outputs, result
from qovery_job_deploy.runners import RUNNERS
from qovery_job_deploy.runners.github import command, escape_data, escape_property
from qovery_job_deploy.runners.gitlab import section_end, section_start
from qovery_job_deploy.summary import summary_markdown
from qovery_job_deploy.text import one_line

HOSTILE = [
    "plain",
    "two\nlines",
    "carriage\rreturn",
    "crlf\r\n",
    "pipe | in | table",
    "<script>alert(1)</script>",
    "ghadelimiter_1234",
    "EOF\nname=injected",
    "`code` **bold** [link](https://evil.example)",
    "%0A already encoded",
    "é ü 漢字 🚀",
    "",
]


def outcome_with(text: str, verdict: Verdict = Verdict.FAILED) -> RunOutcome:
    known = Known(
        "11111111-1111-4111-8111-111111111111",
        deployment_request_id=text,
        state=text,
        execution_id=text,
        service_deployment_status=text,
        steps=(Step(step_name=text, status=text, duration_sec=3),),
    )
    return RunOutcome([Outcome(known, verdict, f"ended in {text}", 12.3)])


@pytest.mark.parametrize("value", HOSTILE)
def test_github_outputs_round_trip_through_the_runner_parser(value: str) -> None:
    written = outputs(outcome_with(value))
    parsed = parse_github_output(format_outputs(written))
    assert parsed == written
    assert json.loads(parsed["result"])["state"] == value


@settings(max_examples=200)
@given(
    st.dictionaries(st.from_regex(r"[a-z][a-z-]{0,20}", fullmatch=True), st.text(max_size=300), max_size=6)
)
def test_any_output_values_round_trip(values: dict[str, str]) -> None:
    # The runner splits on LF: a value's own CR stays, and only a trailing CR/LF pair is ambiguous.
    values = {name: value.replace("\r", "") for name, value in values.items()}
    assert parse_github_output(format_outputs(values)) == values


def test_the_parser_rejects_what_the_runner_rejects() -> None:
    with pytest.raises(MalformedOutputFile):
        parse_github_output("name<<EOF\nvalue\n")
    with pytest.raises(MalformedOutputFile):
        parse_github_output("just a line\n")


@pytest.mark.parametrize(
    ("message", "escaped"),
    [("50% done", "50%25 done"), ("a\nb", "a%0Ab"), ("a\r\nb", "a%0D%0Ab"), ("%0A", "%250A")],
)
def test_workflow_command_data_escaping(message: str, escaped: str) -> None:
    assert escape_data(message) == escaped


def test_workflow_command_property_escaping() -> None:
    assert escape_property("a:b,c\n") == "a%3Ab%2Cc%0A"
    assert command("error", "bad\nthing", title="Failed: x,y") == "::error title=Failed%3A x%2Cy::bad%0Athing"


@pytest.mark.parametrize("value", HOSTILE)
def test_dotenv_stays_valid(value: str, tmp_path: Path) -> None:
    path = tmp_path / "qovery.env"
    path.write_text(format_dotenv(dotenv(outcome_with(value))))
    parsed = parse_dotenv(path)
    assert set(parsed) == {
        "QOVERY_VERDICT",
        "QOVERY_STATE",
        "QOVERY_DEPLOYMENT_REQUEST_ID",
        "QOVERY_EXECUTION_ID",
        "QOVERY_SERVICE_DEPLOYMENT_STATUS",
        "QOVERY_DURATION_SECONDS",
        "QOVERY_DEPLOYMENT_URL",
        "QOVERY_DEPLOYED_IMAGE_TAG",
        "QOVERY_DEPLOYED_GIT_COMMIT_ID",
        "QOVERY_DEPLOYED_FORCE_EVENT",
    }
    assert all("\n" not in v for v in parsed.values())


def test_dotenv_bounds_megabytes_of_text(tmp_path: Path) -> None:
    path = tmp_path / "qovery.env"
    path.write_text(format_dotenv(dotenv(outcome_with("x" * 3_000_000))))
    assert path.stat().st_size < 5 * 1024
    assert parse_dotenv(path)["QOVERY_STATE"].startswith("xxx")


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("DEPLOYED", "DEPLOYED"),
        ("DEPLOYMENT_ERROR", "DEPLOYMENT_ERROR"),  # inside a word `_` is plain text: left readable
        ("_emphasis_ and snake_", "\\_emphasis\\_ and snake\\_"),
        ("a|b", "a\\|b"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("two\nlines\r\n", "two lines"),
        ("\x1b[31mred\x1b[0m", "\\[31mred \\[0m"),  # no terminal escape survives
        ("[x](http://e)", "\\[x\\](http://e)"),
        ("back\\slash", "back\\\\slash"),
        ("the job's #1 & only", "the job's \\#1 &amp; only"),
        ("x" * 500, "x" * 199 + "…"),
    ],
)
def test_markdown_running_text_escaping(text: str, cell: str) -> None:
    assert markdown.text(text) == cell


@pytest.mark.parametrize(
    ("value", "span"),
    [
        ("DEPLOYMENT_ERROR", "`DEPLOYMENT_ERROR`"),
        ("<script>", "`<script>`"),  # shown as typed: a code span renders no HTML
        ("a`b", "``a`b``"),  # the fence is longer than any backtick run inside
        ("``x`", "``` ``x` ```"),  # a value that starts or ends with a backtick is padded
        ("a|b", "`a\\|b`"),  # GitHub splits table cells before it reads code spans
        ("two\nlines", "`two lines`"),
        ("", "–"),  # an unknown value: the one placeholder
    ],
)
def test_markdown_code_spans(value: str, span: str) -> None:
    assert markdown.code(value) == span


@pytest.mark.parametrize("value", HOSTILE)
def test_summary_is_one_table_whatever_the_api_says(value: str) -> None:
    summary = summary_markdown(outcome_with(value))
    table_rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert all(line.endswith("|") for line in table_rows)
    assert all(line.count("|") - line.count("\\|") in (3, 4) for line in table_rows)
    assert "<script>" not in outside_code_spans(summary)


def test_summary_shows_verdict_icon_job_state_request_and_steps() -> None:
    known = Known(
        "job-1",
        "req-1",
        "DEPLOYED",
        "exec-1",
        "UP_TO_DATE",
        (Step(step_name="BUILD", status="SUCCESS", duration_sec=4),),
    )
    summary = summary_markdown(
        RunOutcome([Outcome(known, Verdict.SUCCEEDED, "The job reached DEPLOYED.", 42.4)])
    )
    for expected in (
        "✅",
        "job-1",
        "| Final state | `DEPLOYED` |",
        "req-1",
        "42 s",
        "| `BUILD` | `SUCCESS` | 4 s |",
    ):
        assert expected in summary


def named_run(name: str, *, dry_run: bool, several: bool = False) -> RunOutcome:
    """An application `name` of shop / production (and, `several`, a job beside it), planned in a dry run or
    deployed, commit 2222... asked."""
    identity = ServiceIdentity(SERVICE_ID, name, "env-1", "production", "p-1", "shop", kind="application")
    verdict = Verdict.PLANNED if dry_run else Verdict.SUCCEEDED
    request, state = (None, None) if dry_run else ("req-1", "DEPLOYED")
    outcomes = [Outcome(Known(SERVICE_ID, request, state, identity=identity), verdict, "said", 0.0)]
    if several:
        other = ServiceIdentity("job-2", "migrate", "env-1", "production", "p-1", "shop")
        outcomes.append(Outcome(Known("job-2", request, state, identity=other), verdict, "said", 0.0))
    return RunOutcome(outcomes, request=DeployRequest(git_commit_id="2222" * 10), dry_run=dry_run)


def never_requested(several: bool) -> RunOutcome:
    """`named_run`'s services, ended by an error before any deploy request (a refused token, say)."""
    run = named_run("web", dry_run=False, several=several)
    ended = [
        replace(job, known=replace(job.known, deployment_request_id=None, state=None)) for job in run.services
    ]
    return replace(run, services=[replace(job, verdict=Verdict.ERROR) for job in ended])


SERVICE_ID = "11111111-1111-4111-8111-111111111111"
HOSTILE_NAME = "web_* [x](https://evil.example) <b>"
ESCAPED_NAME = "web\\_\\* \\[x\\](https://evil.example) &lt;b&gt;"


@pytest.mark.parametrize(
    ("run", "title", "asked"),
    [
        (
            named_run("web", dry_run=True),
            "### 🔎 Dry run: Qovery application web (shop / production) would be deployed, nothing was posted",
            "| Would deploy | commit `2222222222222222222222222222222222222222` |",
        ),
        (
            named_run(HOSTILE_NAME, dry_run=True),
            f"### 🔎 Dry run: Qovery application {ESCAPED_NAME} (shop / production) would be deployed, "
            "nothing was posted",
            "| Would deploy | commit `2222222222222222222222222222222222222222` |",
        ),
        (
            named_run("web", dry_run=True, several=True),
            "### 🔎 Dry run: 2 Qovery services would be deployed, nothing was posted",
            "Would deploy: commit `2222222222222222222222222222222222222222`",
        ),
        (
            named_run("web", dry_run=False),
            "### ✅ Qovery application deployed",
            "| Deployed | commit `2222222222222222222222222222222222222222` |",
        ),
        (
            named_run("web", dry_run=False, several=True),
            "### ✅ 2 Qovery services deployed",
            "Deployed: commit `2222222222222222222222222222222222222222`",
        ),
        (
            replace(
                named_run("web", dry_run=False),
                services=[
                    replace(job, verdict=Verdict.FAILED) for job in named_run("web", dry_run=False).services
                ],
            ),
            "### ❌ Qovery application deployment failed",
            "| Requested | commit `2222222222222222222222222222222222222222` |",
        ),
        (
            never_requested(several=False),
            "### ⚠️ Qovery application: nothing was deployed",
            "| Not deployed | commit `2222222222222222222222222222222222222222` |",
        ),
        (
            never_requested(several=True),
            "### ⚠️ 2 Qovery services: nothing was deployed",
            "Not deployed: commit `2222222222222222222222222222222222222222`",
        ),
    ],
    ids=[
        "dry-run",
        "dry-run-hostile-name",
        "dry-run-several",
        "deployed",
        "deployed-several",
        "failed",
        "never-requested",
        "never-requested-several",
    ],
)
def test_the_summary_says_what_was_deployed_or_in_a_dry_run_what_would_be(
    run: RunOutcome, title: str, asked: str
) -> None:
    summary = summary_markdown(run)
    assert summary.splitlines()[0] == title
    assert asked in summary.splitlines()
    if "Deployed" not in asked:
        assert "Deployed" not in summary  # nothing was
    assert "<b>" not in summary


def test_a_deletion_s_title_escapes_its_environment_s_name() -> None:
    run = RunOutcome(
        [],
        environment=PreviewEnvironment("env-1", HOSTILE_NAME),
        deletion=Deletion(Verdict.SUCCEEDED, "gone"),
    )
    assert summary_markdown(run).splitlines()[0] == f"### ✅ Qovery environment {ESCAPED_NAME} deleted"


def test_result_has_every_field() -> None:
    data = result(outcome_with("DEPLOYED", Verdict.SUCCEEDED))
    assert set(data) == {
        "job_id",
        "verdict",
        "state",
        "deployment_request_id",
        "execution_id",
        "service_deployment_status",
        "duration_seconds",
        "steps",
        "message",
        "image_tag",
        "git_commit_id",
        "chart_version",
        "force_event",
        "job_name",
        "console_url",
        "url",
        "error",
        "jobs",
        "services",
        "dry_run",
        "current_state",
        # a preview's (`clone-from`, `delete-environment`): docs/preview.md
        "environment_id",
        "environment_url",
        "cloned",
        "deleted",
    }
    entry = {
        "type",
        "name",
        "verdict",
        "state",
        "current_state",
        "deployment_request_id",
        "execution_id",
        "duration_seconds",
        "message",
        "console_url",
        "url",
        "error",
    }
    assert set(data["services"][0]) == entry | {"id"}  # a service: id, name, type
    assert set(data["jobs"][0]) == entry | {"job_id"}  # `jobs` keeps the key it promised
    (service,), (job,) = data["services"], data["jobs"]  # a run of jobs only: the same entries
    assert service.pop("id") == job.pop("job_id") and service == job


def test_gitlab_sections() -> None:
    assert section_start("qovery_deploy", "Deploying", 1700000000.5, collapsed=True) == (
        "\x1b[0Ksection_start:1700000000:qovery_deploy[collapsed=true]\r\x1b[0KDeploying\n"
    )
    assert (
        section_end("qovery_deploy", 1700000001.0) == "\x1b[0Ksection_end:1700000001:qovery_deploy\r\x1b[0K"
    )


# -- properties: whatever the API sends, every writer's output stays valid --------------------------

# Any code point, lone surrogates included: JSON can carry them ("\\ud800"); the client cleans them.
api_text = st.text(max_size=2000).map(clean_text)
# Past every cap the writers apply (1000 characters a field, 512 bytes a dotenv value) by far, without
# building megabytes: the bound is what is proven, not the allocator.
huge_text = st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=50), st.integers(1, 2_000))


def unescape_data(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


@given(api_text)
def test_workflow_command_data_round_trips_and_stays_on_one_line(text: str) -> None:
    escaped = escape_data(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert unescape_data(escaped) == text


@settings(max_examples=60, deadline=None)
@given(st.one_of(api_text, huge_text), st.sampled_from(list(Verdict)))
def test_summary_stays_one_bounded_table(text: str, verdict: Verdict) -> None:
    known = Known("job", text, text, text, text, (Step(step_name=text, status=text, duration_sec=1),) * 80)
    summary = summary_markdown(RunOutcome([Outcome(known, verdict, text, 1.0)]))
    assert len(summary.encode()) < 256 * 1024  # a quarter of GitHub's 1 MiB per step, worst case
    for line in summary.splitlines():
        if line.startswith("|"):
            assert line.endswith("|")
            assert line.count("|") - line.count("\\|") in (3, 4)
    assert "<" not in outside_code_spans(summary).replace("&lt;", "")


@settings(max_examples=60, deadline=None)
@given(st.one_of(api_text, huge_text))
def test_dotenv_stays_valid_and_small(text: str) -> None:
    report = format_dotenv(dotenv(outcome_with(text)))
    assert len(report.encode()) < 5 * 1024
    lines = report.split("\n")
    assert lines[-1] == "" and len(lines) == 11
    assert all("=" in line and "\r" not in line for line in lines[:-1])


@settings(max_examples=60, deadline=None)
@given(st.one_of(api_text, huge_text))
def test_github_outputs_from_any_api_text_parse(text: str) -> None:
    written = outputs(outcome_with(text))
    assert parse_github_output(format_outputs(written)) == {k: v for k, v in written.items()}


@given(api_text)
def test_log_lines_are_single_lines_without_control_characters(text: str) -> None:
    line = one_line(text, 2000)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert len(line) <= 2000


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_publishing_any_api_text_writes_real_files_that_parse(text: str) -> None:
    """Through the real writers into real UTF-8 files, from text as the client hands it over."""
    with tempfile.TemporaryDirectory() as folder:
        environ = {"GITHUB_OUTPUT": f"{folder}/out", "GITHUB_STEP_SUMMARY": f"{folder}/summary"}
        outcome = outcome_with(clean_text(text))
        log = HumanLog(io.StringIO(), lambda: 0.0, 0.0)
        problems = publish("github", environ, log, outcome)
        assert problems == []
        parsed = parse_github_output(Path(f"{folder}/out").read_bytes().decode("utf-8"))  # LF only
        assert parsed["state"] == clean_text(text)
        assert publish("gitlab", {"CI_PROJECT_DIR": folder}, log, outcome) == []
        assert set(parse_dotenv(Path(folder) / "qovery.env")) >= {"QOVERY_STATE"}
        assert parse_result_file(Path(folder) / "qovery-result.json") == result(outcome)


def publish(platform: str, environ: dict[str, str], log: HumanLog, outcome: RunOutcome) -> list[str]:
    """What a platform's publishers could not write, each given the outcome once, in their order."""
    publishers = RUNNERS[platform].publishers_for(Target(environ, io.StringIO(), log))
    return [problem for publisher in publishers for problem in publisher.publish(outcome)]


def _disk_full_midway(path: Path, text: str, encoding: str, errors: str) -> NoReturn:
    with open(path, "w", encoding=encoding, errors=errors) as handle:  # Path.write_text is the one patched
        handle.write(text[: len(text) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def _cannot_rename(source: object, target: object) -> NoReturn:
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize(
    "failure",
    [("pathlib.Path.write_text", _disk_full_midway), ("os.replace", _cannot_rename)],
    ids=["disk full midway", "rename refused"],
)
def test_a_gitlab_file_is_replaced_whole_or_not_at_all_and_never_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: tuple[str, Callable[..., object]]
) -> None:
    """A later job reads the previous report whole rather than half of this one; the log claims no file
    that was not written, and each failure is reported (main turns them into the exit code)."""
    previous = {"qovery.env": "QOVERY_STATE=OLD\n", "qovery-result.json": '{"state":"OLD"}\n'}
    for name, text in previous.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(*failure)
    stream = io.StringIO()

    problems = publish(
        "gitlab",
        {"CI_PROJECT_DIR": str(tmp_path)},
        HumanLog(stream, lambda: 0.0, 0.0),
        outcome_with("DEPLOYED", Verdict.SUCCEEDED),
    )

    assert [problem.split(":")[0] for problem in problems] == ["the dotenv report", "the JSON result"]
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == previous  # no partial file left
    assert stream.getvalue() == ""


def test_a_lone_surrogate_is_cleaned_at_the_client_boundary() -> None:
    assert clean_text({"a": ["\ud800x"]}) == {"a": ["?x"]}


@settings(max_examples=30, deadline=None)
@given(st.one_of(api_text, huge_text), st.integers(2, 12))
def test_dotenv_of_many_jobs_stays_within_gitlab_limits(text: str, count: int) -> None:
    jobs = [
        Outcome(
            Known(f"{n}-job", text, text, identity=ServiceIdentity(f"{n}-job", name=text)),
            Verdict.FAILED,
            text,
            1.0,
        )
        for n in range(count)
    ]
    report = format_dotenv(dotenv(RunOutcome(jobs)))
    lines = report.split("\n")[:-1]  # GitLab splits on LF only
    assert len(report.encode()) < 5 * 1024
    assert len(lines) <= 20  # GitLab's default number of variables per report
    assert len({line.split("=", 1)[0] for line in lines}) == len(lines)
    assert report.splitlines() == lines  # and no other line break (NEL, U+2028) hides in a value


def test_no_dotenv_key_is_an_input_a_later_job_would_read() -> None:
    """A later GitLab job gets the report as variables: a key like QOVERY_CONSOLE_URL would become its input."""
    inputs = {qovery_env_name(name) for name in Settings.model_fields}
    two = RunOutcome([outcome_with("x").services[0], outcome_with("y").services[0]])
    assert not set(dotenv(two)) & inputs
