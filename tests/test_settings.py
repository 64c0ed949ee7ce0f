"""Settings: sources and precedence, parsing, and one clear message per invalid input (tables)."""

from __future__ import annotations

import re

import pytest
from support.step import ROOT, declared_inputs

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.inputs.durations import format_duration, parse_duration
from qovery_job_deploy.inputs.messages import BOOLEAN_WORDS
from qovery_job_deploy.inputs.model import ServiceRef, Settings
from qovery_job_deploy.inputs.names import Given, find_tokens, holds_a_token, looks_like_a_token
from qovery_job_deploy.inputs.sources import load_settings
from qovery_job_deploy.invocation import commands

JOB = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"
TOKEN = "qov_SecretValue123456"
VALID = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_JOB_ID": JOB}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1.5m", 90.0),
        ("500ms", 0.5),
        (" 2S ", 2.0),
        ("1m30s", 90.0),
        ("1h2m", 3720.0),
        ("1h2m3s", 3723.0),
        ("2m", 120.0),
        ("1M 30S", 90.0),
        ("1s500ms", 1.5),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "expected a duration such as"),
        ("-5", "expected a duration such as"),
        ("10 minutes", "expected a duration such as"),
        ("1d", "expected a duration such as"),
        ("m", "expected a duration such as"),
        ("1h30", "`30` at its end has no unit: write `1h30m`"),  # 30 what? said, and the likely fix
        ("30s1m", "largest first"),
        ("1m1m", "largest first"),
        ("1m30", "`30` at its end has no unit: write `1m30s`"),
        ("1.5.2m", "expected a duration such as"),
    ],
)
def test_parse_duration_rejects(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=re.escape(said)):
        parse_duration(text)


@pytest.mark.parametrize(
    ("name", "value", "fix"), [("auth-scheme", "jwt", "auto, token or bearer"), ("logs", "sometimes", "live")]
)
def test_a_value_of_a_fixed_set_is_told_in_words_with_the_values_it_takes(
    name: str, value: str, fix: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([f"--{name}", value], VALID)
    said = str(caught.value)
    assert f"`{value}` from the flag --{name}): is none of the values it takes. Fix: use " in said
    assert fix in said and "Input should be" not in said  # not pydantic's words


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("poll-interval", "0", "must be at least 0.2s"),  # as 0.1 is told: the least, not "above zero"
        ("poll-interval", "0.1", "must be at least 0.2s"),
        ("timeout", "0m0s", "must be at least 1s"),
    ],
)
def test_zero_is_told_the_least_its_input_takes(name: str, value: str, said: str) -> None:
    with pytest.raises(InputError, match=re.escape(said)):
        load_settings([f"--{name}", value], VALID)


@pytest.mark.parametrize(
    ("argv", "environ", "expected_timeout"),
    [
        ([], VALID, 1800.0),  # default: 30m
        ([], VALID | {"QOVERY_TIMEOUT": "5m"}, 300.0),
        ([], VALID | {"QOVERY_TIMEOUT": "1m30s"}, 90.0),
        ([], VALID | {"QOVERY_TIMEOUT": "5m", "INPUT_TIMEOUT": "2m"}, 120.0),  # GitHub input beats QOVERY_
        (
            ["--timeout", "1m"],
            VALID | {"QOVERY_TIMEOUT": "5m", "INPUT_TIMEOUT": "2m"},
            60.0,
        ),  # flag beats all
        ([], VALID | {"QOVERY_TIMEOUT": "5m", "INPUT_TIMEOUT": ""}, 300.0),  # empty input means unset
        ([], VALID | {"INPUT_TIMEOUT": "   "}, 1800.0),
    ],
)
def test_precedence_flag_then_github_input_then_qovery_variable(
    argv: list[str], environ: dict[str, str], expected_timeout: float
) -> None:
    assert load_settings(argv, environ).timeout == expected_timeout


def test_github_inputs_keep_their_hyphens() -> None:
    settings = load_settings([], {"INPUT_API-TOKEN": TOKEN, "INPUT_JOB-ID": JOB, "INPUT_FORCE-EVENT": "cron"})
    assert str(settings.job_id) == JOB and settings.force_event == "CRON"


@pytest.mark.parametrize(
    ("token", "scheme", "header"),
    [
        ("qov_abc", "auto", "Token qov_abc"),
        ("aaa.bbb.ccc", "auto", "Bearer aaa.bbb.ccc"),
        ("opaque", "auto", "Token opaque"),
        ("qov_abc", "bearer", "Bearer qov_abc"),
        ("aaa.bbb.ccc", "TOKEN", "Token aaa.bbb.ccc"),
    ],
)
def test_authorization_scheme(token: str, scheme: str, header: str) -> None:
    settings = load_settings(
        [], {"QOVERY_API_TOKEN": token, "QOVERY_JOB_ID": JOB, "QOVERY_AUTH_SCHEME": scheme}
    )
    assert settings.authorization() == header


