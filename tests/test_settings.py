"""Settings: sources and precedence, parsing, and one clear message per invalid input (tables)."""

from __future__ import annotations

import pytest
from step import declared_inputs

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.settings import Settings, load_settings, parse_duration

JOB = "11111111-1111-4111-8111-111111111111"
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
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "10 minutes", "1d", "m", "1h30"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|greater than zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("argv", "environ", "expected_timeout"),
    [
        ([], VALID, 1800.0),  # default: 30m
        ([], VALID | {"QOVERY_TIMEOUT": "5m"}, 300.0),
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
        (VALID | {"QOVERY_IMAGE_TAG": "v1", "QOVERY_GIT_COMMIT_ID": "abc"}, "image-tag"),
        (VALID | {"QOVERY_FORCE_EVENT": "RESTART"}, "force-event"),
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
    assert caught.value.exit_code == 2
    assert "SecretValue" not in message and "with space" not in message


def test_unknown_flag_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown flags --no-such-flag"):
        load_settings(["--no-such-flag"], VALID)


def test_token_is_never_in_the_settings_repr() -> None:
    settings = load_settings([], VALID)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_action_yml_declares_every_input_the_program_reads() -> None:
    declared = {name.replace("-", "_") for name in declared_inputs()}
    assert declared == set(Settings.model_fields)


@pytest.mark.parametrize(("name", "spec"), list(declared_inputs().items()))
def test_action_yml_defaults_are_valid_and_match_the_program(name: str, spec: dict[str, str]) -> None:
    if spec.get("required"):
        return
    field = name.replace("-", "_")
    from_action = load_settings([], VALID | {f"INPUT_{name.upper()}": spec["default"]})
    assert getattr(from_action, field) == getattr(load_settings([], VALID), field)


@pytest.mark.parametrize(
    "argv",
    [["--token", TOKEN], ["--api_token", TOKEN], [TOKEN], ["--api-token"], ["--job-id", JOB, "--wait"]],
)
def test_a_bad_command_line_never_echoes_its_values(argv: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        load_settings(argv, VALID)
    assert "SecretValue" not in str(caught.value) and JOB not in str(caught.value)
    assert "--help" in str(caught.value)
