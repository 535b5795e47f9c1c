//! Signing in with a secret, offline from the roster's verifiers: wrong secrets and the lock
//! they lead to, a secret to change first, expiry, and the session's lock after idle time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use radqc_app::{App, AppConfig, PanelClosedPolicy, DEMO_SECRET};
use radqc_domain::credential::{self, SecretPolicy};
use radqc_protocol::{FeedItem, FeedKind, RosterBody, StaffCredential, StaffMember};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
}

fn demo(idle: std::time::Duration) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: idle,
    };
    let app = App::open(config, t0()).unwrap();
    (dir, app)
}

fn codes(app: &App) -> Vec<String> {
    app.store()
        .audit_log()
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.subject.unwrap_or_default()))
        .collect()
}

fn verifier(secret: &str, salt: u8) -> String {
    credential::make_verifier_with(secret, &[salt; 16], credential::MIN_PARAMS)
}

/// Publishes a roster of the demo people with these credentials and policy, as a sync would.
fn publish(app: &mut App, cursor: i64, credentials: Vec<StaffCredential>, policy: SecretPolicy) {
    let staff: Vec<StaffMember> = app.roster().unwrap();
    let site = app.store().site().to_string();
    let body = RosterBody { staff, time_zone: None, credentials, policy: Some(policy) };
    let item = FeedItem {
        cursor,
        kind: FeedKind::Roster,
        site: Some(site),
        body: serde_json::to_value(body).unwrap(),
        published_at: t0(),
    };
    app.store_mut().save_feed_items(&[item], t0()).unwrap();
}

fn cred(code: &str, secret: &str, version: i64, must_change: bool, set_at: DateTime<Utc>) -> StaffCredential {
    StaffCredential { code: code.to_owned(), verifier: verifier(secret, version as u8), version, must_change, set_at }
}

#[test]
fn a_wrong_secret_is_refused_and_enough_of_them_lock_the_person_out() {
    let (_dir, mut app) = demo(radqc_app::DEFAULT_IDLE_LOCK);
    let max = app.secret_policy().unwrap().max_attempts;
    for left in (1..max).rev() {
        let e = app.sign_in("D1", "not-the-secret", t0()).unwrap_err();
        assert_eq!(e.code, "SIGN_IN_FAILED", "{e:?}");
        assert!(e.message_en.contains(&format!("{left} attempts left")), "{e:?}");
        assert!(e.message_zh.contains("工号或密码错误"), "{e:?}");
    }
    let e = app.sign_in("D1", "not-the-secret", t0()).unwrap_err();
    assert_eq!(e.code, "LOCKED_OUT", "{e:?}");
    assert!(e.message_zh.contains("15 分钟"), "{e:?}");
    // Locked: even the right secret does not open, and is not checked.
    let e = app.sign_in("D1", DEMO_SECRET, t0() + Duration::minutes(14)).unwrap_err();
    assert_eq!(e.code, "LOCKED_OUT", "{e:?}");
    assert!(e.message_en.contains("1 more minutes"), "{e:?}");
    assert!(app.session().user.is_none());
    // Another person at the same workstation is not locked.
    app.sign_in("D2", DEMO_SECRET, t0()).unwrap();
    // After the lock, the right secret opens and the count starts again.
    let member = app.sign_in("D1", DEMO_SECRET, t0() + Duration::minutes(15)).unwrap();
    assert_eq!(member.code, "D1");
    let e = app.sign_in("D1", "wrong", t0() + Duration::minutes(16)).unwrap_err();
    assert!(e.message_en.contains(&format!("{} attempts left", max - 1)), "{e:?}");

    let log = codes(&app);
    let count = |what: &str| log.iter().filter(|l| l.as_str() == what).count();
    assert_eq!(count("sign_in_failed D1"), max as usize + 1);
    assert_eq!(count("locked_out D1"), 1);
    assert_eq!(count("sign_in_refused D1"), 1);
    assert_eq!(count("signed_in D1"), 1);
    assert_eq!(count("signed_in D2"), 1);
    // An unknown code is refused by name and audited too.
    assert_eq!(app.sign_in("ZZ9", DEMO_SECRET, t0()).unwrap_err().code, "UNKNOWN_STAFF");
    assert!(log.len() < codes(&app).len());
}

#[test]
fn the_lock_outlasts_a_restart_of_the_app() {
    let (dir, mut app) = demo(radqc_app::DEFAULT_IDLE_LOCK);
    for _ in 0..app.secret_policy().unwrap().max_attempts {
        let _ = app.sign_in("Q1", "guess", t0());
    }
    drop(app);
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let mut again = App::open(config, t0()).unwrap();
    assert_eq!(again.sign_in("Q1", DEMO_SECRET, t0() + Duration::minutes(1)).unwrap_err().code, "LOCKED_OUT");
}

