//! Monthly monitoring end to end: a failed score at a clinic becomes a notice for the scored
//! person and the department head after sync; the correction recorded at the clinic closes it
//! at the center.

use chrono::Utc;
use radqc_e2e::{storages, Center, Clinic};
use radqc_protocol::{FeedKind, StaffMember};

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_score_becomes_a_notice_and_its_correction_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, storage) in storages(dir.path()).await {
        let center = Center::start(storage).await;
        let mut clinic = Clinic::new("CLINIC-M");
        clinic.enroll(&center, &center.url()).await;
        let staff = |code: &str, role: &str| StaffMember {
            site: "CLINIC-M".into(),
            code: code.into(),
            name: code.into(),
            roles: vec![role.into()],
            active: true,
        };
        radqc_center::put_staff(&center.db, &staff("H1", "department_head")).await.unwrap();
        radqc_center::put_staff(&center.db, &staff("A3", "technologist")).await.unwrap();
        let http = radqc_sync::http_client();

        // n % 5 == 3 saves AR-S7 (a severe criterion): a fail for the auditing doctor D9.
        clinic.save_evaluation(0);
        let failed = clinic.save_evaluation(3);
        radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;

        let notices = center.db.notices(Some("CLINIC-M")).await.unwrap();
        assert_eq!(notices.len(), 1, "{backend}: one failed evaluation, one notice");
        let n = &notices[0];
        assert_eq!(
            (n.evaluation_id.as_str(), n.to.as_deref(), n.also_to.as_slice(), n.closed),
            (failed.as_str(), Some("D9"), &["H1".to_owned()][..], false),
            "{backend}"
        );

        // The clinic learns of it by sync, addressed to the scored person and the head.
        radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
        let feed = clinic.store.feed_items(FeedKind::Notices).unwrap();
        let opened =
            feed.iter().find(|i| i.body["type"] == "failed_evaluation").expect("the notice reached the clinic");
        assert_eq!(opened.body["to"], "D9");
        assert!(
            opened.body["text"].as_str().unwrap().contains("审核报告质量"),
            "{backend}: says which item in Chinese"
        );

        clinic.store.close_notice(&n.id, "已组织复核并培训", &"H1".parse().unwrap(), Utc::now()).unwrap();
        assert!(clinic.store.close_notice(&n.id, "again", &"H1".parse().unwrap(), Utc::now()).is_err(), "closed once");
        let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
        assert!(matches!(outcome, radqc_sync::Outcome::Synced { rejected: 0, .. }), "{backend}: {outcome:?}");
        let closed = center.db.notices(Some("CLINIC-M")).await.unwrap().remove(0);
        assert!(closed.closed, "{backend}: closed at the center");
        assert_eq!((closed.correction.as_deref(), closed.closed_by.as_deref()), (Some("已组织复核并培训"), Some("H1")));
        assert!(
            radqc_center::http::select_notices(vec![closed], true, None, None, Utc::now(), &Default::default())
                .is_empty(),
            "no longer open"
        );
        radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
        assert!(
            clinic.store.feed_items(FeedKind::Notices).unwrap().iter().any(|i| i.body["type"] == "notice_closed"),
            "{backend}: the closure is announced"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrected_score_closes_the_notice_of_the_one_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, storage) in storages(dir.path()).await {
        let center = Center::start(storage).await;
        let mut clinic = Clinic::new("CLINIC-R2");
        clinic.enroll(&center, &center.url()).await;
        let http = radqc_sync::http_client();
        let failed = clinic.save_evaluation(3); // AR-S7: a fail
        radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
        assert!(!center.db.notices(Some("CLINIC-R2")).await.unwrap()[0].closed, "{backend}: open");

        clinic.correct(&failed, &[], "Q1", "复核：并无误诊");
        radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
        let notices = center.db.notices(Some("CLINIC-R2")).await.unwrap();
        assert_eq!(notices.len(), 1, "{backend}: the passing revision opens no notice");
        assert!(notices[0].closed, "{backend}: the revision closed the old notice");
        assert!(
            notices[0].correction.as_deref().unwrap().starts_with("评分已更正"),
            "{backend}: {:?}",
            notices[0].correction
        );
        assert_eq!(notices[0].closed_by.as_deref(), Some("Q1"));
    }
}
