"""The documentation's usage examples, found by their markers alone: the HTML comment before each code block
(`<!-- example: github -->`, `<!-- example: gitlab -->`). Whatever a document says around them, the block
after each marker is the example. The documents read are DOCUMENTS, an explicit list: the README and the
docs/ pages that hold examples. Pure functions but for `documented_examples`, unit-tested in
tests/test_readme_examples_extraction.py; the e2e checks (test_readme_examples.py) lint and run what they
return."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# The documents whose marked examples the e2e checks run, relative to the repository, README first. A marker
# in a Markdown file missing here is an error of the unit tests, so that no example goes silently unrun.
DOCUMENTS = ("README.md", "docs/services.md", "docs/github.md")

# Every marker a document may hold: the examples the e2e checks run through a failing deployment, and the preview
# examples (a pull request's events, a review app's stop job), which they run from the clone to the deletion
# (runs.py); tests/test_preview_examples.py also runs their steps in-process. A marker of another name is an error
# of the unit tests.
KNOWN_MARKERS = ("github", "gitlab", "github-preview", "gitlab-preview")

MARKER = re.compile(r"<!--\s*example:\s*(?P<platform>[\w-]+)\s*-->\s*")
FENCE = re.compile(r"(?P<fence>```+|~~~+)")
ACTION = re.compile(r"[^/@\s]+/qovery-job-deploy@\S+")  # `uses:` of this action, any owner and ref


class MalformedExample(Exception):
    pass


def examples(document: str, platform: str, name: str = "README.md") -> list[str]:
    """The code block after each `<!-- example: PLATFORM -->` marker (blank lines between allowed);
    `name` is the document's, for the errors."""
    lines = document.splitlines()
    found = []
    for index, line in enumerate(lines):
        marker = MARKER.fullmatch(line)
        if not marker or marker["platform"] != platform:
            continue
        start = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), len(lines))
        fence = FENCE.match(lines[start]) if start < len(lines) else None
        if fence is None:
            raise MalformedExample(f"{name} line {index + 1}: no code block right after the marker")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(fence["fence"])), None)
        if end is None:
            raise MalformedExample(f"{name} line {start + 1}: the code block is never closed")
        found.append("\n".join(lines[start + 1 : end]) + "\n")
    return found


def documented_examples(repo: Path, platform: str) -> list[str]:
    """Every DOCUMENTS example for `platform`, in the list's order, then each document's."""
    return [
        example
        for name in DOCUMENTS
        for example in examples((repo / name).read_text(encoding="utf-8"), platform, name)
    ]


def as_workflow(example: Any) -> dict[str, Any]:
    """A GitHub example as a whole workflow: a list of steps, one job, or a workflow as it is."""
    if isinstance(example, list):
        example = {"runs-on": "ubuntu-latest", "steps": example}
    if not isinstance(example, dict):
        raise MalformedExample(f"a GitHub example is a list of steps, a job or a workflow, not {example!r}")
    if "jobs" not in example:
        example = {"name": "README example", "on": "push", "permissions": {}, "jobs": {"deploy": example}}
    # A workflow's `on:`, which YAML 1.1 (PyYAML) reads as the key true: `on` again, where it was.
    return {"on" if key is True else key: value for key, value in example.items()}


def steps_using_the_action(workflow: dict[str, Any]) -> list[tuple[list[dict[str, Any]], int]]:
    """(the job's steps, the index of a step that uses this action), for each such step."""
    return [
        (job["steps"], index)
        for job in workflow["jobs"].values()
        for index, step in enumerate(job.get("steps", []))
        if ACTION.fullmatch(str(step.get("uses", "")))
    ]


def deploying_first(inputs: dict[str, Any], service: str, *, one: str, several: str) -> dict[str, Any]:
    """An example's inputs (a step's `with:`, a job's `variables:`) made to deploy `service`: a single job's
    example deploys it instead of its own job (`one`); a release (`several`) deploys it first, then its own
    services, which a sequential release skips once `service` failed."""
    if inputs.get(several):
        return inputs | {several: f"{service}, {inputs[several]}"}
    return inputs | {one: service}


def deploy_jobs(pipeline: dict[str, Any]) -> list[str]:
    """The GitLab jobs that run this project's image."""
    names = []
    for name, job in pipeline.items():
        image = job.get("image") if isinstance(job, dict) else None
        reference = image.get("name") if isinstance(image, dict) else image
        if isinstance(reference, str) and "qovery-job-deploy" in reference:
            names.append(name)
    return names


def jobs_needing(pipeline: dict[str, Any], needed: str) -> list[str]:
    """The GitLab jobs with `needs:` naming `needed` (as a string or as `- job: NAME`)."""
    return [
        name
        for name, job in pipeline.items()
        if isinstance(job, dict)
        and needed in [need if isinstance(need, str) else need.get("job") for need in job.get("needs", [])]
    ]