#[test]
fn a_secret_set_by_an_administrator_is_changed_at_first_sign_in_and_works_offline() {
    let (_dir, mut app) = demo(radqc_app::DEFAULT_IDLE_LOCK);
    let policy = SecretPolicy::default();
    publish(&mut app, 1, vec![cred("D1", "Initial-2026", 1, true, t0())], policy);
    // The demo secret is no longer D1's: the center's roster names staff now.
    assert_eq!(app.sign_in("D1", DEMO_SECRET, t0()).unwrap_err().code, "SIGN_IN_FAILED");
    let e = app.sign_in("D1", "Initial-2026", t0()).unwrap_err();
    assert_eq!(e.code, "SECRET_CHANGE_REQUIRED", "{e:?}");
    assert!(app.session().user.is_none(), "not signed in until the change");
    // The new secret follows the policy, and the current one proves it is them.
    let weak = app.change_secret("D1", "Initial-2026", "abc", t0()).unwrap_err();
    assert_eq!(weak.code, "WEAK_SECRET");
    assert!(weak.message_zh.contains("至少 8 位"), "{weak:?}");
    assert_eq!(app.change_secret("D1", "Initial-2026", "Initial-2026", t0()).unwrap_err().code, "WEAK_SECRET");
    assert_eq!(app.change_secret("D1", "guess", "Zhao-Min-77", t0()).unwrap_err().code, "SIGN_IN_FAILED");
    let me = app.change_secret("D1", "Initial-2026", "Zhao-Min-77", t0()).unwrap();
    assert_eq!(me.code, "D1");
    assert_eq!(app.session().user.unwrap().code, "D1");
    app.sign_out(t0()).unwrap();
    app.sign_in("D1", "Zhao-Min-77", t0()).unwrap();
    assert_eq!(app.sign_in("D1", "Initial-2026", t0()).unwrap_err().code, "SIGN_IN_FAILED");
    // The change waits for the center, as a verifier only.
    let unsent = app.store().unsent_secrets().unwrap();
    assert_eq!(unsent.len(), 1);
    assert_eq!((unsent[0].staff.as_str(), unsent[0].based_on), ("D1", 1));
    assert!(unsent[0].verifier.starts_with("$argon2id$"));
    assert!(codes(&app).contains(&"secret_changed D1".to_owned()));

    // The center reset D1's secret since (version 2): the center's wins over the one chosen here.
    publish(&mut app, 2, vec![cred("D1", "Reset-by-admin-1", 2, false, t0())], policy);
    assert_eq!(app.sign_in("D1", "Zhao-Min-77", t0()).unwrap_err().code, "SIGN_IN_FAILED");
    app.sign_in("D1", "Reset-by-admin-1", t0()).unwrap();
}

#[test]
fn an_expired_secret_is_changed_and_a_person_without_one_is_told_so() {
    let (_dir, mut app) = demo(radqc_app::DEFAULT_IDLE_LOCK);
    let policy = SecretPolicy { expiry_days: 90, ..SecretPolicy::default() };
    publish(&mut app, 1, vec![cred("D1", "Set-long-ago-1", 3, false, t0() - Duration::days(91))], policy);
    let e = app.sign_in("D1", "Set-long-ago-1", t0()).unwrap_err();
    assert_eq!(e.code, "SECRET_CHANGE_REQUIRED");
    assert!(e.message_en.contains("expired"), "{e:?}");
    app.change_secret("D1", "Set-long-ago-1", "Fresh-secret-9", t0()).unwrap();
    // A person the roster has no verifier for.
    let e = app.sign_in("D2", DEMO_SECRET, t0()).unwrap_err();
    assert_eq!(e.code, "NO_SECRET", "{e:?}");
    assert!(e.message_zh.contains("管理员"), "{e:?}");
}

#[test]
fn a_verifier_cheaper_than_the_minimum_is_never_a_match() {
    let (_dir, mut app) = demo(radqc_app::DEFAULT_IDLE_LOCK);
    let cheap = credential::make_verifier_with(
        "Cheap-secret-1",
        &[3; 16],
        credential::Argon2Cost { memory_kib: 8, iterations: 1, lanes: 1 },
    );
    let c = StaffCredential { code: "D1".into(), verifier: cheap, version: 1, must_change: false, set_at: t0() };
    publish(&mut app, 1, vec![c], SecretPolicy::default());
    assert_eq!(app.sign_in("D1", "Cheap-secret-1", t0()).unwrap_err().code, "INVALID_VERIFIER");
}

#[test]
fn the_session_locks_after_the_idle_time_and_opens_only_with_the_same_persons_secret() {
    let (_dir, mut app) = demo(std::time::Duration::from_secs(600));
    app.sign_in("Q1", DEMO_SECRET, t0()).unwrap();
    assert!(!app.lock_if_idle(t0() + Duration::minutes(9)).unwrap());
    app.touch(t0() + Duration::minutes(9));
    assert!(!app.lock_if_idle(t0() + Duration::minutes(18)).unwrap(), "the idle time started again");
    assert!(app.lock_if_idle(t0() + Duration::minutes(19)).unwrap());
    assert!(app.session().locked);
    // Locked: the person's commands are refused, by the app, not only hidden.
    let scope = serde_json::from_value(serde_json::json!({"from": "2026-11", "to": "2026-11"})).unwrap();
    assert_eq!(app.report_view(&scope).unwrap_err().code, "SESSION_LOCKED");
    assert_eq!(app.my_scores(t0()).unwrap_err().code, "SESSION_LOCKED");
    // Touching a locked session does not open it.
    app.touch(t0() + Duration::minutes(20));
    assert!(app.session().locked);
    // Another person's secret does not open it; the same person's does.
    assert_eq!(app.unlock("wrong", t0() + Duration::minutes(20)).unwrap_err().code, "SIGN_IN_FAILED");
    assert!(app.session().locked);
    assert_eq!(app.unlock(DEMO_SECRET, t0() + Duration::minutes(20)).unwrap().code, "Q1");
    assert!(!app.session().locked);
    app.report_view(&scope).unwrap();
    let log = codes(&app);
    assert!(
        log.contains(&"session_locked Q1".to_owned()) && log.contains(&"session_unlocked Q1".to_owned()),
        "{log:?}"
    );
}