@pytest.mark.parametrize(
    "url",
    [
        "https://api.qovery.com",
        "https://api.qovery.com/",
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:5",
    ],
)
def test_api_url_accepted(url: str) -> None:
    assert load_settings([], VALID | {"QOVERY_API_URL": url}).api_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"QOVERY_JOB_ID": JOB}, "api-token"),
        ({"QOVERY_API_TOKEN": TOKEN}, "job-id"),
        (VALID | {"QOVERY_JOB_ID": "123"}, "job-id"),
        (VALID | {"QOVERY_API_TOKEN": "qov_with space"}, "api-token"),
        (VALID | {"QOVERY_AUTH_SCHEME": "basic"}, "auth-scheme"),
        (VALID | {"QOVERY_SERVICES": "api"}, "job-id"),  # job-id and services: one way at a time
        (VALID | {"QOVERY_FORCE_EVENT": "RESTART"}, "force-event"),
        (VALID | {"QOVERY_FORCE_EVENT": "DIFF"}, "force-event"),  # for helm charts: job-id names a job
        (VALID | {"QOVERY_APPLY_IMMEDIATELY": "now"}, "apply-immediately"),
        (VALID | {"QOVERY_WAIT": "maybe"}, "wait"),
        (VALID | {"QOVERY_TIMEOUT": "soon"}, "timeout"),
        (VALID | {"QOVERY_TIMEOUT": "0"}, "timeout"),
        (VALID | {"QOVERY_POLL_INTERVAL": "-1"}, "poll-interval"),
        (VALID | {"QOVERY_API_URL": "http://api.qovery.com"}, "api-url"),
        (VALID | {"QOVERY_API_URL": "ftp://127.0.0.1"}, "api-url"),
        (VALID | {"QOVERY_API_URL": "not a url"}, "api-url"),
        (VALID | {"QOVERY_DEBUG": "sometimes"}, "debug"),
    ],
)
def test_invalid_input_names_the_input_and_the_fix_without_the_value(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], environ)
    message = str(caught.value)
    assert f"`{named}`" in message and "Fix:" in message
    assert "SecretValue" not in message and "with space" not in message


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--no-such-flag"], "unknown flag `--no-such-flag`. See"),
        (["--jobid", JOB], "unknown flag `--jobid`. Did you mean `--job-id`?"),
        (["--job", "migrate"], "unknown flag `--job`. Did you mean `--jobs`?"),
        (["--timout=5m"], "unknown flag `--timout`. Did you mean `--timeout`?"),
        (["--token", TOKEN], "Did you mean `--api-token`?"),
        (["--no-wiat"], "Did you mean `--no-wait`?"),
        (["--verison"], "Did you mean `--version`?"),
        (["--timeout"], "--timeout needs a value after it (`--timeout VALUE`)"),
        (["--job-id"], "--job-id needs a value after it (`--job-id VALUE`)"),
        (["--no-wait=yes"], "--no-wait takes no value"),
        (
            ["migrate"],
            "`migrate` has no flag before it (each value follows its flag). Fix: to deploy it, give `--jobs migrate`",
        ),
        (
            [JOB],
            f"`{JOB}` has no flag before it (each value follows its flag). Fix: to deploy it, give `--job-id {JOB}`",
        ),
        (["--timeout", "5m", "api"], "`api` has no flag before it"),
        (["migrate\x1b[31m\n::error::x"], "`migrate [31m ::error::x` has no flag"),  # one line, no escape
        ([TOKEN], "a value without a flag before it (not shown: it looks like a token)"),
    ],
)
def test_a_bad_command_line_says_what_is_wrong(argv: list[str], said: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings(argv, VALID)
    assert said in str(caught.value)
    # The help it points to, as this shell runs this installation (`.venv/bin/...` when not on PATH).
    assert f"See `{commands().step} --help`." in str(caught.value)


def test_token_is_never_in_the_settings_repr() -> None:
    settings = load_settings([], VALID)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_action_yml_declares_every_input_the_program_reads() -> None:
    declared = {name.replace("-", "_") for name in declared_inputs()}
    assert declared == set(Settings.model_fields)


# How an input's description in action.yml states its default (a `default:` key would beat QOVERY_* variables).
STATED_DEFAULT = re.compile(r"Defaults to `([^`]*)`\.")
# The one exception: the job's own GitHub token, which only the workflow knows and a container action gets
# only through an input. The model has no default for it (outside the action, GITHUB_TOKEN serves), and a
# QOVERY_GITHUB_TOKEN in `env:` is hidden by it, which action.yml says.
WORKFLOW_DEFAULTS = {"github-token": "${{ github.token }}"}


@pytest.mark.parametrize(("name", "spec"), list(declared_inputs().items()))
def test_action_yml_sets_no_default_and_states_the_model_s_own(name: str, spec: dict[str, object]) -> None:
    field_name = name.replace("-", "_")
    field = Settings.model_fields[field_name]
    if name in WORKFLOW_DEFAULTS:
        assert spec["default"] == WORKFLOW_DEFAULTS[name] and field.default is None
        assert STATED_DEFAULT.findall(str(spec["description"])) == []
        return
    assert "default" not in spec, (
        f"{name}: a `default:` would be passed as INPUT_* and hide QOVERY_* from env:"
    )
    assert bool(spec.get("required")) == field.is_required()
    stated = STATED_DEFAULT.findall(str(spec["description"]))
    if field.is_required() or field.default is None:
        assert stated == [], f"{name} has no default in the model"
        return
    assert len(stated) == 1, f"{name}: its description must say `Defaults to `VALUE`.` once, not {stated}"
    from_description = load_settings([], VALID | {f"INPUT_{name.upper()}": stated[0]})
    assert getattr(from_description, field_name) == field.default


@pytest.mark.parametrize(
    "argv",
    [
        ["--token", TOKEN],
        ["--api_token", TOKEN],
        [TOKEN],
        ["--api-token"],
        ["--job-id", JOB, "--no-wait=" + JOB],
        ["--api-tokn=" + TOKEN],
        ["--" + TOKEN],
        ["--timeout", "5m", TOKEN],
    ],
)
def test_a_bad_command_line_never_echoes_its_values(argv: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        load_settings(argv, VALID)
    assert "SecretValue" not in str(caught.value) and JOB not in str(caught.value)
    assert "--help" in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["--wait"], "wait", True),
        (["--no-wait"], "wait", False),
        (["--wait", "false"], "wait", False),
        (["--wait=false"], "wait", False),
        (["--no-wait", "--wait"], "wait", True),  # the last one wins, as with any flag
        (["--debug"], "debug", True),
        (["--no-debug"], "debug", False),
        (["--cancel-on-timeout"], "cancel_on_timeout", True),
        (["--cancel-on-abort", "--timeout", "5m"], "cancel_on_abort", True),
        (["--cancel-on-abort", "--timeout", "5m"], "timeout", 300.0),
        (["--apply-immediately"], "apply_immediately", True),
        (["--no-apply-immediately"], "apply_immediately", False),
        (["--apply-immediately", "false"], "apply_immediately", False),
        ([], "apply_immediately", False),
    ],
)
def test_a_bare_boolean_flag_means_true_and_no_flag_false(argv: list[str], field: str, value: object) -> None:
    assert getattr(load_settings(argv, VALID | {"QOVERY_WAIT": "false"}), field) == value


