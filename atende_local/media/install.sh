#!/usr/bin/env bash
# Install the real media stack into the project's own tool directory (git-ignored):
#   Debian packages: redis-server, sip-tester (sipp), espeak-ng, sox, tcpdump and the
#   build dependencies of livekit-sip (libopus-dev, libopusfile-dev, libsoxr-dev, pkg-config);
#   Go binaries, built from the Go module proxy at PINNED versions (no source enters the repo):
#   livekit-server (cmd/server) and livekit-sip (cmd/livekit-sip, cgo).
#
# Idempotent and fast when already done: packages are checked with dpkg, binaries with a
# version stamp next to them. Usage: atende_local/media/install.sh [--check]
#   --check   exit 0 when everything is installed, 1 otherwise (installs nothing)
# Environment: ATENDE_TOOLS_DIR (default <repo>/.atende/tools), ATENDE_MEDIA_INSTALL=skip
# to do nothing (a developer who does not want the stack; the media tests then skip).
set -euo pipefail

# Pinned versions. livekit-server v1.13.5 is the newest release whose go.mod needs no
# `replace`d fork that the module proxy refuses (v1.13.6+ replace pion with livekit forks
# that are not served); livekit-sip v1.8.0 is the newest served release (v1.9+ are not).
LIVEKIT_SERVER_MODULE="github.com/livekit/livekit-server"
LIVEKIT_SERVER_VERSION="v1.13.5"
LIVEKIT_SIP_MODULE="github.com/livekit/sip"
LIVEKIT_SIP_VERSION="v1.8.0"

DEBIAN_PACKAGES=(redis-server sip-tester espeak-ng sox tcpdump libopus-dev libopusfile-dev libsoxr-dev pkg-config gcc libc6-dev)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${ATENDE_TOOLS_DIR:-$ROOT/.atende/tools}"
BIN="$TOOLS/bin"
CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

say() { echo "media-install: $*" >&2; }

if [[ "${ATENDE_MEDIA_INSTALL:-}" == "skip" ]]; then
    say "ATENDE_MEDIA_INSTALL=skip: not installing the media stack (its tests will skip)"
    exit 0
fi

missing_packages() {
    local p
    for p in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

binary_current() { # name version
    [[ -x "$BIN/$1" && "$(cat "$BIN/$1.version" 2>/dev/null)" == "$2" ]]
}

if [[ $CHECK_ONLY == 1 ]]; then
    [[ -z "$(missing_packages)" ]] && binary_current livekit-server "$LIVEKIT_SERVER_VERSION" \
        && binary_current livekit-sip "$LIVEKIT_SIP_VERSION"
    exit $?
fi

# -- Debian packages ---------------------------------------------------------------------
mapfile -t MISSING < <(missing_packages)
if (( ${#MISSING[@]} )); then
    SUDO=""
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
            say "missing Debian packages (${MISSING[*]}) and no root: install them, then rerun"
            exit 1
        fi
    fi
    say "installing ${MISSING[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${MISSING[@]}" >/dev/null
fi

# -- Go binaries ---------------------------------------------------------------------------
build() { # name module version package
    local name=$1 module=$2 version=$3 package=$4
    if binary_current "$name" "$version"; then
        return 0
    fi
    command -v go >/dev/null || { say "Go is not installed: cannot build $name"; exit 1; }
    say "building $name $version (first time only; a few minutes)"
    local dir work
    # `go install module/pkg@version` refuses modules whose go.mod has replace directives,
    # so the module is downloaded into the module cache and built from a copy of it.
    dir=$(go mod download -json "$module@$version" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error","no Dir")))')
    work=$(mktemp -d "${TMPDIR:-/tmp}/atende-media-build.XXXXXX")
    trap 'rm -rf "$work"' RETURN
    cp -r "$dir/." "$work/"
    chmod -R u+w "$work"
    mkdir -p "$BIN"
    (cd "$work" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -o "$BIN/$name.tmp" "./$package")
    mv "$BIN/$name.tmp" "$BIN/$name"
    echo "$version" > "$BIN/$name.version"
}

build livekit-server "$LIVEKIT_SERVER_MODULE" "$LIVEKIT_SERVER_VERSION" cmd/server
build livekit-sip "$LIVEKIT_SIP_MODULE" "$LIVEKIT_SIP_VERSION" cmd/livekit-sip
say "ready: $BIN ($(cat "$BIN/livekit-server.version") server, $(cat "$BIN/livekit-sip.version") sip)"
