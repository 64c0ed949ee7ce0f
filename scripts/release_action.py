"""Point action.yml at a pushed image, for a release commit.

    python3 scripts/release_action.py action.yml --image ghcr.io/owner/repo:v1.2.3 --digest sha256:<64 hex>

On main, action.yml says `image: Dockerfile`: every workflow that uses the action builds the image first.
The release workflow pushes the image, then runs this script so that the release commit's action.yml says
`image: docker://ghcr.io/owner/repo:v1.2.3@sha256:...`: the runner pulls exactly the image CI tested and
builds nothing. Only the `image:` line under `runs:` changes; every other line, key and comment stays as it
is (a line edit, not a YAML round trip, which would drop the comments), and the result is checked to
differ from the input in that one line only. Standard library only: the release runner installs nothing.
Exit status 2, with one line per problem, when the digest, the image or the file is not as expected.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# name[:tag]: lowercase path components (registries refuse uppercase repository names), a tag.
IMAGE = re.compile(
    r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"  # registry host[:port]/
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"  # path
    r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # :tag
)
RUNS_KEY = re.compile(r"runs:\s*(#.*)?")
IMAGE_KEY = re.compile(r"(?P<indent>[ ]+)image:(?P<space>[ ]*)(?P<value>[^#\s][^#]*?|)(?P<rest>[ ]*(?:#.*)?)")


class ReleaseError(Exception):
    """Input the script refuses; the message says what and how to fix it."""


def image_reference(image: str, digest: str) -> str:
    problems = []
    if not IMAGE.fullmatch(image):
        problems.append(
            f"--image {image!r} is not a lowercase image name with a tag (e.g. ghcr.io/owner/repo:v1.2.3)"
        )
    if not DIGEST.fullmatch(digest):
        problems.append(
            f"--digest {digest!r} is not 'sha256:' followed by 64 lowercase hex characters "
            "(take it from the push, e.g. docker/build-push-action's `digest` output)"
        )
    if problems:
        raise ReleaseError("\n".join(problems))
    return f"docker://{image}@{digest}"


def pin_image(text: str, reference: str) -> str:
    """action.yml's text with the `image:` of its top-level `runs:` mapping set to `reference`."""
    lines = text.splitlines(keepends=True)
    runs = [i for i, line in enumerate(lines) if RUNS_KEY.fullmatch(line.rstrip("\r\n"))]
    if len(runs) != 1:
        raise ReleaseError(f"expected one top-level `runs:` key, found {len(runs)}")
    found, child_indent = None, None
    for index in range(runs[0] + 1, len(lines)):
        line = lines[index].rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            break  # the next top-level key: the end of `runs:`
        indent = len(line) - len(line.lstrip(" "))
        child_indent = indent if child_indent is None else child_indent
        match = IMAGE_KEY.fullmatch(line)
        if match is None or indent != child_indent:
            continue  # another key of `runs:`, or a nested one (an `env:` entry named image)
        if found is not None:
            raise ReleaseError("more than one `image:` key under `runs:`")
        found = index, match
    if found is None:
        raise ReleaseError("no `image:` key under `runs:` (is this a Docker container action?)")
    index, match = found
    ending = lines[index][len(lines[index].rstrip("\r\n")) :]
    lines[index] = f"{match['indent']}image:{match['space'] or ' '}{reference}{match['rest']}{ending}"
    result = "".join(lines)
    changed = [
        i
        for i, (old, new) in enumerate(zip(text.splitlines(), result.splitlines(), strict=True))
        if old != new
    ]
    if changed not in ([], [index]):
        raise ReleaseError(f"internal error: lines {changed} changed, expected only line {index + 1}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Point action.yml at a pushed image, for a release commit.")
    parser.add_argument("action", type=Path, help="the action.yml to rewrite in place")
    parser.add_argument("--image", required=True, help="the pushed image, name:tag (lowercase)")
    parser.add_argument("--digest", required=True, help="its digest, sha256:<64 hex>")
    args = parser.parse_args(argv)
    try:
        reference = image_reference(args.image, args.digest)
        text = args.action.read_bytes().decode("utf-8")  # bytes: line endings kept as they are
        args.action.write_bytes(pin_image(text, reference).encode("utf-8"))
    except (ReleaseError, OSError) as error:
        for line in str(error).splitlines():
            print(f"release_action: {line}", file=sys.stderr)
        return 2
    print(f"{args.action}: image: {reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
