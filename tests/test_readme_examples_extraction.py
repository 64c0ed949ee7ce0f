"""tests/e2e/readme_examples.py: the documentation's examples are found by their markers alone, whatever the
text around them, in the documents it lists, and read as a workflow (GitHub) or a pipeline (GitLab)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from e2e.readme_examples import (
    DOCUMENTS,
    KNOWN_MARKERS,
    MARKER,
    MalformedExample,
    as_workflow,
    deploy_jobs,
    deploying_first,
    documented_examples,
    examples,
    jobs_needing,
    steps_using_the_action,
)
from support.step import ROOT

GH = "<!-- example: github -->"


@pytest.mark.parametrize(
    ("readme", "platform", "expected"),
    [
        (f"text\n{GH}\n```yaml\na: 1\n```\nmore\n", "github", ["a: 1\n"]),
        (
            f"{GH}\n\n~~~yaml\na: 1\n```\nb: 2\n~~~\n",
            "github",
            ["a: 1\n```\nb: 2\n"],
        ),  # fence kinds kept apart
        (f"{GH}\n````yaml\n```\n````\n", "github", ["```\n"]),  # a longer fence holds a shorter one
        (f"{GH}\n```yaml\na: 1\n```\n<!-- example: gitlab -->\n```yaml\nb: 2\n```\n", "gitlab", ["b: 2\n"]),
        (f"{GH}\n```\na\n```\n{GH}\n```\nb\n```\n", "github", ["a\n", "b\n"]),
        ("<!--example:github-->\n```\na\n```\n", "github", ["a\n"]),  # spacing inside the comment is free
        ("```yaml\na: 1\n```\n", "github", []),  # no marker, no example: blocks are never guessed
        (f"  {GH}\n```\na\n```\n", "github", []),  # an indented marker is not one (it may be quoted text)
    ],
)
def test_examples_follow_their_markers(readme: str, platform: str, expected: list[str]) -> None:
    assert examples(readme, platform) == expected


@pytest.mark.parametrize(
    ("readme", "problem"),
    [
        (f"{GH}\ntext\n```\na\n```\n", "no code block right after the marker"),
        (f"{GH}\n", "no code block right after the marker"),
        (f"{GH}\n```\na\n", "never closed"),
    ],
)
def test_a_marker_without_its_block_is_an_error(readme: str, problem: str) -> None:
    with pytest.raises(MalformedExample, match=problem):
        examples(readme, "github")


def test_an_error_names_its_document_and_line() -> None:
    with pytest.raises(MalformedExample, match=r"^docs/services\.md line 2: no code block"):
        examples(f"text\n{GH}\n", "github", "docs/services.md")


def test_every_document_with_a_marker_is_listed() -> None:
    """A marker in a document the e2e checks do not read would be an example nobody runs."""
    marked = {
        path.relative_to(ROOT).as_posix()
        for path in [ROOT / "README.md", *sorted(ROOT.glob("docs/**/*.md"))]
        if any(MARKER.fullmatch(line) for line in path.read_text(encoding="utf-8").splitlines())
    }
    assert marked == set(DOCUMENTS)
    assert DOCUMENTS[0] == "README.md"


def test_every_marker_is_a_known_one() -> None:
    """A misspelt marker (`github-preveiw`) would be an example that nothing reads."""
    found = {
        (path.relative_to(ROOT).as_posix(), marker["platform"])
        for path in [ROOT / "README.md", *sorted(ROOT.glob("docs/**/*.md"))]
        for line in path.read_text(encoding="utf-8").splitlines()
        if (marker := MARKER.fullmatch(line))
    }
    assert {platform for _, platform in found} <= set(KNOWN_MARKERS), found
    assert ("README.md", "github-preview") in found and ("README.md", "gitlab-preview") in found


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_the_documents_examples_are_found_the_readme_first(platform: str) -> None:
    readme = examples((ROOT / "README.md").read_text(encoding="utf-8"), platform)
    found = documented_examples(ROOT, platform)
    assert readme, f"README.md has no `<!-- example: {platform} -->`: a front page shows each platform"
    assert found[: len(readme)] == readme


STEP = {"id": "deploy", "uses": "OWNER/qovery-job-deploy@v1"}


@pytest.mark.parametrize(
    ("example", "jobs"),
    [
        ([STEP], {"deploy": {"runs-on": "ubuntu-latest", "steps": [STEP]}}),
        (
            {"runs-on": "ubuntu-24.04", "steps": [STEP]},
            {"deploy": {"runs-on": "ubuntu-24.04", "steps": [STEP]}},
        ),
        ({"on": "push", "jobs": {"ship": {"steps": [STEP]}}}, {"ship": {"steps": [STEP]}}),
    ],
)
def test_a_github_example_becomes_a_workflow(example: Any, jobs: dict[str, Any]) -> None:
    workflow = as_workflow(example)
    assert workflow["jobs"] == jobs
    assert "on" in workflow


def test_a_workflow_example_keeps_its_on_key() -> None:
    """PyYAML reads YAML 1.1, where `on` is a boolean: a whole workflow's `on:` comes back as its key, not true
    (the workflow schema requires `on` and allows no other key)."""
    example = yaml.safe_load("on: pull_request\njobs:\n  ship:\n    steps: []\n")
    assert list(as_workflow(example)) == ["on", "jobs"]
    assert as_workflow(example)["on"] == "pull_request"


def test_a_github_example_of_another_shape_is_an_error() -> None:
    with pytest.raises(MalformedExample):
        as_workflow("uses: OWNER/qovery-job-deploy@v1")


@pytest.mark.parametrize(
    ("uses", "found"),
    [
        ("OWNER/qovery-job-deploy@v1", True),
        ("<owner>/qovery-job-deploy@0123456789abcdef0123456789abcdef01234567", True),
        ("./", False),
        ("actions/checkout@v4", False),
        ("OWNER/qovery-job-deploy", False),  # no ref: not something a user can copy
        ("OWNER/qovery-job-deploy-fork@v1", False),
    ],
)
def test_steps_using_the_action(uses: str, found: bool) -> None:
    workflow = as_workflow([{"uses": "actions/checkout@v4"}, {"uses": uses}])
    assert steps_using_the_action(workflow) == ([(workflow["jobs"]["deploy"]["steps"], 1)] if found else [])


PIPELINE: dict[str, Any] = {
    "stages": ["deploy", "after"],
    "deploy-job": {"image": {"name": "ghcr.io/OWNER/qovery-job-deploy:v1", "entrypoint": [""]}},
    "short-image": {"image": "ghcr.io/OWNER/qovery-job-deploy:v1"},
    "other": {"image": "alpine:3"},
    "after": {"needs": ["deploy-job"]},
    "after-long-form": {"needs": [{"job": "deploy-job", "artifacts": True}]},
    "unrelated": {"needs": ["other"]},
}


def test_gitlab_deploy_jobs_and_the_jobs_after_them() -> None:
    assert deploy_jobs(PIPELINE) == ["deploy-job", "short-image"]
    assert jobs_needing(PIPELINE, "deploy-job") == ["after", "after-long-form"]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"job-id": "mine", "timeout": "15m"}, {"job-id": "FAILING", "timeout": "15m"}),
        ({}, {"job-id": "FAILING"}),
        ({"services": "migrate\napi\n", "job-id": ""}, {"services": "FAILING, migrate\napi\n", "job-id": ""}),
        ({"services": "", "job-id": "mine"}, {"services": "", "job-id": "FAILING"}),  # empty counts as unset
    ],
)
def test_an_example_deploys_the_failing_service_first(
    inputs: dict[str, str], expected: dict[str, str]
) -> None:
    assert deploying_first(inputs, "FAILING", one="job-id", several="services") == expected
