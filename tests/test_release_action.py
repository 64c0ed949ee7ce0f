"""scripts/release_action.py: the release commit's action.yml points at the pushed image by digest, and
nothing else in the file changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from release_action import ReleaseError, image_reference, main, pin_image

ROOT = Path(__file__).resolve().parent.parent
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = "ghcr.io/owner/qovery-job-deploy:v1.2.3"
PINNED = f"docker://{IMAGE}@{DIGEST}"


@pytest.mark.parametrize(
    ("image", "digest", "problem"),
    [
        (IMAGE, DIGEST, None),
        ("localhost/qovery-job-deploy:e2e", DIGEST, None),
        ("registry.example.com:5000/team/tool:1.0.0-rc.1", DIGEST, None),
        (IMAGE, "sha256:" + "0" * 63, "--digest"),  # one character short
        (IMAGE, "sha256:" + "0" * 65, "--digest"),
        (IMAGE, "sha256:" + "A" * 64, "--digest"),  # digests are lowercase hex
        (IMAGE, "sha512:" + "0" * 64, "--digest"),
        (IMAGE, "0" * 64, "--digest"),  # no algorithm
        (IMAGE, "", "--digest"),  # an empty step output
        (IMAGE, DIGEST + "\n", "--digest"),
        ("ghcr.io/Owner/qovery-job-deploy:v1.2.3", DIGEST, "--image"),  # registries want lowercase
        ("ghcr.io/owner/qovery-job-deploy", DIGEST, "--image"),  # no tag
        (f"{IMAGE}@{DIGEST}", DIGEST, "--image"),  # the digest goes in --digest
        ("docker://" + IMAGE, DIGEST, "--image"),
    ],
)
def test_image_reference(image: str, digest: str, problem: str | None) -> None:
    if problem is None:
        assert image_reference(image, digest) == f"docker://{image}@{digest}"
    else:
        with pytest.raises(ReleaseError, match=problem):
            image_reference(image, digest)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("runs:\n  using: docker\n  image: Dockerfile\n", f"runs:\n  using: docker\n  image: {PINNED}\n"),
        # the comment on the line, quoting, CR LF endings and the keys after it are kept
        ("runs:\n  image: Dockerfile  # built per job\n", f"runs:\n  image: {PINNED}  # built per job\n"),
        ('runs:\n  image: "Dockerfile"\n', f"runs:\n  image: {PINNED}\n"),
        (
            "runs:\r\n  using: docker\r\n  image: Dockerfile\r\n",
            f"runs:\r\n  using: docker\r\n  image: {PINNED}\r\n",
        ),
        (
            "# top\nruns:\n  # why\n  image: Dockerfile\n  args: [x]\nbranding: {}\n",
            f"# top\nruns:\n  # why\n  image: {PINNED}\n  args: [x]\nbranding: {{}}\n",
        ),
        # an image: key elsewhere (not under runs:, or nested deeper) is not the action's image
        (
            "inputs:\n  image:\n    description: x\nruns:\n  env:\n    image: keep\n  image: Dockerfile\n",
            f"inputs:\n  image:\n    description: x\nruns:\n  env:\n    image: keep\n  image: {PINNED}\n",
        ),
        # a release of a release: the previous pin is replaced
        (f"runs:\n  image: docker://{IMAGE}@sha256:{'f' * 64}\n", f"runs:\n  image: {PINNED}\n"),
    ],
)
def test_pin_image_changes_only_the_image_line(before: str, after: str) -> None:
    assert pin_image(before, PINNED) == after


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("runs:\n  using: node20\n  main: index.js\n", "no `image:` key"),
        ("name: x\n", "one top-level `runs:`"),
        ("runs:\n  image: a\n  image: b\n", "more than one"),
    ],
)
def test_pin_image_refuses_what_it_cannot_edit_safely(text: str, problem: str) -> None:
    with pytest.raises(ReleaseError, match=problem):
        pin_image(text, PINNED)


def test_the_real_action_yml_keeps_every_other_key(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_bytes((ROOT / "action.yml").read_bytes())
    assert main([str(action), "--image", IMAGE, "--digest", DIGEST]) == 0
    before = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    after = yaml.safe_load(action.read_text(encoding="utf-8"))
    assert after["runs"] == before["runs"] | {"image": PINNED}
    assert {key: value for key, value in after.items() if key != "runs"} == {
        key: value for key, value in before.items() if key != "runs"
    }
    comments = [
        line for line in (ROOT / "action.yml").read_text(encoding="utf-8").splitlines() if "#" in line
    ]
    assert all(line in action.read_text(encoding="utf-8").splitlines() for line in comments)


def test_a_bad_digest_leaves_the_file_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    action = tmp_path / "action.yml"
    action.write_text("runs:\n  image: Dockerfile\n", encoding="utf-8")
    assert main([str(action), "--image", IMAGE, "--digest", "sha256:abc"]) == 2
    assert action.read_text(encoding="utf-8") == "runs:\n  image: Dockerfile\n"
    assert "--digest 'sha256:abc'" in capsys.readouterr().err
