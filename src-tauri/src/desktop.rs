//! Living on the workstation: one instance, a tray icon with the common actions, closing hides
//! (so the panel appears instantly next time), start with the session if the user wants, and
//! `radqc://` links.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{App, AppHandle, Emitter, Manager, WindowEvent};

use crate::events;

/// Brings the main window to the front.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// `radqc://score?accession=CT123` opens active QC on that exam. (Holding a signature needs an
/// answer, which a link cannot carry: workstations use the gate API or `radqc gate` for that.)
pub fn open_url(app: &AppHandle, url: &str) {
    let Some(rest) = url.strip_prefix("radqc://") else {
        return;
    };
    let (action, query) = rest.split_once('?').unwrap_or((rest, ""));
    let accession = query.split('&').find_map(|kv| kv.strip_prefix("accession=")).map(percent_decode);
    show_main(app);
    match (action.trim_end_matches('/'), accession) {
        ("score", Some(accession)) => {
            let _ = app.emit(events::OPEN_EXAM, events::OpenExam { accession });
        }
        _ => {
            let _ = app.emit(events::NAVIGATE, events::Navigate { route: "home".to_owned() });
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The tray icon and its menu; each entry shows the window on a screen.
pub fn tray(app: &App) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "打开 RadQC / Open", true, None::<&str>)?;
    let active = MenuItem::with_id(app, "active", "主动质控 / Active QC", true, None::<&str>)?;
    let sync = MenuItem::with_id(app, "sync", "同步状态 / Sync", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "退出 / Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &active, &sync, &quit])?;
    let mut builder = TrayIconBuilder::with_id("radqc").tooltip("RadQC 影像质控").menu(&menu);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder
        .on_menu_event(|app, event| match event.id.as_ref() {
            "quit" => app.exit(0),
            "open" => show_main(app),
            route => {
                show_main(app);
                let _ = app.emit(events::NAVIGATE, events::Navigate { route: route.to_owned() });
            }
        })
        .build(app)?;
    Ok(())
}

/// Closing the window hides it: the app stays in the tray, ready for the next signing.
pub fn hide_on_close(window: &tauri::Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() == "main" {
            api.prevent_close();
            let _ = window.hide();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_decoded() {
        assert_eq!(super::percent_decode("CT%20001+x"), "CT 001 x");
        assert_eq!(super::percent_decode("%E8%83%B8"), "胸");
        assert_eq!(super::percent_decode("bad%zz"), "bad%zz");
        assert_eq!(super::percent_decode("end%4"), "end%4");
    }
}
