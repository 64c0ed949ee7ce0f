"""Each kind's rule, as a table: the step's values and what the service runs now -> its deploy request,
or the input error that names the service, its kind and the input it needs."""

from __future__ import annotations

import pytest

from qovery_job_deploy.api.models import EnvironmentStatuses
from qovery_job_deploy.errors import InputError
from qovery_job_deploy.kinds import EVENTS_IN_WORDS, KINDS, Deploy, DeployRequest, Source

TAG, COMMIT, CHART = "v1.2.3", "4f2a9c1", "1.4.0"
IMAGE, GIT, REPOSITORY = (
    Source("image", image_tag="v1.0"),
    Source("git", git_commit_id="0ld"),
    Source("chart", chart_version="1.0.0"),
)

ROWS = [
    # kind, request, source, body, query
    ("job", DeployRequest(), Source(), {}, None),
    ("job", DeployRequest(image_tag=TAG), Source(), {"image_tag": TAG}, None),
    ("job", DeployRequest(git_commit_id=COMMIT), Source(), {"git_commit_id": COMMIT}, None),
    ("job", DeployRequest(image_tag=TAG, git_commit_id=COMMIT), IMAGE, {"image_tag": TAG}, None),
    ("job", DeployRequest(image_tag=TAG, git_commit_id=COMMIT), GIT, {"git_commit_id": COMMIT}, None),
    ("job", DeployRequest(force_event="CRON"), Source(), {}, {"forceEvent": "CRON"}),
    ("application", DeployRequest(git_commit_id=COMMIT), Source(), {"git_commit_id": COMMIT}, None),
    ("application", DeployRequest(), GIT, {"git_commit_id": "0ld"}, None),  # what it runs now
    ("application", DeployRequest(image_tag=TAG, git_commit_id=COMMIT), GIT, {"git_commit_id": COMMIT}, None),
    ("container", DeployRequest(image_tag=TAG), Source(), {"image_tag": TAG}, None),
    ("container", DeployRequest(), IMAGE, {"image_tag": "v1.0"}, None),
    ("container", DeployRequest(image_tag=TAG, git_commit_id=COMMIT), IMAGE, {"image_tag": TAG}, None),
    ("helm", DeployRequest(chart_version=CHART), REPOSITORY, {"chart_version": CHART}, None),
    ("helm", DeployRequest(chart_version=CHART), Source(), {"chart_version": CHART}, None),
    ("helm", DeployRequest(git_commit_id=COMMIT), GIT, {"git_commit_id": COMMIT}, None),
    ("helm", DeployRequest(), REPOSITORY, {}, None),
    ("helm", DeployRequest(force_event="DIFF"), GIT, {}, {"forceEvent": "DIFF"}),
    ("database", DeployRequest(), Source(), None, None),
    ("database", DeployRequest(apply_immediately=True), Source(), None, {"applyImmediately": "true"}),
    ("database", DeployRequest(image_tag=TAG), Source(), None, None),  # a release's values are not its
    ("terraform", DeployRequest(git_commit_id=COMMIT), Source(), {"git_commit_id": COMMIT}, None),
    ("terraform", DeployRequest(), GIT, {"git_commit_id": "0ld"}, None),  # its deployed commit
    ("terraform", DeployRequest(image_tag=TAG, git_commit_id=COMMIT), GIT, {"git_commit_id": COMMIT}, None),
]


@pytest.mark.parametrize(("kind", "request_", "source", "body", "query"), ROWS)
def test_each_kind_makes_its_deploy_request(
    kind: str,
    request_: DeployRequest,
    source: Source,
    body: dict[str, str] | None,
    query: dict[str, str] | None,
) -> None:
    assert KINDS[kind].deploy(request_, source, "svc") == Deploy(body, query)


PROBLEMS = [
    ("application", DeployRequest(image_tag=TAG), GIT, "web is an application, which deploys a git commit: give `git-commit-id`"),
    ("application", DeployRequest(), Source(), "its deployed commit could not be read"),
    ("container", DeployRequest(git_commit_id=COMMIT), IMAGE, "web is a container, which deploys an image tag: give `image-tag`"),
    ("container", DeployRequest(), Source(), "its image tag could not be read"),
    ("helm", DeployRequest(image_tag=TAG), REPOSITORY, "a helm chart from a chart repository, which deploys a chart version: give `chart-version`"),
    ("helm", DeployRequest(chart_version=CHART), GIT, "a helm chart from git, which deploys a git commit: give `git-commit-id`"),
    ("job", DeployRequest(image_tag=TAG, git_commit_id=COMMIT), Source(), "both `image-tag` and `git-commit-id`"),
    ("job", DeployRequest(force_event="DIFF"), Source(), "web is a job, and a job takes START, STOP, DELETE or CRON"),
    ("container", DeployRequest(image_tag=TAG, force_event="START"), IMAGE, "web is a container, and a container takes no force-event"),
    ("helm", DeployRequest(force_event="STOP"), REPOSITORY, "web is a helm chart, and a helm chart takes DIFF"),
    ("terraform", DeployRequest(image_tag=TAG), GIT, "web is a terraform service, which deploys a git commit: give `git-commit-id`"),
    ("terraform", DeployRequest(), Source(), "web is a terraform service, and its deployed commit could not be read"),
    ("terraform", DeployRequest(force_event="START"), GIT, "web is a terraform service, and a terraform service takes no force-event"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "request_", "source", "said"), PROBLEMS)
