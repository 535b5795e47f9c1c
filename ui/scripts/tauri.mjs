//! `npm run tauri -- <command>`: the Tauri CLI for this repository's layout, where the shell
//! lives in ../src-tauri beside (not inside) the front-end, so the CLI cannot find it alone.

import { fileURLToPath } from "node:url";
import cli from "@tauri-apps/cli/main.js";

process.env.TAURI_APP_PATH ??= fileURLToPath(new URL("../../src-tauri", import.meta.url));
process.env.TAURI_FRONTEND_PATH ??= fileURLToPath(new URL("..", import.meta.url));

cli.run(process.argv.slice(2), "npm run tauri --").catch((err) => {
  cli.logError(err.message);
  process.exit(1);
});
