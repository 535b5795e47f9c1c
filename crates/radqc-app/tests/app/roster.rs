//! The roster the center publishes, as the app reads it.

use chrono::{TimeZone, Utc};
use radqc_app::{App, AppConfig, PanelClosedPolicy};
use radqc_protocol::{FeedItem, FeedKind};
use serde_json::json;

#[test]
fn a_roster_that_does_not_read_is_an_error_not_an_empty_roster() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        AppConfig { data_dir: dir.path().join("data"), demo: true, when_panel_closed: PanelClosedPolicy::Block };
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    let mut app = App::open(config, now).unwrap();
    let site = app.store().site().to_string();
    let item = |cursor, staff| FeedItem {
        cursor,
        kind: FeedKind::Roster,
        site: Some(site.clone()),
        body: json!({ "staff": staff }),
        published_at: now,
    };
    let good = json!([{"site": site, "code": "D1", "name": "赵敏", "roles": ["radiologist"], "active": true}]);
    app.store_mut().save_feed_items(&[item(1, good)], now).unwrap();
    assert_eq!(app.roster().unwrap().len(), 1, "the published roster replaces the demo one");

    // A roster the center published in a shape this build cannot read.
    let bad = json!([{"site": site, "code": "D1", "name": "赵敏", "roles": "radiologist", "active": "yes"}]);
    app.store_mut().save_feed_items(&[item(2, bad)], now).unwrap();
    let err = app.roster().unwrap_err();
    assert_eq!(err.code, "ROSTER_UNREADABLE", "{err:?}");
    assert!(err.message_en.contains("roster") && err.message_en.contains("feed item 2"), "{err:?}");
    assert!(app.sign_in("D1", now).is_err(), "nobody signs in from a roster that does not read");
}

#[test]
fn an_empty_roster_of_a_new_site_leaves_the_demo_people_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        AppConfig { data_dir: dir.path().join("data"), demo: true, when_panel_closed: PanelClosedPolicy::Block };
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    let mut app = App::open(config, now).unwrap();
    let site = app.store().site().to_string();
    // What a center publishes for a site it has just made: its zone, no staff yet.
    let item = FeedItem {
        cursor: 1,
        kind: FeedKind::Roster,
        site: Some(site),
        body: json!({ "staff": [], "time_zone": "Asia/Shanghai" }),
        published_at: now,
    };
    app.store_mut().save_feed_items(&[item], now).unwrap();
    assert_eq!(app.roster().unwrap().len(), 10, "the demo department's people can still sign in");
}
