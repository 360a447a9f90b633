#!/usr/bin/env bash
# Install everything needed and run every test suite of jupyter-resource-monitor:
#   Jest (frontend units), pytest (server extension; the suites that touch jupyter_server's,
#   jupyter_client's and pyzmq's private parts again at the lowest declared versions, from
#   another environment), Playwright/Galata (UI, real servers: JupyterLab, JupyterLab 4.2 from a
#   second environment, Jupyter Notebook 7).
#
# Also builds the sdist and the wheel from it and checks both (twine, check-wheel-contents,
# scripts/check-dist.py), and runs the lint and format checks and the GitHub-workflow schema check.
#
# Usage: bash scripts/test-all.sh
#
# Needs Python >= 3.10 with pip, Node.js 20 with npm, and Debian's chromium and
# prometheus (installed with apt-get when missing). Installs the
# package for real (not editable) into the current Python -- or into ./.venv
# when that Python is externally managed (PEP 668) -- so the tests exercise the
# wheel's labextension and jupyter-config files, not the source tree.
#
# Environment: PYTHON (default python3), CHROMIUM_PATH (default /usr/bin/chromium), DIST_DIR
# (where the sdist and wheel go; default a temporary folder).
# Exits non-zero if an install step fails, a suite fails, or a suite ran no tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH
export CI="${CI:-1}"
REPORTS="$(mktemp -d "${TMPDIR:-/tmp}/test-all.XXXXXX")"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }
strip_ansi() { sed 's/\x1b\[[0-9;]*m//g'; }
# require_match <text> <extended regex> <message>: die with <message> unless <text> matches.
require_match() { grep -Eq -- "$2" <<< "$1" || die "$3"; }