@pytest.mark.parametrize(
    ("given", "value"),
    [
        *(
            (word, True)
            for word in ("true", "True", "TRUE", "yes", "Yes", "on", "ON", "1", "y", "T", " yes\n")
        ),
        *((word, False) for word in ("false", "False", "no", "NO", "off", "Off", "0", "n", "F")),
    ],
)
def test_a_boolean_takes_the_words_its_message_lists(given: str, value: bool) -> None:
    assert load_settings([], VALID | {"QOVERY_DRY_RUN": given}).dry_run is value


@pytest.mark.parametrize("given", ["2", "-1", "1.0", "enable", "oui", "tru", "yess", "none"])
def test_an_invalid_boolean_is_told_every_word_a_boolean_takes(given: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], VALID | {"QOVERY_DRY_RUN": given})
    assert str(caught.value) == (
        f"Invalid input `dry-run` (`{given}` from the environment variable QOVERY_DRY_RUN): is neither true nor "
        "false. Fix: use true or false (also yes/no, on/off, 1/0, y/n, t/f, in any case)."
    )


@pytest.mark.parametrize(("true", "false"), BOOLEAN_WORDS)
def test_every_word_the_boolean_fix_lists_is_taken_in_any_case(true: str, false: str) -> None:
    for word, value in ((true, True), (false, False)):
        for spelled in (word, word.upper(), word.capitalize()):
            assert load_settings([f"--wait={spelled}"], VALID).wait is value


