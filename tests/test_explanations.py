"""Pure logic of the explanations: console links, names, the deployment log's parsing and filtering, the
report's new sections, and the frame that keeps untrusted lines from acting as GitHub commands."""

from __future__ import annotations

import io
import json

import pytest
from support.runner_commands import commands_outside_frames
from support.runner_files import parse_github_output

from qovery_job_deploy.console import console_base, console_url
from qovery_job_deploy.deployment_log import DeploymentLog, LogLine, QoveryDiagnosis, our_log, parse_entries
from qovery_job_deploy.diagnosis import (
    LOG_FLOOR_SECONDS,
    LOG_MAX_SECONDS,
    log_budget,
    wants_log,
)
from qovery_job_deploy.identity import ServiceIdentity, canonical_uuid
from qovery_job_deploy.outcome import Known, Outcome, RunOutcome, Verdict
from qovery_job_deploy.publishers.github_outputs import format_outputs
from qovery_job_deploy.results import outputs, result
from qovery_job_deploy.runners.github import without_commands
from qovery_job_deploy.summary import md_link, summary_markdown
from qovery_job_deploy.text import strip_ansi

JOB = "11111111-1111-4111-8111-111111111111"
OTHER = "44444444-4444-4444-8444-444444444444"
ORG, PROJECT, ENV = "o-1", "p-2", "e-3"
FULL = ServiceIdentity(JOB, "migrate", ENV, "production", PROJECT, "shop", ORG)
BASE = "https://console.qovery.com"
PAGE = f"{BASE}/organization/o-1/project/p-2/environment/e-3/service/{JOB}"


@pytest.mark.parametrize(
    ("identity", "execution_id", "expected"),
    [
        (FULL, "exec-9", f"{PAGE}/deployments/logs/exec-9"),
        (FULL, None, PAGE),  # before the execution is known: the job's page
        (FULL, "", PAGE),
        (ServiceIdentity(JOB, "migrate", ENV, "production"), "exec-9", None),  # no organization or project id
        (ServiceIdentity(JOB), None, None),
        # Ids from the API are one path segment each, whatever they contain.
        (FULL, "../../x?y=1#z", f"{PAGE}/deployments/logs/..%2F..%2Fx%3Fy%3D1%23z"),
        (
            ServiceIdentity(JOB, organization_id="a/b", project_id="p q", environment_id="e\n::error::x"),
            None,
            f"{BASE}/organization/a%2Fb/project/p%20q/environment/e%0A%3A%3Aerror%3A%3Ax/service/{JOB}",
        ),
    ],
)
def test_console_url(identity: ServiceIdentity, execution_id: str | None, expected: str | None) -> None:
    assert console_url(BASE, identity, execution_id) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://console.qovery.com", "https://console.qovery.com"),
        ("  https://console.example.com/qovery/ ", "https://console.example.com/qovery"),
        ("http://console.qovery.com", None),
        ("javascript:alert(1)", None),
        ("https://", None),
        ("https://console.qovery.com/?next=evil", None),
        ("https://user:pass@console.qovery.com", None),
        ("console.qovery.com", None),
    ],
)
def test_console_url_input_accepts_only_plain_https(value: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="https://"):
            console_base(value)
    else:
        assert console_base(value) == expected


@pytest.mark.parametrize(
    ("identity", "label"),
    [
        (FULL, "migrate (shop / production)"),
        (ServiceIdentity(JOB, "migrate", ENV, "production"), "migrate (production)"),
        (ServiceIdentity(JOB, "migrate"), "migrate"),
        (ServiceIdentity(JOB), JOB),
    ],
)
def test_identity_label(identity: ServiceIdentity, label: str) -> None:
    assert identity.label() == label


def entry(transmitter: str, message: str, **extra: object) -> dict[str, object]:
    return {
        "type": "DEPLOYMENT",
        "timestamp": "2026-01-01T00:00:00Z",
        "details": {
            "transmitter": {"id": transmitter, "name": "x", "type": "JOB"},
            "stage": {"step": "Deploy"},
        },
        "message": {"safe_message": message},
        **extra,
    }


ERROR = {"user_log_message": "exit code 1", "hint_message": "fix the job", "link": "https://hub.qovery.com/x"}
BODY = json.dumps(
    [
        entry(OTHER, "frontend line", error={"user_log_message": "not ours", "hint_message": "not ours"}),
        entry(JOB, "first"),
        entry(JOB, "second", error=ERROR),
        entry(OTHER, "frontend again"),
    ]
).encode()


