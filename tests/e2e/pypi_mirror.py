"""A PyPI mirror on the loopback for the image's builds behind one (test_image.py): a PEP 503 simple index of the
wheels the Dockerfile's builder stage installs (its lock files), served from a directory, and the paths each
request asked for. tests/e2e/run.sh downloads the wheels (`Setup.wheels`) with the build's own interpreter (the
base image: the stand-in, or the pinned base) and the Dockerfile's pip options, once, into the cache."""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _project(wheel: str) -> str:
    """PEP 503's normalized project name of a wheel file (its first dash-separated part)."""
    return re.sub(r"[-_.]+", "-", wheel.split("-", maxsplit=1)[0]).lower()


@dataclass
class Mirror:
    url: str  # the index's: http://127.0.0.1:PORT/simple
    wheels: list[str]  # the file names it serves
    paths: list[str] = field(default_factory=list)  # what each request asked for, in order
    authorizations: list[str] = field(default_factory=list)  # the Authorization headers sent, if any

    def fetched(self) -> set[str]:
        return {path.rsplit("/", 1)[-1] for path in self.paths if path.endswith(".whl")}


@contextmanager
def serve_mirror(wheel_dir: Path, root: Path) -> Iterator[Mirror]:
    """The wheels of `wheel_dir` as a simple index under `root` (written there), served on 127.0.0.1."""
    files = sorted(path.name for path in wheel_dir.glob("*.whl"))
    assert files, f"no wheels in {wheel_dir}"
    by_project: dict[str, list[str]] = {}
    for name in files:
        by_project.setdefault(_project(name), []).append(name)
        (root / "files").mkdir(parents=True, exist_ok=True)
        (root / "files" / name).write_bytes((wheel_dir / name).read_bytes())
    for project, names in by_project.items():
        links = "".join(
            f'<a href="../../files/{html.escape(name)}#sha256='
            f'{hashlib.sha256((wheel_dir / name).read_bytes()).hexdigest()}">{html.escape(name)}</a>\n'
            for name in names
        )
        (root / "simple" / project).mkdir(parents=True, exist_ok=True)
        (root / "simple" / project / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
    index = "".join(f'<a href="{project}/">{project}</a>\n' for project in by_project)
    (root / "simple" / "index.html").write_text(f"<html><body>\n{index}</body></html>\n")

    mirror = Mirror("", files)

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            mirror.paths.append(self.path)
            if self.headers.get("Authorization"):
                mirror.authorizations.append(self.headers["Authorization"])
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="pypi-mirror", daemon=True)
    thread.start()
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}/simple"
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
