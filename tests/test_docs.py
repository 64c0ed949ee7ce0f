"""The documentation: README.md stays a front page, and the reference lives in docs/, one page per topic. Every
relative link of the README and of the docs/ pages leads to a file that exists, and to a heading of it when
it names one (as GitHub makes a heading's anchor)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from support.step import ROOT

README = ROOT / "README.md"
README_MAX_LINES = 400
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *DOCS]

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


def prose(markdown: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines: list[str] = []
    fence = None  # the open fence's closing line, as a pattern: its character, at least as many times
    for line in markdown.splitlines():
        if fence is not None:
            fence = None if fence.fullmatch(line) else fence
        elif opened := FENCE.match(line):
            fence = re.compile(rf" {{0,3}}{re.escape(opened[1][0])}{{{len(opened[1])},}}\s*")
        else:
            lines.append(line)
    return lines


def slug(title: str) -> str:
    """GitHub's anchor for a heading: its text as shown (code spans' and links' text, no emphasis marks),
    lowercased, punctuation but `-` and `_` dropped, each space a `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    text = text.replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor; a repeated one gets `-1`, `-2`... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(markdown):
        heading = HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading["title"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(markdown: str) -> list[str]:
    """The targets of inline links and images outside code, but for those with a scheme (https:, mailto:)."""
    return [
        match["target"]
        for line in prose(markdown)
        for match in LINK.finditer(CODE_SPAN.sub("", line))
        if not re.match(r"[a-z][a-z0-9+.-]*:", match["target"], re.IGNORECASE)
    ]


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("Coming from Qovery's CLI", "coming-from-qoverys-cli"),
        ("What `@v1` runs", "what-v1-runs"),
        ("docker run, any runner, a terminal", "docker-run-any-runner-a-terminal"),
        (
            "HTTP: retries, and a POST that never deploys twice",
            "http-retries-and-a-post-that-never-deploys-twice",
        ),
        ("The live log's cost", "the-live-logs-cost"),
        ("A -- B", "a----b"),  # GitHub keeps every hyphen
        ("`force_event` and [links](x.md)", "force_event-and-links"),
    ],
)
def test_a_heading_anchor_is_githubs(title: str, anchor: str) -> None:
    assert slug(title) == anchor


def test_repeated_headings_and_code_blocks() -> None:
    markdown = "# A\n## A\n```sh\n# not a heading [x](missing.md)\n```\n## B `c`\n"
    assert anchors(markdown) == {"a", "a-1", "b-c"}
    assert relative_links(markdown + "see [y](y.md#a), `[z](z.md)`, [w](https://example.com)\n") == ["y.md#a"]


def test_the_readme_is_a_front_page() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move reference material into docs/"


def test_the_docs_exist_and_the_readme_links_each_page() -> None:
    assert DOCS, "no docs/*.md"
    linked = {
        (README.parent / unquote(target.split("#", 1)[0])).resolve()
        for target in relative_links(README.read_text(encoding="utf-8"))
    }
    assert [page.name for page in DOCS if page.resolve() not in linked] == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    broken = []
    for target in relative_links(text):
        path, _, anchor = target.partition("#")
        linked = (document.parent / unquote(path)).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked.read_text(encoding="utf-8"))):
            broken.append(f"{target}: no such heading in {linked.name}")
    assert broken == []


def test_every_key_of_the_result_is_documented() -> None:
    """docs/platforms.md, "The result": each key of the result and of a `services` entry has its row."""
    from qovery_job_deploy.outcome import Known, Outcome, RunOutcome, Verdict  # noqa: PLC0415
    from qovery_job_deploy.results import result  # noqa: PLC0415

    text = (ROOT / "docs" / "platforms.md").read_text(encoding="utf-8").split("## The result", 1)[1]
    documented = {
        key
        for row in text.splitlines()
        if row.startswith("| `")
        for key in re.findall(r"`(\w+)`", row.split("|")[1])
    }
    data = result(RunOutcome([Outcome(Known("x"), Verdict.SUCCEEDED, "ok", 1.0)]))
    assert set(data) - documented == set()
    assert set(data["services"][0]) - documented == set()