@pytest.mark.parametrize(
    ("body", "messages", "has_diagnosis"),
    [
        (BODY, ["first", "second"], True),
        (BODY[: BODY.index(b"second") + 3], ["first"], False),  # cut mid-entry: the entries before it
        (b"[]", [], False),
        (b"", [], False),
        (b"<html>502</html>", [], False),
        (b'{"not": "a list"}', [], False),
        (json.dumps([1, "x", None, entry(JOB, "kept")]).encode(), ["kept"], False),  # odd items skipped
        (json.dumps([{"details": {"transmitter": {"id": JOB}}, "message": 5}]).encode(), [""], False),
    ],
)
def test_our_job_lines_from_any_body(body: bytes, messages: list[str], has_diagnosis: bool) -> None:
    log = our_log(parse_entries(body), JOB)
    assert [line.message for line in log.lines] == messages
    assert log.total == len(messages)
    assert (log.diagnosis == QoveryDiagnosis("exit code 1", "fix the job", "https://hub.qovery.com/x")) is (
        has_diagnosis
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("\x1b]8;;https://evil\x07link\x1b]8;;\x07", "link"),
        ("two\nlines\r", "two lines"),
        ("lone \ud800 surrogate", "lone ? surrogate"),
        ("token qov_Secret123456789 leaked", "token *** leaked"),
        ("x" * 100_000, "x" * 999 + "…"),
    ],
)
def test_log_lines_are_one_clean_bounded_line_without_secrets(raw: str, shown: str) -> None:
    body = json.dumps([entry(JOB, raw)]).encode()
    (line,) = our_log(parse_entries(body), JOB, secrets=["qov_Secret123456789"]).lines
    assert line.message == shown


def test_only_the_last_lines_are_kept() -> None:
    body = json.dumps([entry(JOB, f"line {n}") for n in range(1200)]).encode()
    log = our_log(parse_entries(body), JOB)
    assert log.total == 1200 and len(log.lines) == 500 and log.lines[-1].message == "line 1199"


def test_strip_ansi_keeps_plain_text() -> None:
    assert strip_ansi("plain [31m text") == "plain [31m text"


@pytest.mark.parametrize(
    ("mode", "verdict", "read"),
    [
        ("on-failure", Verdict.FAILED, True),
        ("on-failure", Verdict.TIMED_OUT, True),
        ("on-failure", Verdict.ERROR, True),
        ("on-failure", Verdict.SUCCEEDED, False),
        ("on-failure", Verdict.ACCEPTED, False),
        ("always", Verdict.SUCCEEDED, True),
        ("always", Verdict.CANCELLED, False),  # a cancelled step must stop promptly
        ("never", Verdict.FAILED, False),
    ],
)
def test_when_the_log_is_read(mode: str, verdict: Verdict, read: bool) -> None:
    assert wants_log(mode, verdict) is read  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("time_left", "cap", "budget"),
    [
        (600.0, 30.0, LOG_MAX_SECONDS),
        (600.0, 7.0, 7.0),
        (8.0, 30.0, 8.0),
        (1.0, 30.0, LOG_FLOOR_SECONDS),
        (-50.0, 30.0, LOG_FLOOR_SECONDS),
        (600.0, 1.0, LOG_FLOOR_SECONDS),
    ],
)
def test_log_budget(time_left: float, cap: float, budget: float) -> None:
    assert log_budget(time_left, cap) == budget


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://hub.qovery.com/docs/x", "[doc](https://hub.qovery.com/docs/x)"),
        ("https://e.com/a) [x](javascript:y", "[doc](https://e.com/a%29%20%5Bx%5D%28javascript:y)"),
        ("https://e.com/a|b", "[doc](https://e.com/a%7Cb)"),
        ("javascript:alert(1)", None),
        ("http://hub.qovery.com", None),
        ("", None),
        (None, None),
    ],
)
def test_md_link_keeps_only_https_and_cannot_break_out(url: str | None, link: str | None) -> None:
    assert md_link("doc", url) == link


def explained(lines: list[str], diagnosis: QoveryDiagnosis | None) -> RunOutcome:
    log = DeploymentLog(
        tuple(LogLine("2026-01-01T00:00:00Z", "Deploy", text) for text in lines), 40, diagnosis
    )
    known = Known(
        JOB, deployment_request_id="r-1", state="DEPLOYMENT_ERROR", execution_id="exec-9", identity=FULL
    )
    return RunOutcome([Outcome(known, Verdict.FAILED, "ended", 3.0, f"{PAGE}/deployments/logs/exec-9", log)])


