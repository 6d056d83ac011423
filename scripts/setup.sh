#!/usr/bin/env bash
# Set up agentrt in ./.venv (Python 3.11+). With --test, also the test extras and, for the
# browser checks of the HTML reports, Debian's chromium when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" - <<'PYEOF'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"agentrt needs Python 3.11 or newer; this is {sys.version.split()[0]}. Set PYTHON=/path/to/python3.11")
PYEOF
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
extras=""
if [ "${1:-}" = "--test" ]; then extras="[test]"; fi
.venv/bin/python -m pip install -q -e ".${extras}" 2>&1 | grep -v -e "^WARNING: Location" -e "^$" || true
.venv/bin/python -c "import agentrt" || { echo "agentrt failed to install" >&2; exit 1; }
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the browser checks of the HTML reports ..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped unless AGENTRT_REQUIRE_BROWSER is set" >&2
  else
    echo "note: chromium not found; browser tests will be skipped (install Debian's chromium to run them)" >&2
  fi
fi