# --- 1. System: Chromium for the UI tests, Prometheus for the hub tests ----
step "Browser and Prometheus"
MISSING=()
[ -x "$CHROMIUM_PATH" ] || MISSING+=(chromium)
command -v prometheus >/dev/null || MISSING+=(prometheus)
if [ "${#MISSING[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${MISSING[@]}"
fi
"$CHROMIUM_PATH" --version
prometheus --version 2>&1 | sed -n 1p
# The hub tests fail (rather than skip) without Prometheus here.
export RESOURCE_MONITOR_REQUIRE_PROMETHEUS=1
# The cgroup tests (memory limit, CPU quota) fail (rather than skip) where cgroups cannot be made.
export RESOURCE_MONITOR_REQUIRE_CGROUPS=1

# --- 2. Python environment --------------------------------------------------
step "Python environment"
if "$PYTHON" - <<'EOF'
import pathlib, sys, sysconfig
in_venv = sys.prefix != sys.base_prefix
managed = pathlib.Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").exists()
sys.exit(0 if managed and not in_venv else 1)
EOF
then
  echo "$PYTHON is externally managed: using a virtual environment in .venv"
  "$PYTHON" -m venv .venv
  PYTHON="$ROOT/.venv/bin/python"
  export PATH="$ROOT/.venv/bin:$PATH"
fi
"$PYTHON" --version
node --version
npm --version

# --- 3. Install: JavaScript deps from the lockfile, then the package --------
step "npm ci (frontend build dependencies, exactly as locked)"
npm ci
# Build from scratch through the wheel's build hook (npm install over the tree
# npm ci just made, then npm run build:prod), so the hook itself is exercised.
npm run clean

step "Build the sdist (builds the labextension), then the wheel from that sdist; install it with [test]"
# `python -m build` builds the sdist from the tree, unpacks it and builds the wheel from it, as a
# release does: a file the sdist lacks cannot slip into the wheel from the work tree.
"$PYTHON" -m pip install build
# DIST_DIR (optional) keeps the distributions, e.g. for CI to upload them.
DIST="${DIST_DIR:-$REPORTS/dist}"
mkdir -p "$DIST"
rm -f "$DIST"/jupyter_resource_monitor-*
"$PYTHON" -m build --outdir "$DIST" .
SDIST="$(ls "$DIST"/jupyter_resource_monitor-*.tar.gz)"
WHEEL="$(ls "$DIST"/jupyter_resource_monitor-*.whl)"
"$PYTHON" -m pip install "$WHEEL[test]"
# pip keeps an installed copy of the same version ("already installed with the same version"):
# an earlier build would then be what the tests import. Always put this wheel's files in place.
"$PYTHON" -m pip install --force-reinstall --no-deps "$WHEEL"

if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
   && git -C "$ROOT" ls-files --error-unmatch package-lock.json >/dev/null 2>&1; then
  git -C "$ROOT" diff --exit-code -- package-lock.json \
    || die "the build changed package-lock.json: commit an up-to-date lockfile"
fi

step "Check the sdist and the wheel (metadata, layout, our contents)"
"$PYTHON" -m twine check --strict "$SDIST" "$WHEEL"
"$PYTHON" -m check_wheel_contents "$WHEEL"
"$PYTHON" scripts/check-dist.py "$DIST"

step "Installed extension"
# The installed copy must be the one under test, not ./jupyter_resource_monitor.
INSTALLED="$(cd / && "$PYTHON" -c 'import jupyter_resource_monitor as m; print(m.__file__)')"
echo "jupyter_resource_monitor imported from $INSTALLED"
case "$INSTALLED" in
  "$ROOT"/*) die "jupyter_resource_monitor resolves to the source tree, not an installed copy" ;;
esac
SERVER_LIST="$("$PYTHON" -m jupyter server extension list 2>&1 | strip_ansi)"
echo "$SERVER_LIST" | grep -E 'jupyter_resource_monitor'
require_match "$SERVER_LIST" 'jupyter_resource_monitor[[:space:]]+enabled' \
  "server extension jupyter_resource_monitor is not enabled"
require_match "$SERVER_LIST" 'jupyter_resource_monitor[^[:cntrl:]]*OK' \
  "server extension jupyter_resource_monitor did not validate"
LAB_LIST="$("$PYTHON" -m jupyter labextension list 2>&1 | strip_ansi)"
echo "$LAB_LIST" | grep -E 'jupyter-resource-monitor'
require_match "$LAB_LIST" 'jupyter-resource-monitor .*enabled.*OK' \
  "labextension jupyter-resource-monitor is not installed, enabled and OK"

# --- 3b. The oldest supported JupyterLab, in a second environment -----------
# package.json declares ^4.2 for the shared packages: the same wheel must be OK
# under JupyterLab 4.2 too. Its UI test runs with the others below.
OLDEST_LAB="${OLDEST_LAB:-4.2.7}"
step "JupyterLab $OLDEST_LAB in a second environment (.venv-lab-oldest)"
OLDEST_ENV="$ROOT/.venv-lab-oldest"
"$PYTHON" -m venv --clear "$OLDEST_ENV"
"$OLDEST_ENV/bin/python" -m pip install "jupyterlab==$OLDEST_LAB" "$WHEEL"
OLDEST_LIST="$("$OLDEST_ENV/bin/jupyter" labextension list 2>&1 | strip_ansi)"
echo "$OLDEST_LIST" | grep -E "JupyterLab v|jupyter-resource-monitor"
require_match "$OLDEST_LIST" "JupyterLab v$OLDEST_LAB" \
  "the second environment does not run JupyterLab $OLDEST_LAB"
require_match "$OLDEST_LIST" 'jupyter-resource-monitor .*enabled.*OK' \
  "labextension jupyter-resource-monitor is not OK under JupyterLab $OLDEST_LAB"
export RESOURCE_MONITOR_OLDEST_LAB_JUPYTER="$OLDEST_ENV/bin/jupyter"

# --- 3c. The lowest declared server-side versions, in another environment ----
# pyproject.toml declares the lowest jupyter_server, jupyter_client, pyzmq, tornado, traitlets and
# prometheus_client the package works with; jupyter_resource_monitor/adapters.py reaches into the
# first three. Each runtime requirement's lower bound is pinned exactly, read from the wheel's own
# metadata (so the pins cannot drift from the declaration), beside the same wheel and its
# [test-server] extra. The suites that touch those parts run there below.
step "The lowest declared jupyter_server, jupyter_client, pyzmq, tornado (.venv-server-oldest)"
SERVER_OLDEST_ENV="$ROOT/.venv-server-oldest"
SERVER_OLDEST_PINS_TEXT="$("$PYTHON" - "$WHEEL" <<'EOF'
import sys
import zipfile

from packaging.requirements import Requirement

with zipfile.ZipFile(sys.argv[1]) as wheel:
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    lines = wheel.read(metadata).decode().splitlines()
for line in lines:
    if not line.startswith("Requires-Dist: "):
        continue
    req = Requirement(line.split(": ", 1)[1])
    if req.marker is not None:  # an extra's
        continue
    lowest = [s.version for s in req.specifier if s.operator == ">="]
    if len(lowest) != 1:
        sys.exit(f"{req}: declare one lower bound (>=) for the oldest environment to test")
    print(f"{req.name}=={lowest[0]}")
EOF
)"
mapfile -t SERVER_OLDEST_PINS <<< "$SERVER_OLDEST_PINS_TEXT"
[ -n "$SERVER_OLDEST_PINS_TEXT" ] || die "no runtime requirements read from $WHEEL"
echo "pins: ${SERVER_OLDEST_PINS[*]}"
"$PYTHON" -m venv --clear "$SERVER_OLDEST_ENV"
"$SERVER_OLDEST_ENV/bin/python" -m pip install "${SERVER_OLDEST_PINS[@]}" "$WHEEL[test-server]"
"$SERVER_OLDEST_ENV/bin/python" -m pip list 2>/dev/null \
  | grep -Ei '^(jupyter[_-]server|jupyter[_-]client|pyzmq|tornado|traitlets|prometheus[_-]client|ipykernel|pytest-jupyter) '

# --- 3d. jupyter-resource-usage's own frontend against our server -----------
# A third environment: JupyterLab, jupyter-resource-usage 1.3.0 and our wheel,
# with its server extension and our labextension disabled (in that environment
# only), so its status item reads our /api/metrics/v1. Its UI test runs below.
JRU_VERSION="1.3.0"
step "jupyter-resource-usage $JRU_VERSION's frontend on our server (.venv-jru)"
JRU_ENV="$ROOT/.venv-jru"
"$PYTHON" -m venv --clear "$JRU_ENV"
"$JRU_ENV/bin/python" -m pip install "jupyterlab>=4.6,<5" "jupyter-resource-usage==$JRU_VERSION" "$WHEEL"
"$JRU_ENV/bin/jupyter" server extension disable --sys-prefix jupyter_resource_usage
"$JRU_ENV/bin/jupyter" labextension disable --level=sys_prefix jupyter-resource-monitor
JRU_SERVER_LIST="$("$JRU_ENV/bin/jupyter" server extension list 2>&1 | strip_ansi)"
echo "$JRU_SERVER_LIST" | grep -E 'jupyter_resource_(usage|monitor)'
require_match "$JRU_SERVER_LIST" 'jupyter_resource_usage[[:space:]]+disabled' \
  "jupyter-resource-usage's server extension is not disabled in $JRU_ENV"
require_match "$JRU_SERVER_LIST" 'jupyter_resource_monitor[[:space:]]+enabled' \
  "our server extension is not enabled in $JRU_ENV"
export RESOURCE_MONITOR_JRU_JUPYTER="$JRU_ENV/bin/jupyter"

# --- 4. Test suites ---------------------------------------------------------
# Each suite runs even if an earlier one failed; the summary says which did.
declare -A STATUS COUNTS
FAILED=0

record() {  # record <suite> <exit status> <counts text> <number of tests run>
  local suite="$1" rc="$2" counts="$3" ran="$4"
  if [ "$rc" -eq 0 ] && [ "$ran" -gt 0 ]; then
    STATUS[$suite]="PASS"
  elif [ "$ran" -eq 0 ]; then
    STATUS[$suite]="FAIL (no tests ran)"; FAILED=1
  else
    STATUS[$suite]="FAIL (exit $rc)"; FAILED=1
  fi
  COUNTS[$suite]="$counts"
}

junit_counts() {  # junit_counts <junit xml>: prints "<number of tests run> <counts text>"
  "$PYTHON" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, "no report")
    sys.exit()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(total - skipped, f"{total - failed - skipped} passed, {failed} failed, {skipped} skipped")
EOF
}

step "Lint and format (ruff; eslint, prettier, stylelint), GitHub workflows"
# Fix locally with: ruff check --fix . && ruff format . && npm run lint
lint_ran=0; lint_failed=0
lint_check() {  # lint_check <command...>: run one check, count it, go on when it fails
  printf '$ %s\n' "$*"
  lint_ran=$((lint_ran + 1))
  "$@" || { lint_failed=$((lint_failed + 1)); echo "FAILED: $*"; }
}
lint_check "$PYTHON" -m ruff check .
lint_check "$PYTHON" -m ruff format --check .
lint_check npm run --silent stylelint:check
lint_check npm run --silent prettier:check
lint_check npm run --silent eslint:check
lint_check "$PYTHON" -m check_jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
record lint "$lint_failed" "$((lint_ran - lint_failed)) passed, $lint_failed failed" "$lint_ran"

step "Jest (frontend unit tests)"
set +e
npm test -- --ci --json --outputFile="$REPORTS/jest.json"
rc=$?
set -e
read -r ran counts < <(node -e '
  try {
    const r = require(process.argv[1]);
    console.log(r.numTotalTests, `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  } catch (e) { console.log(0, "no report"); }' "$REPORTS/jest.json")
record jest "$rc" "$counts" "$ran"

step "pytest (server extension, against the installed package)"
# PYTHONSAFEPATH (Python >= 3.11) keeps the current directory off sys.path and
# --import-mode=importlib keeps pytest from inserting the repository root (tests/
# is a package), so `import jupyter_resource_monitor` is the installed copy.
set +e
PYTHONSAFEPATH=1 "$PYTHON" -m pytest --import-mode=importlib -p no:cacheprovider \
  --junitxml="$REPORTS/pytest.xml"
rc=$?
set -e
read -r ran counts < <(junit_counts "$REPORTS/pytest.xml")
record pytest "$rc" "$counts" "$ran"

step "pytest at the lowest declared versions (.venv-server-oldest): the suites that touch their private parts"
# adapters.py's parts (test_adapters), the cell records (iopub stream, kernel manager, WebSocket,
# restarter), the event-loop watch started with the server, and kernel deaths (restarter). The
# real OOM kill in a cgroup is left to the run above: it adds a minute and reaches no part of
# these libraries that the in-process death tests do not. jupyter_server 2.4's own event schemas
# make a newer jupyter_events warn (their version is a number): the server's warning, not ours.
set +e
PYTHONSAFEPATH=1 "$SERVER_OLDEST_ENV/bin/python" -m pytest --import-mode=importlib -p no:cacheprovider \
  -W 'ignore:The `version` property of an event schema must be a string' \
  -k 'not test_real_oom_kill' --junitxml="$REPORTS/pytest-oldest.xml" \
  tests/test_adapters.py tests/test_cells.py tests/test_event_loop.py tests/test_oom.py
rc=$?
set -e
read -r ran counts < <(junit_counts "$REPORTS/pytest-oldest.xml")
record pytest-oldest "$rc" "$counts" "$ran"

step "Playwright/Galata (UI tests against real JupyterLab servers)"
(cd ui-tests && npm ci)
set +e
(cd ui-tests && npx --no-install playwright test)
rc=$?
set -e
read -r ran counts < <(node -e '
  try {
    const s = require(process.argv[1]).stats;
    const ran = s.expected + s.unexpected + s.flaky;
    console.log(ran, `${s.expected} passed, ${s.unexpected} failed, ${s.flaky} flaky, ${s.skipped} skipped`);
  } catch (e) { console.log(0, "no report"); }' "$ROOT/ui-tests/test-results/results.json")
record playwright "$rc" "$counts" "$ran"

# --- 5. Summary -------------------------------------------------------------
step "Summary"
for suite in lint jest pytest pytest-oldest playwright; do
  printf '  %-13s %-22s %s\n' "$suite" "${STATUS[$suite]}" "${COUNTS[$suite]}"
done
if [ "$FAILED" -ne 0 ]; then
  echo "Some suites failed."
  exit 1
fi
echo "All suites passed."