@pytest.mark.parametrize(
    ("argv", "environ", "field", "value"),
    [
        ([], {"QOVERY_JOB_ID": f"  {JOB}\n"}, "job_id", JOB),
        (["--job-id", f" {JOB} "], {}, "job_id", JOB),
        ([], {"INPUT_JOB-ID": f"\t{JOB} "}, "job_id", JOB),
        ([], {"QOVERY_IMAGE_TAG": " v1.2.3 "}, "image_tag", "v1.2.3"),
        ([], {"QOVERY_FORCE_EVENT": " cron "}, "force_event", "CRON"),
        ([], {"QOVERY_CHART_VERSION": " 1.2.3\n"}, "chart_version", "1.2.3"),
        (["--chart-version", " 0.9.0-rc.1 "], {}, "chart_version", "0.9.0-rc.1"),
        ([], {"INPUT_CHART-VERSION": "  "}, "chart_version", "None"),  # empty: unset
    ],
)
def test_values_are_trimmed(argv: list[str], environ: dict[str, str], field: str, value: object) -> None:
    assert str(getattr(load_settings(argv, VALID | environ), field)) == value


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        (
            "QOVERY_TIMEOUT",
            "9999999h",
            "`timeout` (`9999999h` from the environment variable QOVERY_TIMEOUT): must be at most 24h",
        ),
        ("QOVERY_TIMEOUT", "9" * 400, "must be at most 24h"),  # a float infinity, not an overflow
        ("QOVERY_TIMEOUT", "500ms", "must be at least 1s"),
        (
            "QOVERY_POLL_INTERVAL",
            "2h",
            "`poll-interval` (`2h` from the environment variable QOVERY_POLL_INTERVAL): must be at most 10m",
        ),
        ("QOVERY_POLL_INTERVAL", "0.1s", "must be at least 0.2s, not to hammer the API"),
        ("QOVERY_REQUEST_TIMEOUT", "99999999999999999m", "must be at most 10m"),
        ("QOVERY_REQUEST_TIMEOUT", "100ms", "must be at least 0.5s"),
    ],
)
def test_every_duration_is_bounded_and_says_its_bound(variable: str, value: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], VALID | {variable: value})
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "environ", "said"),
    [
        ([], {"QOVERY_TIMEOUT": "soon"}, "`timeout` (`soon` from the environment variable QOVERY_TIMEOUT)"),
        ([], {"QOVERY_TIMEOUT": "5m", "INPUT_TIMEOUT": "soon"}, "(`soon` from the GitHub input `timeout`)"),
        (["--timeout", "soon"], {"INPUT_TIMEOUT": "5m"}, "(`soon` from the flag --timeout)"),
        (["--no-wait=x"], {}, "--no-wait takes no value"),
        (
            [],
            {"INPUT_WAIT": "maybe"},
            "`wait` (`maybe` from the GitHub input `wait`): is neither true nor false",
        ),
        (
            [],
            {"QOVERY_JOB_ID": "123"},
            "`job-id` (`123` from the environment variable QOVERY_JOB_ID): is not a UUID (8-4-4-4-12 hexadecimal",
        ),
    ],
)
def test_an_invalid_value_is_shown_with_where_it_came_from(
    argv: list[str], environ: dict[str, str], said: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings(argv, VALID | environ)
    assert said in str(caught.value)


JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
UNSECURED_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjMifQ."


@pytest.mark.parametrize(
    ("value", "hidden"),
    [
        ("v1.2.3", False),
        ("1.4.0-rc.1", False),
        ("aaa.bbb.ccc", False),
        ("production", False),
        ("4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c", False),  # a commit SHA
        ("11111111-1111-4111-8111-111111111111", False),  # a UUID
        ("migrate,web-broken", False),
        (JWT, True),
        (UNSECURED_JWT, True),  # `"alg": "none"`: its signature, the third part, is empty
        (f" {JWT}\n", True),
        ("qov_x", True),
        ("ghp_x", True),  # a personal access token (classic)
        ("gho_x", True),  # an OAuth token
        ("ghu_x", True),  # a user-to-server token
        ("ghs_x", True),  # a server-to-server token (the workflow's GITHUB_TOKEN)
        ("ghr_x", True),  # a refresh token
        ("github_pat_x", True),  # a fine-grained personal access token
    ],
)
def test_only_a_real_token_shape_is_hidden(value: str, hidden: bool) -> None:
    assert looks_like_a_token(value) is hidden


PASTED = "qov_PastedIntoANameInputZyXwVuTsRq"
GH = "ghp_PastedIntoTheWrongInput0123"


@pytest.mark.parametrize(
    ("text", "found", "hidden"),
    [
        (f"'{PASTED}'", [PASTED], True),  # quoted
        (f"[{PASTED}]", [PASTED], True),  # bracketed
        (f"migrate;{PASTED}", [PASTED], True),
        (f"a:{GH}", [GH], True),
        (f"x={JWT}", [JWT], True),
        (f"x={UNSECURED_JWT}", [UNSECURED_JWT], True),
        (f"release{PASTED}.v2", [PASTED], True),  # inside a longer word
        (f"{PASTED}/{GH}", [PASTED, GH], True),  # each of several
        (f"{GH}-{PASTED}", [GH, PASTED], True),  # a GitHub token's characters are letters and digits
        ("github_pat_11ABCDEFG0123456789", ["github_pat_11ABCDEFG0123456789"], True),
        ("production", [], False),
        ("11111111-1111-4111-8111-111111111111", [], False),  # a UUID
        ("4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c", [], False),  # a commit SHA
        ("migrate,web", [], False),
        ("migrate;qov_", [], False),  # a prefix alone is no token
        ("nightly-ghs_backup", [], False),  # nor a prefix and a short word
        ("keyJob.v1.2", [], False),  # nor `eyJ` in a word: a JWT's header is longer
        ("aaa.bbb.ccc", [], False),
        ("qov_", [], True),  # a whole value that starts like a token is hidden, as before
        ("migrate, qov_x", [], True),  # and an item of a list that does
    ],
)
def test_a_token_is_found_inside_any_text(text: str, found: list[str], hidden: bool) -> None:
    assert find_tokens(text) == found
    assert holds_a_token(text) is hidden


@pytest.mark.parametrize(
    ("argv", "environ", "said"),
    [
        (["--job-id", f"'{PASTED}'"], {}, "Invalid input `job-id` (value not shown (part of it looks like a "
         "token), from the flag --job-id): is not a UUID (8-4-4-4-12 hexadecimal digits). Fix: copy the "),
        ([], {"INPUT_JOB-ID": f"[{PASTED}]"}, "`job-id` (value not shown (part of it looks like a token), "
         "from the GitHub input `job-id`): is not a UUID"),
        ([f"'{PASTED}'"], {}, "a value without a flag before it (not shown: it looks like a token). Fix: pass "
         "the token as QOVERY_API_TOKEN"),
        ([f"x={JWT}"], {}, "a value without a flag before it (not shown: it looks like a token)"),
        ([f"--x{PASTED}"], {}, "unknown flag `--(a token)`"),
        (["--jobs", f"migrate;{PASTED}"], {}, "Invalid input `job-id`: job-id and jobs are both set (job-id "
         f"`{JOB}` from the environment variable QOVERY_JOB_ID; jobs value not shown (part of it looks like "
         "a token), from the flag --jobs)"),
        (["--services", f"a:{GH}"], {"QOVERY_JOB_ID": ""}, "Invalid input `services` (value "
         "not shown (part of it looks like a token), from the flag --services): `a` is not a service type"),
        (["--services", f"'{PASTED}':api"], {"QOVERY_JOB_ID": ""}, "an item's prefix is not a service type"),
        (["--timeout", f"release{PASTED}.v2"], {}, "Invalid input `timeout` (value not shown (part of it "
         "looks like a token), from the flag --timeout)"),
    ],
)  # fmt: skip
def test_a_token_inside_a_value_is_never_shown(argv: list[str], environ: dict[str, str], said: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings(argv, VALID | environ)
    message = str(caught.value)
    assert said in message, message
    for token in (PASTED, GH, JWT):
        assert token[4:12] not in message and token[-8:] not in message
    assert "give it in `jobs`" not in message  # never taken for a name


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        (
            {"QOVERY_API_TOKEN": "qov_with space"},
            "`api-token` (value not shown, from the environment variable",
        ),
        ({"INPUT_API-TOKEN": "a.b c.d"}, "`api-token` (value not shown, from the GitHub input `api-token`)"),
        ({"QOVERY_JOB_ID": TOKEN}, "`job-id` (value not shown, from the environment variable QOVERY_JOB_ID)"),
        ({"QOVERY_TIMEOUT": JWT}, "`timeout` (value not shown"),  # a JWT: its header is JSON
    ],
)
def test_a_token_is_never_shown_even_in_the_wrong_input(environ: dict[str, str], said: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], VALID | environ)
    message = str(caught.value)
    assert said in message
    assert "SecretValue" not in message and "with space" not in message and "b c" not in message


