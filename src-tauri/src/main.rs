//! The `radqc-desktop` binary: starts the desktop window.

// Release builds on Windows get no console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    radqc_desktop::run();
}
