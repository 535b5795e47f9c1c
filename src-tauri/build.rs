//! Build script: Tauri embeds the config, the icon and (in release) ../ui/dist into the binary.

fn main() {
    tauri_build::build();
}
