#!/usr/bin/env bash
# RadQC's whole test suite, as CI runs it: setup, Rust (fmt, clippy, tests on SQLite and on a
# throwaway PostgreSQL; the store key's OS keystore tests again on a real Secret Service),
# schemathesis on the center's API, front-end (type check, unit tests, build), then the real
# desktop window over WebDriver under Xvfb.
# Every step runs even after a failure (a step whose inputs failed is skipped), then one
# summary line; the exit status is non-zero if any step failed or was skipped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1

scripts/setup.sh

passed=()
failed=()
skipped=()
started=$SECONDS

# usage: step NAME COMMAND... ; runs COMMAND, records NAME as passed or failed.
step() {
  local name=$1
  shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  local t0=$SECONDS
  if "$@"; then
    passed+=("$name")
    printf '\033[1;32m<== %s passed (%ss)\033[0m\n' "$name" $((SECONDS - t0))
  else
    failed+=("$name")
    printf '\033[1;31m<== %s FAILED (%ss)\033[0m\n' "$name" $((SECONDS - t0))
  fi
}

# usage: ok NAME... ; true when every named step passed.
ok() {
  local name
  for name in "$@"; do
    [[ " ${passed[*]} " == *" $name "* ]] || return 1
  done
}

skip() {
  skipped+=("$1")
  printf '\n\033[1;33m--- %s skipped: %s\033[0m\n' "$1" "$2"
}

# The WebDriver suite, under its own X server. pytest's exit 5 (no test collected) fails too.
# The app's keys go to key files there (a machine whose X server can start a session bus would
# otherwise wait on a keyring prompt nobody answers).
e2e() {
  local rc=0
  RADQC_DESKTOP_BIN="$PWD/target/debug/radqc-desktop" RADQC_KEY_IN=file \
    xvfb-run -a -s "-screen 0 1920x1080x24" \
    target/e2e-venv/bin/python -m pytest -c tests/window/pytest.ini tests/window || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "e2e: pytest collected no test" >&2
  fi
  return "$rc"
}

# The store key's OS keystore tests on a real Secret Service: a session bus of their own and a
# gnome-keyring-daemon unlocked with a throwaway password, its files in a throwaway folder; there
# a keystore that does not answer fails them (RADQC_REQUIRE_KEYSTORE).
keystore() {
  local home rc=0
  home=$(mktemp -d)
  XDG_DATA_HOME="$home" XDG_RUNTIME_DIR="$home" RADQC_REQUIRE_KEYSTORE=1 dbus-run-session -- sh -c \
    'echo -n radqc-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
     cargo test -p radqc-cli --test cli keystore' || rc=$?
  rm -rf "$home"
  return "$rc"
}

# Front-end steps run inside ui/ with the tools its lock file pins.
in_ui() { (cd ui && "$@"); }

# The center's and the sync tests run on PostgreSQL too, and must (RADQC_REQUIRE_POSTGRES).
start_postgres() {
  local url
  url=$(scripts/postgres.sh start) || return 1
  export RADQC_TEST_DATABASE_URL=$url RADQC_REQUIRE_POSTGRES=1
  echo "PostgreSQL at $url"
}
trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT

step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
step postgres start_postgres
step cargo-test cargo test --workspace
step keystore keystore
# Schemathesis on the document a real center serves, on SQLite and the PostgreSQL above (the
# radqc binary that cargo test built).
if [ -x target/debug/radqc ]; then
  step api-fuzz target/e2e-venv/bin/python tests/api/fuzz.py --radqc target/debug/radqc
else
  skip api-fuzz "cargo-test built no target/debug/radqc"
fi
# A department's day of HL7 v2 from the hl7 package's MLLP client into `radqc hl7 listen`, with a
# SIGKILL of the listener mid-stream.
if [ -x target/debug/radqc ]; then
  step hl7-peer target/e2e-venv/bin/python tests/hl7/peer.py --radqc target/debug/radqc
else
  skip hl7-peer "cargo-test built no target/debug/radqc"
fi
step ui-typecheck in_ui npx --no-install vue-tsc --noEmit
step ui-test in_ui npm test
step ui-build in_ui npx --no-install vite build
if ok ui-build; then
  # Embeds ui/dist in the binary, as shipped; the window tests must not need a dev server.
  step desktop-build cargo build -p radqc-desktop --features custom-protocol
else
  skip desktop-build "ui-build failed"
fi
if ok desktop-build; then
  step e2e e2e
else
  skip e2e "desktop-build did not pass"
fi

total=$((${#passed[@]} + ${#failed[@]} + ${#skipped[@]}))
echo
echo "test.sh: ${#passed[@]} of $total steps passed in $((SECONDS - started))s" \
  "${failed[*]:+| failed: ${failed[*]}}" "${skipped[*]:+| skipped: ${skipped[*]}}"
[ ${#failed[@]} -eq 0 ] && [ ${#skipped[@]} -eq 0 ]
