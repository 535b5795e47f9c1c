#!/usr/bin/env bash
# Builds and starts the RadQC desktop app.
#   scripts/run.sh          debug build with the front-end embedded, as shipped, in demo mode:
#                           a demo department (staff, a week of DR/CT/MR exams) in target/demo
#   scripts/run.sh --dev    Vite dev server with hot reload + `tauri dev` (rebuilds on change)
# Other arguments go to the app (then no demo defaults): --demo, --data-dir DIR,
# --gate-port PORT (the workstation gate API, default 47801), --allow-on-close.
# Without a display it starts under Xvfb, so that it still runs (and can be driven) headless.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=embedded
if [ "${1:-}" = "--dev" ]; then
  mode=dev
  shift
fi

scripts/setup.sh

headless=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "[run] no DISPLAY: starting under Xvfb (1366x768); set DISPLAY to see the window"
  headless=(xvfb-run -a -s "-screen 0 1366x768x24")
fi

if [ "$mode" = dev ]; then
  cd ui
  [ $# -gt 0 ] || set -- -- --demo --data-dir "$PWD/../target/demo"
  exec "${headless[@]}" npm run tauri -- dev "$@"
fi
[ $# -gt 0 ] || set -- --demo --data-dir "$PWD/target/demo"

echo "[run] building the front-end (ui/dist)"
(cd ui && npm run build)

echo "[run] building the desktop app"
cargo build -p radqc-desktop --features custom-protocol

echo "[run] starting target/debug/radqc-desktop"
exec "${headless[@]}" target/debug/radqc-desktop "$@"
