#!/usr/bin/env bash
# The restaurant console's toolchain and build, from the project's own files:
#   Debian's chromium (the browser tests drive it with Playwright: Playwright's own browser
#   download is not used) and the console itself: `npm ci` (exact versions from
#   console/package-lock.json) + `npm run build` (tsc --noEmit, esbuild) into console/dist.
#
# Idempotent and fast when already done (dpkg check; the build is skipped when dist/ is
# newer than every source). Usage: atende_local/console_install.sh [--check]
#   --check   exit 0 when chromium is installed and the console built, 1 otherwise
# Environment: ATENDE_CONSOLE_INSTALL=skip installs no browser (the browser tests then skip;
# the console is still built).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONSOLE="$ROOT/console"
say() { echo "console-install: $*" >&2; }

built() {
    [[ -f "$CONSOLE/dist/index.html" ]] || return 1
    [[ -z "$(find "$CONSOLE/src" "$CONSOLE/index.html" "$CONSOLE/build.mjs" \
        "$CONSOLE/package-lock.json" "$CONSOLE/tsconfig.json" -newer "$CONSOLE/dist/index.html" -print -quit)" ]]
}
have_chromium() { dpkg -s chromium >/dev/null 2>&1 && [[ -x /usr/bin/chromium ]]; }

if [[ "${1:-}" == "--check" ]]; then
    have_chromium && built
    exit
fi

# -- Debian's chromium ---------------------------------------------------------------------
if [[ "${ATENDE_CONSOLE_INSTALL:-}" == "skip" ]]; then
    say "ATENDE_CONSOLE_INSTALL=skip: not installing chromium (the browser tests will skip)"
elif ! have_chromium; then
    SUDO=""
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
            say "chromium is missing and there is no root: apt-get install chromium, then rerun"
            exit 1
        fi
    fi
    say "installing chromium (Debian package)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core >/dev/null
fi

# -- the console ---------------------------------------------------------------------------
if built; then
    exit 0
fi
command -v npm >/dev/null || { say "npm is missing (Debian: apt-get install nodejs npm)"; exit 1; }
cd "$CONSOLE"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; then
    say "npm ci (console/package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
