//! A clinic offline for a month: 5,000 evaluations and 50,000 exam events sync in one pass.

use chrono::Utc;
use radqc_e2e::{Center, CenterStorage, Clinic};
use radqc_sync::Outcome;

#[test]
fn a_month_offline_syncs_completely_in_one_pass() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let center = Center::start(CenterStorage::Sqlite(dir.path().join("center.db"))).await;
        let mut clinic = Clinic::new("CLINIC-RURAL");
        clinic.enroll(&center, &center.url()).await;
        radqc_e2e::fill_month(&mut clinic, 5_000, 50_000);

        let http = radqc_sync::http_client();
        let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
        assert_eq!(
            outcome,
            Outcome::Synced { pushed: 55_000, duplicates: 0, rejected: 0, pulled: 0, copy: None },
            "one pass sends it all"
        );
        let stats = center.db.stats().await.unwrap();
        assert_eq!((stats[0].evaluations, stats[0].exam_events, stats[0].last_seq), (5_000, 50_000, 55_000));
        assert_eq!(clinic.store.outbox_counts().unwrap().pending, 0);
    });
    rt.shutdown_background();
}
