//! Vite build for the Tauri webview, and vitest settings for the front-end unit tests.

import { defineConfig } from "vitest/config";
import vue from "@vitejs/plugin-vue";

// `tauri dev` sets TAURI_DEV_HOST only when developing on a device; the desktop uses localhost.
const host = process.env.TAURI_DEV_HOST;

export default defineConfig({
  plugins: [vue()],
  // Tauri's CLI prints its own errors; keep Vite from clearing them off the terminal.
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: host || "127.0.0.1",
    watch: { ignored: ["**/src-tauri/**"] },
  },
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    // WebKitGTK 2.40+ (Debian 12) runs ES2021 natively.
    target: "es2021",
    chunkSizeWarningLimit: 2000,
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.spec.ts"],
  },
});