def test_several_errors_give_one_line_each_and_the_exclusion_is_among_them() -> None:
    environ = {
        "QOVERY_JOB_ID": "not-a-uuid",
        "QOVERY_TIMEOUT": "soon",
        "INPUT_WAIT": "perhaps",
        "INPUT_SERVICES": "container:api",
    }
    with pytest.raises(InputError) as caught:
        load_settings([], environ)
    lines = str(caught.value).splitlines()
    assert [line.split("`")[1] for line in lines] == ["api-token", "job-id", "wait", "timeout", "job-id"]
    assert all(line.startswith("Invalid input `") and "Fix:" in line for line in lines)
    assert (
        "job-id and services are both set (job-id `not-a-uuid` from the environment variable "
        "QOVERY_JOB_ID; services `container:api` from the GitHub input `services`)" in lines[-1]
    )
    assert "is required, and the environment variable QOVERY_API_TOKEN is not set" in lines[0]


def test_the_exclusion_alone_is_one_line() -> None:
    environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_JOBS": "migrate", "QOVERY_SERVICES": "api"}
    with pytest.raises(InputError) as caught:
        load_settings([], environ | {"QOVERY_ENVIRONMENT": "production"})
    assert str(caught.value).splitlines() == [
        "Invalid input `jobs`: jobs and services are both set (jobs `migrate` from the environment variable "
        "QOVERY_JOBS; services `api` from the environment variable QOVERY_SERVICES). "
        "Fix: give either `jobs` or `services`, not both."
    ]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"QOVERY_JOB_ID": JOB, "QOVERY_JOBS": "migrate"}, [("job-id", "jobs")]),
        ({"QOVERY_JOB_ID": JOB, "QOVERY_SERVICES": "api"}, [("job-id", "services")]),
        ({"QOVERY_JOBS": "migrate", "INPUT_SERVICES": "api"}, [("jobs", "services")]),
        (
            {"QOVERY_JOB_ID": JOB, "QOVERY_JOBS": "migrate", "QOVERY_SERVICES": "api"},
            [("job-id", "jobs"), ("job-id", "services"), ("jobs", "services")],
        ),
    ],
)
def test_job_id_jobs_and_services_exclude_each_other(
    environ: dict[str, str], named: list[tuple[str, str]]
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN, "QOVERY_ENVIRONMENT": "production"} | environ)
    lines = str(caught.value).splitlines()
    assert [line.split(": ", 1)[1].split(" (")[0] for line in lines] == [
        f"{first} and {second} are both set" for first, second in named
    ]