def test_summary_puts_the_hint_first_then_the_table_then_the_last_30_log_lines() -> None:
    diagnosis = QoveryDiagnosis("exit <b>1</b>", "run `migrate` | again", "https://hub.qovery.com/x")
    summary = summary_markdown(explained([f"line {n}" for n in range(40)], diagnosis))

    assert summary.index("**Hint:**") < summary.index("| Verdict |") < summary.index("<details>")
    assert "> **Qovery:** exit &lt;b&gt;1&lt;/b&gt;" in summary
    assert "> **Hint:** run \\`migrate\\` \\| again" in summary
    assert "[Qovery's documentation](https://hub.qovery.com/x)" in summary
    assert f"| Job | migrate (shop / production) · `{JOB}` |" in summary
    assert f"| Qovery console | [deployment log]({PAGE}/deployments/logs/exec-9) |" in summary
    assert "(last 30 of 40 lines)" in summary and "line 9\n" not in summary and "line 10\n" in summary


def test_summary_log_block_escapes_html_and_stays_small() -> None:
    hostile = ["</pre></details><script>alert(1)</script>", "``` fence", "<!-- comment", "x" * 100_000]
    summary = summary_markdown(explained(hostile, None))
    assert "<script" not in summary and "<!--" not in summary
    assert summary.count("<details>") == 1 and summary.count("</pre>") == 1
    assert "&lt;/pre&gt;&lt;/details&gt;&lt;script&gt;" in summary
    assert len(summary.encode()) < 20_000


def test_result_carries_the_error_and_the_console_link() -> None:
    diagnosis = QoveryDiagnosis("exit 1", "fix it", None)
    data = result(explained(["a"], diagnosis))
    assert data["error"] == {"message": "exit 1", "hint": "fix it", "link": None}
    assert data["console_url"] == f"{PAGE}/deployments/logs/exec-9"
    assert data["job_name"] == "migrate"
    assert result(RunOutcome([Outcome(Known(JOB), Verdict.FAILED, "x", 1.0)]))["error"] is None


@pytest.mark.parametrize(
    "line",
    [
        "::add-mask::DEPLOYED",
        "::error::pwned",
        "  ::warning::x",
        "##[error]legacy",
        "text ##[set-output name=a;]b",
    ],
)
def test_framed_lines_are_no_commands_and_unframed_ones_are(line: str) -> None:
    framed = "\n".join(without_commands([line, "::stop-commands::guess", "::guess::"]))
    assert commands_outside_frames(framed) == [framed.splitlines()[0]]  # only the frame's own start
    assert commands_outside_frames(line) == [line]  # the checker does see an unframed command


def test_frame_tokens_are_random_and_absent_from_the_text() -> None:
    first, second = without_commands(["a"]), without_commands(["a"])
    assert first[0] != second[0]
    token = first[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and first[-1] == f"::{token}::"


def test_show_log_on_github_frames_lines_inside_a_group() -> None:
    from qovery_job_deploy.log import HumanLog  # noqa: PLC0415
    from qovery_job_deploy.runners import GitHubPresenter  # noqa: PLC0415

    stdout, stderr = io.StringIO(), io.StringIO()
    presenter = GitHubPresenter({}, stdout, HumanLog(stderr, lambda: 0.0, 0.0))
    presenter.show_log("log of \x1b[1mmi::grate\n%", ["::error::x", "\x1b[31mred"])
    lines = stdout.getvalue().splitlines()
    assert lines[0] == "::group::log of mi::grate %25" and lines[-1] == "::endgroup::"
    assert lines[1].startswith("::stop-commands::") and lines[2:4] == ["::error::x", "red"]
    assert stderr.getvalue() == ""


@pytest.mark.parametrize(
    "text", ["##[error]pwned", "state ##[add-mask]DEPLOYED", "::error::x", "##[##[error]"]
)
def test_the_human_log_is_inert_on_github(text: str) -> None:
    from qovery_job_deploy.log import HumanLog  # noqa: PLC0415

    stream = io.StringIO()
    log = HumanLog(stream, lambda: 0.0, 0.0)
    log.info(text)
    log.warning(text)
    log.state(text)
    assert commands_outside_frames(stream.getvalue()) == []
    assert commands_outside_frames(text) == [text]  # the checker does see the raw text as a command


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (JOB, JOB),
        (JOB.upper(), JOB),
        ("../../organization", None),
        (f"{JOB}/../x", None),
        ("", None),
        (None, None),
    ],
)
def test_ids_from_the_api_are_used_only_as_uuids(value: str | None, kept: str | None) -> None:
    assert canonical_uuid(value) == kept


@pytest.mark.parametrize(
    "text", ["two\nlines", "ghadelimiter_00000000-0000-0000-0000-000000000000", "crlf\r\n", "é 🚀", "\ud800"]
)
def test_outputs_with_a_hostile_diagnosis_still_parse(text: str) -> None:
    written = outputs(explained([text], QoveryDiagnosis(text, text, text)))
    parsed = parse_github_output(format_outputs(written))
    assert parsed == written
    assert json.loads(parsed["result"])["error"] == {"message": text, "hint": text, "link": text}
