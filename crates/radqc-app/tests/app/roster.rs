//! The roster the center publishes, as the app reads it.

use chrono::{DateTime, TimeZone, Utc};
use radqc_app::{App, AppConfig, PanelClosedPolicy};
use radqc_protocol::{FeedItem, FeedKind};
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
}

/// A demo department's app, and its site's code.
fn demo() -> (tempfile::TempDir, App, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let app = App::open(config, now()).unwrap();
    let site = app.store().site().to_string();
    (dir, app, site)
}

/// Keeps a roster feed item of `site` with this body, as a sync would.
fn publish(app: &mut App, site: &str, cursor: i64, body: Value) {
    let item = FeedItem { cursor, kind: FeedKind::Roster, site: Some(site.to_owned()), body, published_at: now() };
    app.store_mut().save_feed_items(&[item], now()).unwrap();
}

#[test]
fn a_roster_that_does_not_read_is_an_error_not_an_empty_roster() {
    let (_dir, mut app, site) = demo();
    let good = json!([{"site": site, "code": "D1", "name": "赵敏", "roles": ["radiologist"], "active": true}]);
    publish(&mut app, &site, 1, json!({ "staff": good }));
    assert_eq!(app.roster().unwrap().len(), 1, "the published roster replaces the demo one");

    // A roster the center published in a shape this build cannot read.
    let bad = json!([{"site": site, "code": "D1", "name": "赵敏", "roles": "radiologist", "active": "yes"}]);
    publish(&mut app, &site, 2, json!({ "staff": bad }));
    let err = app.roster().unwrap_err();
    assert_eq!(err.code, "ROSTER_UNREADABLE", "{err:?}");
    assert!(err.message_en.contains("roster") && err.message_en.contains("feed item 2"), "{err:?}");
    assert!(
        app.sign_in("D1", radqc_app::DEMO_SECRET, now()).is_err(),
        "nobody signs in from a roster that does not read"
    );
}

#[test]
fn an_empty_roster_of_a_new_site_leaves_the_demo_people_in_place() {
    let (_dir, mut app, site) = demo();
    // What a center publishes for a site it has just made: its zone, no staff yet.
    publish(&mut app, &site, 1, json!({ "staff": [], "time_zone": "Asia/Shanghai" }));
    assert_eq!(app.roster().unwrap().len(), 10, "the demo department's people can still sign in");
}