@pytest.mark.parametrize(
    ("environ", "image_tag", "git_commit_id"),
    [
        ({"QOVERY_IMAGE_TAG": "v1", "QOVERY_GIT_COMMIT_ID": "abc123"}, "v1", "abc123"),
        ({"INPUT_IMAGE-TAG": "v1", "QOVERY_GIT_COMMIT_ID": "abc123"}, "v1", "abc123"),
        ({"QOVERY_IMAGE_TAG": "v1"}, "v1", None),
        ({"QOVERY_GIT_COMMIT_ID": "abc123"}, None, "abc123"),
    ],
)
def test_image_tag_and_git_commit_id_may_be_given_together(
    environ: dict[str, str], image_tag: str | None, git_commit_id: str | None
) -> None:
    """A monorepo releases containers and applications at once: each service takes the one for its source."""
    settings = load_settings([], VALID | environ)
    assert (settings.image_tag, settings.git_commit_id) == (image_tag, git_commit_id)


def test_the_job_id_hint_points_at_the_current_console_url() -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], VALID | {"QOVERY_JOB_ID": "nope"})
    assert "…/environment/<environment id>/service/<job id>/…" in str(caught.value)
    assert "/application/" not in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1800.0, "30m"), (3.0, "3s"), (30.0, "30s"), (0.2, "0.2s"), (86400.0, "24h"), (90.0, "90s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_job_id_and_jobs_together_are_reported_even_with_other_errors() -> None:
    environ = VALID | {"QOVERY_JOBS": "migrate", "QOVERY_ENVIRONMENT": "production", "QOVERY_TIMEOUT": "soon"}
    with pytest.raises(InputError) as caught:
        load_settings([], environ)
    lines = str(caught.value).splitlines()
    assert [line.split("`")[1] for line in lines] == ["timeout", "job-id"]
    assert lines[1] == (
        f"Invalid input `job-id`: job-id and jobs are both set (job-id `{JOB}` from the environment variable "
        "QOVERY_JOB_ID; jobs `migrate` from the environment variable QOVERY_JOBS). "
        "Fix: give either `job-id` or `jobs`, not both."
    )


GITHUB = {"GITHUB_ACTIONS": "true"}
GITLAB = {"GITLAB_CI": "true"}


@pytest.mark.parametrize(
    ("platform", "environ", "said"),
    [
        ({}, {"QOVERY_API_TOKEN": TOKEN},
         "Invalid input `job-id`: is required (or give `jobs` or `services`): set the environment variable "
         "QOVERY_JOB_ID, or give --job-id. Fix:"),
        (GITHUB, {"INPUT_API-TOKEN": TOKEN},
         "Invalid input `job-id`: is required (or give `jobs` or `services`): set `job-id` in the step's `with:`."),
        (GITLAB, {"QOVERY_API_TOKEN": TOKEN},
         "Invalid input `job-id`: is required (or give `jobs` or `services`): set the variable QOVERY_JOB_ID "
         "(in the job's `variables:`)."),
        ({}, {"QOVERY_JOB_ID": JOB},
         "Invalid input `api-token`: is required, and the environment variable QOVERY_API_TOKEN is not set. Fix: "
         "create an API token in the Qovery console (Organization settings > API tokens), then pass it in the "
         "environment variable QOVERY_API_TOKEN (`docker run -e QOVERY_API_TOKEN`, or `export "
         "QOVERY_API_TOKEN=...` before the command)."),
        (GITHUB, {"INPUT_JOB-ID": JOB, "INPUT_API-TOKEN": ""},
         "Invalid input `api-token`: is required, and the input `api-token` is not set. Fix: create an API token "
         "in the Qovery console (Organization settings > API tokens), then store it as a repository secret and "
         "pass it as `with: api-token: ${{ secrets.QOVERY_API_TOKEN }}`."),
        (GITLAB, {"QOVERY_JOB_ID": JOB},
         "Invalid input `api-token`: is required, and the variable QOVERY_API_TOKEN is not set. Fix: create an "
         "API token in the Qovery console (Organization settings > API tokens), then store it as a masked CI/CD "
         "variable named QOVERY_API_TOKEN (Settings > CI/CD > Variables)."),
        (GITLAB, {"QOVERY_JOB_ID": JOB, "QOVERY_API_TOKEN": "two words"},
         "Invalid input `api-token` (value not shown, from the variable QOVERY_API_TOKEN): contains white space"),
        (GITLAB, VALID | {"QOVERY_TIMEOUT": "soon"}, "(`soon` from the variable QOVERY_TIMEOUT)"),
        (GITHUB, VALID | {"QOVERY_TIMEOUT": "soon"}, "(`soon` from the environment variable QOVERY_TIMEOUT)"),
        (GITLAB, VALID | {"INPUT_TIMEOUT": "soon"}, "(`soon` from the GitHub input `timeout`)"),
        (GITLAB, VALID | {"QOVERY_JOBS": "a", "QOVERY_SERVICES": "b"},
         "jobs `a` from the variable QOVERY_JOBS; services `b` from the variable QOVERY_SERVICES"),
    ],
)  # fmt: skip
def test_each_platform_says_where_an_input_is_set_in_its_own_words(
    platform: dict[str, str], environ: dict[str, str], said: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], platform | environ)
    assert said in str(caught.value)
    assert "GitHub" not in str(caught.value) or "INPUT_TIMEOUT" in environ  # only a GitHub input is called so