def test_a_value_that_fits_no_service_is_an_input_error_that_names_it(
    kind: str, request_: DeployRequest, source: Source, said: str
) -> None:
    with pytest.raises(InputError) as raised:
        KINDS[kind].deploy(request_, source, "web")
    assert said in str(raised.value)
    assert "\n" not in str(raised.value)  # one line per problem


@pytest.mark.parametrize(
    ("kind", "event", "state"),
    [("job", None, "DEPLOYED"), ("job", "STOP", "STOPPED"), ("job", "DELETE", "DELETED"), ("job", "CRON", "DEPLOYED"),
     ("helm", "DIFF", "DEPLOYED"), ("container", None, "DEPLOYED"), ("database", None, "DEPLOYED"),
     ("terraform", None, "DEPLOYED")],
)  # fmt: skip
def test_the_state_a_deployment_ends_in(kind: str, event: str | None, state: str) -> None:
    assert KINDS[kind].success_state(event) == state


@pytest.mark.parametrize(
    ("deploy", "noun", "said"),
    [
        (Deploy({}, None), "job", "the job's current source"),
        (Deploy({"image_tag": TAG}, {"forceEvent": "START"}), "job", f"image tag {TAG} (force-event START)"),
        (Deploy({"git_commit_id": COMMIT}, None), "application", f"commit {COMMIT}"),
        (Deploy(None, {"applyImmediately": "true"}), "database", "its configuration (apply-immediately)"),
    ],
)  # fmt: skip
def test_the_log_says_what_is_deployed(deploy: Deploy, noun: str, said: str) -> None:
    assert deploy.described(noun) == said


def test_the_force_events_are_said_per_kind_from_the_table() -> None:
    assert EVENTS_IN_WORDS == (
        "a job takes START, STOP, DELETE or CRON; a helm chart takes DIFF; "
        "applications, containers, databases and terraform services take none"
    )


def test_a_force_event_problem_shows_the_value_where_it_came_from() -> None:
    given = "`DIFF` from the variable QOVERY_FORCE_EVENT"
    with pytest.raises(InputError) as raised:
        KINDS["job"].deploy(
            DeployRequest(force_event="DIFF"), Source(), "migrate", given={"force_event": given}
        )
    assert str(raised.value).startswith(
        f"Invalid input `force-event` ({given}): migrate is a job, and a job "
    )


@pytest.mark.parametrize(
    ("deploy", "said"),
    [
        (Deploy({}, {"forceEvent": "STOP"}), "the job's STOP event (force-event STOP)"),
        (Deploy({}, {"forceEvent": "DELETE"}), "the job's DELETE event (force-event DELETE)"),
        (Deploy({}, {"forceEvent": "START"}), "a deployment of the job's current source (force-event START)"),
        (
            Deploy({"image_tag": "v2"}, {"forceEvent": "STOP"}),
            "a deployment of image tag v2 (force-event STOP)",
        ),
        (Deploy({"image_tag": "v2"}, None), "a deployment of image tag v2"),
    ],
)
def test_what_a_request_asks_is_said_in_its_own_words(deploy: Deploy, said: str) -> None:
    assert deploy.requested("job") == said


def test_the_environment_s_statuses_are_read_by_each_kind_s_key_whatever_keys_come() -> None:
    """`GET /environment/{id}/statuses` is parsed generically: each row's list by its `statuses_key`, a
    list a newer API adds all the same, an item without a state dropped, the environment's own status
    (not a list) left out."""
    body: dict[str, object] = {"environment": {"id": "e", "state": "DEPLOYED"}}
    for index, kind in enumerate(KINDS.values()):
        body[kind.statuses_key] = [{"id": f"{kind.name}-{index}", "state": "DEPLOYED"}, {"id": "no state"}]
    body["agentic_workflows"] = [{"id": "w", "state": "QUEUED"}]
    statuses = EnvironmentStatuses.model_validate(body)

    for index, kind in enumerate(KINDS.values()):
        assert [status.id for status in statuses.of(kind.statuses_key)] == [f"{kind.name}-{index}"]
    assert [status.state for status in statuses.of("agentic_workflows")] == ["QUEUED"]
    assert statuses.of("environment") == [] and statuses.of("nothing") == []
