//! The `radqc-desktop` binary: starts the desktop window.

// Release builds on Windows get no console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    match radqc_desktop::Options::from_args(std::env::args().skip(1)) {
        Ok(options) => radqc_desktop::run(options),
        Err(e) => {
            eprintln!("radqc-desktop: {e}");
            std::process::exit(2);
        }
    }
}