# -- services: any type, each item `NAME`, `UUID` or `TYPE:NAME` ------------------------------------------

SCOPED = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_ENVIRONMENT": "production"}


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("api", [(None, "api")]),
        ("container:api", [("container", "api")]),
        ("Container : api ", [("container", "api")]),  # any case, spaces around the colon
        ("HELM:ingress, database:main-db", [("helm", "ingress"), ("database", "main-db")]),
        ("job:migrate\napplication:web\n", [("job", "migrate"), ("application", "web")]),
        ("api, , web,", [(None, "api"), (None, "web")]),  # empty items dropped, as for `jobs`
        ("container:api:v2", [("container", "api:v2")]),  # the name is all after the first ':'
        ("job:my job", [("job", "my job")]),
        (f"helm:{JOB}, {OTHER}", [("helm", JOB), (None, OTHER)]),
    ],
)
def test_services_are_names_or_uuids_each_with_an_optional_type(
    text: str, refs: list[tuple[str | None, str]]
) -> None:
    settings = load_settings([], SCOPED | {"QOVERY_SERVICES": text})
    assert settings.service_refs() == tuple(ServiceRef(kind, ref) for kind, ref in refs)


@pytest.mark.parametrize(
    ("environ", "refs"),
    [
        (VALID, [("job", JOB)]),
        (SCOPED | {"QOVERY_JOBS": "migrate, report"}, [("job", "migrate"), ("job", "report")]),
    ],
)
def test_job_id_and_jobs_are_service_refs_of_type_job(
    environ: dict[str, str], refs: list[tuple[str, str]]
) -> None:
    assert load_settings([], environ).service_refs() == tuple(ServiceRef(kind, ref) for kind, ref in refs)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "contaner:api",
            "`contaner` is not a service type (the text before an item's first ':' must be job, "
            "application, container, helm, database or terraform)",
        ),
        ("api, lambda:fn", "`lambda` is not a service type"),
        ("my app: v2", "`my app` is not a service type"),  # a name with ':' needs its type first
        (":api", "an item starts with ':' but no type"),
        ("helm:", "`helm:` is not followed by a name or UUID"),
        ("api, database: ", "`database:` is not followed by a name or UUID"),
        (" ,\n, ", "names no service"),
    ],
)
def test_a_bad_services_item_is_an_input_error_naming_the_types(text: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], SCOPED | {"INPUT_SERVICES": text})
    (line,) = str(caught.value).splitlines()
    assert line.startswith("Invalid input `services` (") and "from the GitHub input `services`)" in line
    assert said in line
    assert "Fix: give service names or UUIDs" in line and "`container:api:v2`" in line


