//! The OS session's lock: when the platform says the workstation's session locked, the app locks
//! too. On Linux, logind's `Lock` signal for this process's session (the system bus; what
//! `loginctl lock-session` and most desktops send) and the desktop's screensaver turning on
//! (`ActiveChanged(true)` of `org.freedesktop.ScreenSaver` or `org.gnome.ScreenSaver`, the
//! session bus). Without a bus (a headless clinic, a container) only the idle time locks; the
//! reason is printed once. Windows (WTS session notifications) and macOS
//! (`com.apple.screenIsLocked`) are not watched yet.

/// Calls `on_lock` (with `"os"`) each time the OS session locks, from background threads.
pub fn watch(on_lock: impl Fn() + Send + Sync + 'static) {
    #[cfg(target_os = "linux")]
    linux::watch(std::sync::Arc::new(on_lock));
    #[cfg(not(target_os = "linux"))]
    let _ = on_lock;
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::Arc;

    use zbus::blocking::{Connection, MessageIterator};
    use zbus::message::Type;
    use zbus::MatchRule;

    type OnLock = Arc<dyn Fn() + Send + Sync>;

    pub fn watch(on_lock: OnLock) {
        let screensaver = on_lock.clone();
        std::thread::spawn(move || match Connection::session() {
            Ok(conn) => watch_screensaver(&conn, screensaver),
            Err(e) => eprintln!("radqc-desktop: no session bus, the screensaver's lock is not followed: {e}"),
        });
        std::thread::spawn(move || match Connection::system() {
            Ok(conn) => {
                if let Err(e) = watch_logind(&conn, on_lock) {
                    eprintln!("radqc-desktop: logind's session lock is not followed: {e}");
                }
            }
            Err(e) => eprintln!("radqc-desktop: no system bus, logind's session lock is not followed: {e}"),
        });
    }

    /// Blocks, calling `on_lock` whenever a screensaver on `conn` says it turned on.
    pub fn watch_screensaver(conn: &Connection, on_lock: OnLock) {
        let rule = |interface: &'static str| {
            MatchRule::builder().msg_type(Type::Signal).interface(interface).and_then(|b| b.member("ActiveChanged"))
        };
        let rules = ["org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"].map(|i| rule(i).map(|b| b.build()));
        let mut threads = Vec::new();
        for rule in rules.into_iter().flatten() {
            let (conn, on_lock) = (conn.clone(), on_lock.clone());
            threads.push(std::thread::spawn(move || {
                let Ok(messages) = MessageIterator::for_match_rule(rule, &conn, Some(16)) else { return };
                for message in messages.flatten() {
                    if message.body().deserialize::<bool>().unwrap_or(false) {
                        on_lock();
                    }
                }
            }));
        }
        for t in threads {
            let _ = t.join();
        }
    }

    /// Blocks, calling `on_lock` whenever logind locks this process's session.
    fn watch_logind(conn: &Connection, on_lock: OnLock) -> zbus::Result<()> {
        let reply = conn.call_method(
            Some("org.freedesktop.login1"),
            "/org/freedesktop/login1",
            Some("org.freedesktop.login1.Manager"),
            "GetSessionByPID",
            &(std::process::id()),
        )?;
        let session: zbus::zvariant::OwnedObjectPath = reply.body().deserialize()?;
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .interface("org.freedesktop.login1.Session")?
            .member("Lock")?
            .path(session)?
            .build();
        for message in MessageIterator::for_match_rule(rule, conn, Some(16))?.flatten() {
            let _ = message;
            on_lock();
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::{Duration, Instant};

        use super::*;

        /// A real D-Bus daemon on a private address, a real `dbus-send` as the desktop: the
        /// screensaver turning on locks, turning off does not.
        #[test]
        fn the_screensaver_turning_on_locks_the_app() {
            let mut daemon = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("dbus-daemon runs (Debian: dbus)");
            let mut address = String::new();
            BufReader::new(daemon.stdout.take().unwrap()).read_line(&mut address).unwrap();
            let address = address.trim().to_owned();
            let conn = zbus::blocking::connection::Builder::address(address.as_str()).unwrap().build().unwrap();
            let locks = Arc::new(AtomicUsize::new(0));
            let seen = locks.clone();
            std::thread::spawn(move || {
                watch_screensaver(
                    &conn,
                    Arc::new(move || {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }),
                )
            });
            let send = |interface: &str, on: bool| {
                // The match rules reach the daemon a moment after the watcher starts: resend
                // until it counts, or time out.
                let status = Command::new("dbus-send")
                    .args([
                        &format!("--bus={address}"),
                        "--type=signal",
                        "/org/freedesktop/ScreenSaver",
                        &format!("{interface}.ActiveChanged"),
                        &format!("boolean:{on}"),
                    ])
                    .status()
                    .unwrap();
                assert!(status.success());
            };
            let wait_for = |n: usize| {
                let start = Instant::now();
                while locks.load(Ordering::SeqCst) < n && start.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(100));
                    if locks.load(Ordering::SeqCst) < n {
                        send("org.freedesktop.ScreenSaver", true);
                    }
                }
                locks.load(Ordering::SeqCst)
            };
            assert!(wait_for(1) >= 1, "the freedesktop screensaver's lock was followed");
            let before = locks.load(Ordering::SeqCst);
            send("org.freedesktop.ScreenSaver", false);
            std::thread::sleep(Duration::from_millis(500));
            assert_eq!(locks.load(Ordering::SeqCst), before, "turning off does not lock");
            send("org.gnome.ScreenSaver", true);
            let start = Instant::now();
            while locks.load(Ordering::SeqCst) == before && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(locks.load(Ordering::SeqCst), before + 1, "GNOME's screensaver too");
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}
