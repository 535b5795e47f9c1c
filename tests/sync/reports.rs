//! Reports computed at a site (its local store) and at the center (after sync) agree exactly.

use chrono::{Datelike, Utc};
use radqc_domain::report::{Month, Report};
use radqc_e2e::{storages, Center, Clinic};

#[tokio::test(flavor = "multi_thread")]
async fn site_and_center_reports_agree() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, storage) in storages(dir.path()).await {
        let center = Center::start(storage).await;
        let mut clinic = Clinic::new("CLINIC-R");
        clinic.enroll(&center, &center.url()).await;
        for n in 0..60 {
            clinic.save_evaluation(n);
            if n % 4 == 0 {
                clinic.record_event(n);
            }
        }
        // A correction: only the latest revision may count, at both ends.
        let first = clinic.store.evaluations().unwrap().into_iter().find(|e| e.item.as_str() == "AR").unwrap();
        clinic.correct(&first.id, &[], "Q1", "复核后更正");
        let outcome = radqc_sync::try_sync_once(&mut clinic.store, &radqc_sync::http_client(), Utc::now()).await;
        assert!(matches!(outcome, radqc_sync::Outcome::Synced { .. }), "{outcome:?}");

        let now = Utc::now();
        let this_month = Month { year: now.year(), month: now.month() };
        for month in [this_month, Month { year: 2026, month: 10 }] {
            let (from, to) = month.range();
            let at_site = Report::build(
                clinic.store.rubric(),
                month.to_string(),
                &clinic.store.evaluation_facts(&from, &to).unwrap(),
                &clinic.store.work_facts(&from, &to).unwrap(),
            );
            let at_center = radqc_center::http::build_report(&center.db, month, Some("CLINIC-R")).await.unwrap();
            assert_eq!(
                serde_json::to_value(&at_site).unwrap(),
                serde_json::to_value(&at_center).unwrap(),
                "{backend} {month}: the same numbers at the site and the center"
            );
        }
        let (from, to) = this_month.range();
        let facts = clinic.store.evaluation_facts(&from, &to).unwrap();
        assert_eq!(facts.len(), 60, "60 current evaluations (the corrected one counts once)");
        assert!(facts.iter().any(|f| f.note == "复核后更正"));
    }
}