def test_a_token_pasted_as_a_type_is_not_shown() -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], SCOPED | {"QOVERY_SERVICES": "qov_SecretValue123456:x"})
    assert "SecretValue" not in str(caught.value) and "an item's prefix is not a service type" in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("environ", "ok"),
    [
        ({"QOVERY_SERVICES": "api"}, False),
        ({"QOVERY_SERVICES": "container:api"}, False),
        ({"QOVERY_SERVICES": f"{JOB}, {OTHER}"}, True),  # UUIDs need no scope, as for jobs
        ({"QOVERY_SERVICES": f"helm:{JOB}"}, True),
        ({"QOVERY_SERVICES": f"{JOB}, api"}, False),
        ({"QOVERY_SERVICES": "api", "QOVERY_ENVIRONMENT": "production"}, True),
        ({"QOVERY_JOBS": "migrate"}, False),
        ({"QOVERY_JOBS": JOB}, True),
    ],
)
def test_services_by_name_need_an_environment(environ: dict[str, str], ok: bool) -> None:
    if ok:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN} | environ)
        return
    with pytest.raises(InputError) as caught:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN} | environ)
    assert str(caught.value).startswith(
        "Invalid input `environment`: is required when a job or service is given by name"
    )


@pytest.mark.parametrize(
    ("environ", "event"),
    [
        ({"QOVERY_SERVICES": "helm:ingress", "QOVERY_FORCE_EVENT": "diff"}, "DIFF"),
        ({"QOVERY_SERVICES": "ingress", "INPUT_FORCE-EVENT": " Diff "}, "DIFF"),
        # which event fits which type is checked once the services' types are known, not here
        ({"QOVERY_SERVICES": "api", "QOVERY_FORCE_EVENT": "CRON"}, "CRON"),
    ],
)
def test_diff_is_accepted_for_services(environ: dict[str, str], event: str) -> None:
    assert load_settings([], SCOPED | environ).force_event == event


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        (
            VALID | {"QOVERY_FORCE_EVENT": "diff"},
            "Invalid input `force-event` (`diff` from the environment variable QOVERY_FORCE_EVENT): `job-id` "
            "names jobs, and a job takes START, STOP, DELETE or CRON. Fix: give an event the services you "
            "deploy take, or leave it empty.",
        ),
        (
            SCOPED | {"QOVERY_JOBS": "migrate", "QOVERY_FORCE_EVENT": "DIFF"},
            "`jobs` names jobs, and a job takes START, STOP, DELETE or CRON",
        ),
        (
            VALID | {"INPUT_FORCE-EVENT": "run"},
            "Invalid input `force-event` (`run` from the GitHub input `force-event`): is no event Qovery can "
            "force: a job takes START, STOP, DELETE or CRON; a helm chart takes DIFF; applications, containers, "
            "databases and terraform services take none. Fix:",
        ),
        (
            SCOPED | {"QOVERY_SERVICES": "api", "QOVERY_FORCE_EVENT": "RESTART"},
            "(`RESTART` from the environment",
        ),
    ],
)
def test_a_force_event_no_service_takes_is_an_input_error_in_the_users_terms(
    environ: dict[str, str], said: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], environ)
    assert said in str(caught.value)


def test_the_readme_inputs_table_has_a_row_per_input() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Inputs", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert rows == set(declared_inputs())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("migrate\nweb-broken\napi\n", "`migrate, web-broken, api` from"),  # a YAML block scalar
        ("migrate, api", "`migrate, api` from"),
        ("migrate", "`migrate` from"),
    ],
)
def test_a_list_given_one_per_line_is_shown_as_the_comma_list_it_means(value: str, shown: str) -> None:
    assert Given(value, "INPUT_SERVICES").describe(secret=False).startswith(shown)


@pytest.mark.parametrize(
    ("environ", "how"),
    [
        ({"QOVERY_JOB_ID": "migrate"}, "set the environment variable QOVERY_JOBS, or give --jobs"),
        ({"GITLAB_CI": "true", "QOVERY_JOB_ID": "migrate"}, "set the variable QOVERY_JOBS (in the job's `variables:`)"),
        ({"GITHUB_ACTIONS": "true", "INPUT_JOB-ID": "migrate"}, "set `jobs` in the step's `with:`"),
    ],
)  # fmt: skip
def test_a_name_in_job_id_is_pointed_at_jobs_in_the_platform_s_words(
    environ: dict[str, str], how: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN} | environ)
    (line,) = str(caught.value).splitlines()
    assert line.startswith("Invalid input `job-id` (`migrate` from ")
    assert f"to deploy `migrate` by its name, give it in `jobs` instead ({how}), with `environment`" in line
    assert "copy the job's id from its URL" in line  # a UUID is still the other way


def test_a_token_in_job_id_is_not_echoed_as_a_name() -> None:
    with pytest.raises(InputError) as caught:
        load_settings([], {"QOVERY_API_TOKEN": TOKEN, "QOVERY_JOB_ID": "qov_pastedHereByMistake123"})
    assert "pastedHere" not in str(caught.value) and "give it in `jobs`" not in str(caught.value)
