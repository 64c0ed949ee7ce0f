"""The README's preview examples (`<!-- example: github-preview -->`, `<!-- example: gitlab-preview -->`), which
the e2e checks also run under act and gitlab-ci-local (tests/e2e/test_readme_examples.py): read as YAML, each input they give declared in action.yml or a `QOVERY_` variable of
an input, and their steps run in-process against the simulator's blueprint, from the clone to the deletion, with
the values the runner would fill in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from e2e.readme_examples import as_workflow, examples, steps_using_the_action
from support.previews import previews
from support.sims import TOKEN, SimFactory
from support.step import ROOT, declared_inputs, github_env, gitlab_env, run_step

from qovery_job_deploy.inputs.names import qovery_env_name

README = (ROOT / "README.md").read_text(encoding="utf-8")
HEAD = "0123abcd0123abcd0123abcd0123abcd0123abcd"
# What the runner fills in, for a pull request #42 (GitHub) or a merge request's branch `feature-x` (GitLab).
GITHUB_VALUES = {
    "secrets.QOVERY_API_TOKEN": TOKEN,
    "github.event.number": "42",
    "github.event.pull_request.head.sha": HEAD,
}
GITLAB_VALUES = {"CI_COMMIT_REF_SLUG": "feature-x", "CI_COMMIT_SHA": HEAD}


def the_example(marker: str) -> Any:
    [example] = examples(README, marker)
    return yaml.safe_load(example)


def filled(value: object, values: dict[str, str], pattern: str) -> str:
    """A YAML value as the runner passes it: `true` as "true", each placeholder replaced."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return re.sub(pattern, lambda match: values[match[1]], text)


def github_steps() -> dict[str, dict[str, str]]:
    """The `with:` of each job's step that uses the action, by job, filled in."""
    workflow = as_workflow(the_example("github-preview"))
    found = {}
    for name, job in workflow["jobs"].items():
        [(steps, index)] = steps_using_the_action({"jobs": {name: job}})
        found[name] = {
            key: filled(value, GITHUB_VALUES, r"\$\{\{\s*([\w.]+)\s*\}\}")
            for key, value in steps[index]["with"].items()
        }
    return found


def test_the_github_example_runs_on_a_pull_request_s_events_one_run_at_a_time() -> None:
    workflow = as_workflow(the_example("github-preview"))
    assert workflow["on"] == {"pull_request": {"types": ["opened", "synchronize", "reopened", "closed"]}}
    assert "${{ github.event.number }}" in workflow["concurrency"]["group"]
    assert workflow["permissions"] == {"deployments": "write", "pull-requests": "write"}
    jobs = workflow["jobs"]
    assert jobs["cleanup"]["if"] == "github.event.action == 'closed'"
    assert jobs["deploy"]["if"] == "github.event.action != 'closed'"
    steps = github_steps()
    assert set(steps) == {"deploy", "cleanup"}
    for inputs in steps.values():
        assert set(inputs) <= set(declared_inputs()), set(inputs) - set(declared_inputs())
        assert inputs["environment"] == "pr-42" and inputs["clone-from"] == "staging"
        assert inputs["github-deployment"] == inputs["pr-comment"] == "true"
    assert steps["cleanup"]["delete-environment"] == "true" and "delete-environment" not in steps["deploy"]


def test_the_github_example_s_steps_clone_then_delete_the_preview(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = previews(simulator)
    steps = github_steps()
    runs = {}
    for name in ("deploy", "cleanup"):
        (tmp_path / name).mkdir()
        # Outside a pull request's GitHub: the records and the comment are one warning each, never the verdict.
        env, files = github_env(tmp_path / name, steps[name] | {"api-url": sim.url, "poll-interval": "0.2"})
        runs[name] = run_step(env, files)
        assert runs[name].code == 0, runs[name].stderr
    assert runs["deploy"].outputs()["cloned"] == "true"
    assert runs["cleanup"].json_result()["deleted"] is True
    assert not [place for place in sim.places.values() if place.environment_name == "pr-42"]


def gitlab_jobs() -> dict[str, dict[str, Any]]:
    pipeline = the_example("gitlab-preview")
    assert set(pipeline) == {"review", "stop-review"}
    return dict(pipeline)


def qovery_variables(job: dict[str, Any]) -> dict[str, str]:
    return {
        key: filled(value, GITLAB_VALUES, r"\$(\w+)")
        for key, value in job["variables"].items()
        if key.startswith("QOVERY_")
    }


def test_the_gitlab_example_is_a_review_app_its_stop_job_deleting_it() -> None:
    jobs = gitlab_jobs()
    known = {qovery_env_name(name.replace("-", "_")) for name in declared_inputs()}
    for job in jobs.values():
        assert set(qovery_variables(job)) <= known, set(qovery_variables(job)) - known
        assert job["environment"]["name"] == "review/$CI_COMMIT_REF_SLUG"
    review, stop = jobs["review"]["environment"], jobs["stop-review"]["environment"]
    assert review["on_stop"] == "stop-review" and review["auto_stop_in"]
    assert review["url"] == "$QOVERY_ENVIRONMENT_URL"
    assert jobs["review"]["artifacts"] == {"when": "always", "reports": {"dotenv": "qovery.env"}}
    assert stop["action"] == "stop"
    assert qovery_variables(jobs["stop-review"])["QOVERY_DELETE_ENVIRONMENT"] == "true"


def test_the_gitlab_example_s_jobs_give_the_url_it_reads_then_delete_the_preview(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = previews(simulator)
    jobs = gitlab_jobs()
    given = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url, "QOVERY_POLL_INTERVAL": "0.2"}
    (tmp_path / "review").mkdir()
    env, files = gitlab_env(tmp_path / "review", {})
    review = run_step(env | qovery_variables(jobs["review"]) | given, files)
    assert review.code == 0, review.stderr
    dotenv = review.dotenv()
    url = jobs["review"]["environment"]["url"].removeprefix("$")
    assert dotenv[url].startswith("https://") and dotenv["QOVERY_CLONED"] == "true"

    (tmp_path / "stop").mkdir()
    env, files = gitlab_env(tmp_path / "stop", {})
    stop = run_step(env | qovery_variables(jobs["stop-review"]) | given, files)
    assert stop.code == 0, stop.stderr
    assert stop.result_file()["deleted"] is True
    assert not [place for place in sim.places.values() if place.environment_name == "review-feature-x"]
