//! The desktop shell: builds the Tauri app, opens the application layer, starts the gate API
//! and the background sync, and registers the IPC commands.
//!
//! Architecture Invariant: no QC logic lives here. A command turns a wire type into a call of
//! `radqc-app` and the answer back into a wire type, or its error into an [`IpcError`].

#[cfg(test)]
mod bindings;
pub mod commands;
mod desktop;
pub mod events;
mod gate_http;
mod ipc_error;
mod os_lock;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use radqc_app::{App, AppConfig, PanelClosedPolicy};
use tauri::Manager;

pub use ipc_error::IpcError;

/// Command-line options: `--demo`, `--data-dir DIR`, `--gate-port PORT`, `--allow-on-close`,
/// `--idle-lock SECONDS`, `--hl7-listen ADDR` (with `--hl7-mapping FILE`, `--hl7-gb18030`).
#[derive(Debug, Clone)]
pub struct Options {
    pub demo: bool,
    pub data_dir: Option<PathBuf>,
    pub gate_port: u16,
    pub when_panel_closed: PanelClosedPolicy,
    pub idle_lock: Duration,
    /// Where the app takes HL7 v2 from the RIS (MLLP), when configured: `0.0.0.0:2575`.
    pub hl7_listen: Option<String>,
    pub hl7_mapping: Option<PathBuf>,
    pub hl7_gb18030: bool,
}

/// The port the reading workstation's hook talks to unless told otherwise.
pub const DEFAULT_GATE_PORT: u16 = 47801;

impl Options {
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            demo: false,
            data_dir: None,
            gate_port: DEFAULT_GATE_PORT,
            when_panel_closed: PanelClosedPolicy::Block,
            idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
            hl7_listen: None,
            hl7_mapping: None,
            hl7_gb18030: false,
        };
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--demo" => o.demo = true,
                "--allow-on-close" => o.when_panel_closed = PanelClosedPolicy::Allow,
                "--data-dir" => o.data_dir = Some(args.next().ok_or("--data-dir needs a folder")?.into()),
                "--hl7-listen" => o.hl7_listen = Some(args.next().ok_or("--hl7-listen needs ADDR:PORT")?),
                "--hl7-mapping" => o.hl7_mapping = Some(args.next().ok_or("--hl7-mapping needs a file")?.into()),
                "--hl7-gb18030" => o.hl7_gb18030 = true,
                "--gate-port" => {
                    let v = args.next().ok_or("--gate-port needs a port")?;
                    o.gate_port = v.parse().map_err(|_| format!("--gate-port: `{v}` is not a port"))?;
                }
                "--idle-lock" => {
                    let v = args.next().ok_or("--idle-lock needs seconds")?;
                    let secs: u64 = v.parse().map_err(|_| format!("--idle-lock: `{v}` is not a number of seconds"))?;
                    if !(5..=24 * 3600).contains(&secs) {
                        return Err(format!("--idle-lock: {secs} s is outside 5 s to 24 h"));
                    }
                    o.idle_lock = Duration::from_secs(secs);
                }
                other => {
                    return Err(format!(
                        "unknown option `{other}` (known: --demo, --data-dir DIR, --gate-port PORT, --allow-on-close, \
                         --idle-lock SECONDS, --hl7-listen ADDR:PORT, --hl7-mapping FILE, --hl7-gb18030)"
                    ))
                }
            }
        }
        Ok(o)
    }
}

/// Every IPC command, once: `$then!(name, …)`. The shell registers them (`handler`), and the IPC
/// tests call each of them by name (`COMMANDS`), so a command added here is a command tested.
macro_rules! ipc_commands {
    ($then:ident) => {
        $then!(
            rubric,
            session,
            roster,
            sign_in,
            sign_out,
            change_secret,
            lock_session,
            unlock_session,
            touch,
            scorable_items,
            preview_score,
            save_evaluations,
            find_exams,
            exam_detail,
            pending_gates,
            close_gate,
            precheck_choose,
            exam_precheck,
            decide_proposal,
            precheck_stats,
            my_scores,
            dispute_evaluation,
            gold_tasks,
            save_gold_read,
            my_notices,
            close_notice,
            report,
            report_view,
            report_evaluations,
            report_workload_exams,
            import_worklist,
            sync_status,
            sync_now,
            enroll,
            autostart,
            set_autostart,
        )
    };
}

/// The Tauri handler of the commands named.
macro_rules! handler {
    ($($name:ident),* $(,)?) => {
        tauri::generate_handler![$($crate::commands::$name),*]
    };
}

