#!/usr/bin/env bash
# Installs what building, running and testing RadQC needs, and only what is missing, so that a
# rerun takes seconds. Works on a fresh Debian 12 / Ubuntu machine that has Rust (rustup), as
# root or through sudo. Reaches only package registries (Debian, crates.io, npm, PyPI).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: cannot install system packages"
  SUDO=(sudo)
fi

# --- Debian packages: WebKitGTK for Tauri, OpenSSL for SQLCipher (built from source by
# rusqlite), Xvfb + WebKitWebDriver for the window tests, CJK fonts so Chinese renders, a
# Python venv for the WebDriver client, poppler-utils (pdftotext, pdffonts) to read back
# the PDF report in its tests, PostgreSQL for the center's tests (scripts/postgres.sh), libdbus
# for the store key's Secret Service client, and a session bus with gnome-keyring for its tests.
APT_PACKAGES=(
  build-essential pkg-config
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev
  libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb xauth webkit2gtk-driver fonts-noto-cjk xdg-utils desktop-file-utils
  poppler-utils
  libdbus-1-dev dbus-daemon gnome-keyring
  python3 python3-venv
  postgresql
)
# Node.js from Debian only when there is none: an existing (newer) one is kept.
command -v node >/dev/null || APT_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq "${missing[@]}"
else
  log "Debian packages: all ${#APT_PACKAGES[@]} present"
fi

# --- Node.js: Vite 8 needs ^20.19 or >=22.12 (Debian 12's own nodejs is 18, too old).
node_version=$(node -p 'process.versions.node')
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  process.exit(maj > 22 || (maj === 22 && min >= 12) || (maj === 20 && min >= 19) ? 0 : 1);
' || die "Node.js $node_version is too old for the front-end build: install Node.js 20.19+ or 22.12+"

# --- Rust components used by scripts/test.sh.
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
# The workspace needs Rust 1.92 or newer (Cargo.toml rust-version; the PDF library asks for it).
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "${rust_minor:-0}" -lt 92 ]; then
  command -v rustup >/dev/null || die "Rust $(rustc --version) is older than 1.92 and rustup is missing"
  log "rustup update stable (Rust 1.92 or newer is needed)"
  rustup update stable
fi
missing_components=()
cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
if [ ${#missing_components[@]} -gt 0 ]; then
  log "rustup component add ${missing_components[*]}"
  rustup component add "${missing_components[@]}"
fi

# --- tauri-driver: the WebDriver server for Tauri windows (built from crates.io source).
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  log "cargo install tauri-driver --locked"
  cargo install tauri-driver --locked
fi

# Reinstalls a dependency folder only when the lock file it came from changed.
# usage: stale STAMP_FILE LOCK_FILE -> exit 0 when a reinstall is needed
stale() {
  [ -f "$1" ] && [ "$(cat "$1")" = "$(sha256sum "$2" | cut -d' ' -f1)" ] && return 1
  return 0
}
stamp() { sha256sum "$2" | cut -d' ' -f1 >"$1"; }

# --- Front-end dependencies, exactly as ui/package-lock.json pins them.
UI_STAMP=ui/node_modules/.radqc-lock.sha256
if stale "$UI_STAMP" ui/package-lock.json; then
  log "npm ci (ui/)"
  (cd ui && npm ci --no-audit --no-fund)
  stamp "$UI_STAMP" ui/package-lock.json
else
  log "ui/node_modules matches package-lock.json"
fi

# --- Python venv for the WebDriver suite (tests/window), the API fuzzer (tests/api:
# schemathesis) and the HL7 peer (tests/hl7: python-hl7), inside target/ so git ignores it. Each requirements file has its own stamp;
# a new venv reinstalls both.
VENV=target/e2e-venv
VENV_STAMP=$VENV/.radqc-requirements.sha256
API_STAMP=$VENV/.radqc-api-requirements.sha256
if [ ! -x "$VENV/bin/python" ] || stale "$VENV_STAMP" tests/window/requirements.txt; then
  log "Python venv for tests/window in $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/window/requirements.txt
  stamp "$VENV_STAMP" tests/window/requirements.txt
else
  log "$VENV matches tests/window/requirements.txt"
fi
if [ ! -x "$VENV/bin/st" ] || stale "$API_STAMP" tests/api/requirements.txt; then
  log "schemathesis for tests/api in $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/api/requirements.txt
  stamp "$API_STAMP" tests/api/requirements.txt
else
  log "$VENV matches tests/api/requirements.txt"
fi

HL7_STAMP=$VENV/.radqc-hl7-requirements.sha256
if [ ! -x "$VENV/bin/mllp_send" ] || stale "$HL7_STAMP" tests/hl7/requirements.txt; then
  log "the hl7 package for tests/hl7 in $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/hl7/requirements.txt
  stamp "$HL7_STAMP" tests/hl7/requirements.txt
else
  log "$VENV matches tests/hl7/requirements.txt"
fi

log "ready in $ROOT"