macro_rules! names {
    ($($name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

/// The name of every IPC command the window may call.
pub const COMMANDS: &[&str] = ipc_commands!(names);

// After the macros: the IPC tests use `ipc_commands!` and `handler!`.
#[cfg(test)]
mod ipc_tests;

/// The application layer, shared by the commands, the gate API and the sync loop.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<App>>);

impl Shared {
    pub fn lock(&self) -> Result<MutexGuard<'_, App>, IpcError> {
        // A panic while holding the lock leaves the store consistent (transactions roll back).
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A second connection to the same store, for work that waits on the network.
    pub fn open_second_store(&self) -> Result<radqc_store::Store, IpcError> {
        let dir = self.lock()?.data_dir().to_owned();
        let key = radqc_store::Key::from_file(&dir.join("radqc.db.key"))?;
        Ok(radqc_store::Store::open(&dir.join("radqc.db"), &key)?)
    }

    /// Reopens the main connection (after enrollment changed the site).
    pub fn reopen(&self) -> Result<(), IpcError> {
        let fresh = self.open_second_store()?;
        let mut app = self.lock()?;
        *app.store_mut() = fresh;
        app.apply_published_rubric()?;
        Ok(())
    }
}

/// Background sync: a pass every minute when enrolled, backing off after failures.
fn spawn_sync_loop(app: Shared) {
    tauri::async_runtime::spawn(async move {
        let http = radqc_sync::http_client();
        let backoff = radqc_sync::Backoff::default();
        let mut failures = 0u32;
        loop {
            let wait = match app.open_second_store() {
                Ok(mut store) => match radqc_sync::try_sync_once(&mut store, &http, chrono::Utc::now()).await {
                    radqc_sync::Outcome::Retry { .. } => {
                        failures += 1;
                        let jitter = f64::from(chrono::Utc::now().timestamp_subsec_nanos() % 1000) / 1000.0;
                        backoff.delay(failures, jitter).max(Duration::from_secs(5))
                    }
                    _ => {
                        failures = 0;
                        // A rubric the center published in this pass is used from now on.
                        if let Ok(mut a) = app.lock() {
                            let _ = a.apply_published_rubric();
                        }
                        Duration::from_secs(60)
                    }
                },
                Err(_) => Duration::from_secs(60),
            };
            tokio::time::sleep(wait).await;
        }
    });
}

/// Locks the session after the configured idle time, and tells the window.
fn spawn_idle_lock(app: Shared, handle: tauri::AppHandle) {
    use tauri::Emitter;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let locked = app.lock().ok().and_then(|mut a| a.lock_if_idle(chrono::Utc::now()).ok()).unwrap_or(false);
        if locked {
            let _ = handle.emit(events::SESSION_LOCKED, events::SessionLocked { why: "idle".to_owned() });
        }
    });
}

/// Starts the desktop app and blocks until its last window closes.
pub fn run(options: Options) {
    tauri::Builder::default()
        // A second start (or a radqc:// link) goes to the running instance, which comes forward.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            match argv.iter().find(|a| a.starts_with("radqc://")) {
                Some(url) => desktop::open_url(app, url),
                None => desktop::show_main(app),
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None))
        .on_window_event(desktop::hide_on_close)
        .setup(move |tauri_app| {
            desktop::tray(tauri_app)?;
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let handle = tauri_app.handle().clone();
                tauri_app.deep_link().on_open_url(move |event| {
                    for url in event.urls() {
                        desktop::open_url(&handle, url.as_str());
                    }
                });
                // Linux and Windows learn the scheme at run time; a failure only disables links.
                #[cfg(any(target_os = "linux", windows))]
                if let Err(e) = tauri_app.deep_link().register_all() {
                    eprintln!("radqc-desktop: radqc:// links not registered: {e}");
                }
            }
            let data_dir = match &options.data_dir {
                Some(d) => d.clone(),
                None => tauri_app.path().app_data_dir()?,
            };
            let config = AppConfig {
                data_dir,
                demo: options.demo,
                when_panel_closed: options.when_panel_closed,
                idle_lock: options.idle_lock,
            };
            let app = App::open(config, chrono::Utc::now()).map_err(|e| e.to_string())?;
            let shared = Shared(Arc::new(Mutex::new(app)));
            // Without its port (another instance holds it) the app still scores; the session then
            // shows no gate URL and the workstation's hook falls back to its own setting.
            match gate_http::start(options.gate_port, shared.clone(), tauri_app.handle().clone()) {
                Ok(url) => shared.lock().map_err(|e| e.to_string())?.set_gate_url(url),
                Err(e) => eprintln!("radqc-desktop: gate API not started on port {}: {e}", options.gate_port),
            }
            if let Some(listen) = &options.hl7_listen {
                // Configured, it must run: a RIS sending to a port nobody holds loses nothing
                // (it keeps the unanswered message), but the site must know.
                let addr =
                    radqc_app::start_hl7(shared.0.clone(), listen, options.hl7_mapping.as_deref(), options.hl7_gb18030)
                        .map_err(|e| format!("--hl7-listen {listen}: {e}"))?;
                eprintln!("radqc-desktop: HL7 listening on {addr}");
            }
            spawn_sync_loop(shared.clone());
            spawn_idle_lock(shared.clone(), tauri_app.handle().clone());
            {
                use tauri::Emitter;
                let (app, handle) = (shared.clone(), tauri_app.handle().clone());
                os_lock::watch(move || {
                    let locked = app.lock().ok().map(|mut a| {
                        let was = a.locked();
                        a.lock("os", chrono::Utc::now()).is_ok() && !was && a.locked()
                    });
                    if locked == Some(true) {
                        let _ = handle.emit(events::SESSION_LOCKED, events::SessionLocked { why: "os".to_owned() });
                    }
                });
            }
            tauri_app.manage(shared);
            Ok(())
        })
        .invoke_handler(ipc_commands!(handler))
        .run(tauri::generate_context!())
        // Nothing to recover at this point: no window could be shown, so say why and stop.
        .unwrap_or_else(|e| panic!("RadQC desktop failed to start: {e}"));
}
