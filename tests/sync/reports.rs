//! Reports computed at a site (its local store) and at the center (after sync) agree exactly.

use chrono::{Datelike, Utc};
use radqc_domain::report::{Month, Period, Report, ReportFilter};
use radqc_domain::{QcMode, Role};
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

        // Change an exam's grouped attributes after its evaluations arrived: the rollups move
        // its counts, as a site recomputing from its facts would.
        let moved = clinic.store.evaluations().unwrap().into_iter().find(|e| e.item.as_str() == "RQ").unwrap();
        let mut exam = clinic.exam(0);
        exam.accession = moved.accession.clone();
        exam.department = Some("急诊科".into());
        let at = Utc::now();
        clinic
            .store
            .record_event(&exam, radqc_domain::ExamEventKind::ReportAudited, &"D9".parse().unwrap(), at, at)
            .unwrap();
        let outcome = radqc_sync::try_sync_once(&mut clinic.store, &radqc_sync::http_client(), Utc::now()).await;
        assert!(matches!(outcome, radqc_sync::Outcome::Synced { .. }), "{outcome:?}");

        let kept = center.db.rollups().await.unwrap();
        center.db.rebuild_rollups().await.unwrap();
        assert_eq!(kept, center.db.rollups().await.unwrap(), "{backend}: rollups kept at ingest = rebuilt");

        let now = Utc::now();
        let this_month = Month { year: now.year(), month: now.month() };
        let filters: Vec<(&str, ReportFilter)> = vec![
            ("no filter", ReportFilter::default()),
            ("technologists", ReportFilter { role: Some(Role::Technologist), ..Default::default() }),
            ("reporting doctors", ReportFilter { role: Some(Role::ReportingDoctor), ..Default::default() }),
            ("DR", ReportFilter { modality: Some("DR".parse().unwrap()), ..Default::default() }),
            ("D1", ReportFilter { person: Some("D1".parse().unwrap()), ..Default::default() }),
            ("centralized", ReportFilter { mode: Some(QcMode::Centralized), ..Default::default() }),
            ("急诊科", ReportFilter { department: Some("急诊科".into()), ..Default::default() }),
        ];
        let periods = [Period::month(this_month), Period::month(Month { year: 2026, month: 10 }), Period::all()];
        for period in periods {
            for (what, filter) in &filters {
                let (from, to) = period.range();
                let at_site = Report::build(
                    clinic.store.rubric(),
                    period.to_string(),
                    filter.clone(),
                    &clinic.store.evaluation_facts(&from, &to).unwrap(),
                    &clinic.store.work_facts(&from, &to).unwrap(),
                    None,
                );
                let site_filter = ReportFilter { site: Some("CLINIC-R".into()), ..filter.clone() };
                let mut at_center =
                    radqc_center::http::build_report(&center.db, period, site_filter, None).await.unwrap();
                at_center.filter.site = None;
                assert_eq!(
                    serde_json::to_value(&at_site).unwrap(),
                    serde_json::to_value(&at_center).unwrap(),
                    "{backend} {period} {what}: the same numbers at the site and the center"
                );
            }
        }
        let (from, to) = this_month.range();
        let facts = clinic.store.evaluation_facts(&from, &to).unwrap();
        assert_eq!(facts.len(), 60, "60 current evaluations (the corrected one counts once)");
        assert!(facts.iter().any(|f| f.note == "复核后更正"));
    }
}

/// An exam signed through the gate without a performing time (the README's example) counts in
/// figure 5 at its signing time, at the site and at the center; the performing time the exam's
/// data gives later replaces it at both ends.
#[tokio::test(flavor = "multi_thread")]
async fn a_gate_signed_exam_without_a_performing_time_counts_in_the_workload() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, storage) in storages(dir.path()).await {
        let center = Center::start(storage).await;
        let mut clinic = Clinic::new("CLINIC-G");
        clinic.enroll(&center, &center.url()).await;
        let mut exam = clinic.exam(1);
        exam.performed_at = None;
        let signed = Utc::now();
        let d1 = "D1".parse().unwrap();
        clinic.store.record_event(&exam, radqc_domain::ExamEventKind::ReportSigned, &d1, signed, signed).unwrap();
        let stored = clinic.store.exam(None, &exam.accession).unwrap().unwrap();
        assert_eq!(stored.performed_at_source, Some(radqc_protocol::PerformedAtSource::Signed), "{backend}");
        let outcome = radqc_sync::try_sync_once(&mut clinic.store, &radqc_sync::http_client(), Utc::now()).await;
        assert!(matches!(outcome, radqc_sync::Outcome::Synced { .. }), "{outcome:?}");

        let this_month = Month { year: signed.year(), month: signed.month() };
        let october = Month { year: 2026, month: 10 };
        let workload = |clinic: &Clinic, month: Month| {
            let (from, to) = month.range();
            let work = clinic.store.work_facts(&from, &to).unwrap();
            Report::build(clinic.store.rubric(), month.to_string(), ReportFilter::default(), &[], &work, None)
                .workload
                .total
        };
        let at_center = |month: Month| {
            let db = &center.db;
            async move {
                let filter = ReportFilter { site: Some("CLINIC-G".into()), ..Default::default() };
                radqc_center::http::build_report(db, Period::month(month), filter, None).await.unwrap().workload.total
            }
        };
        assert_eq!(workload(&clinic, this_month), 1, "{backend}: at the site, in the month it was signed");
        assert_eq!(at_center(this_month).await, 1, "{backend}: at the center too");

        // The RIS gives the performing time later (an October exam signed now): it replaces
        // the signing time, at both ends.
        exam.performed_at = Some(chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 10, 30, 9, 0, 0).unwrap());
        let now = Utc::now();
        clinic.store.record_event(&exam, radqc_domain::ExamEventKind::ReportAudited, &d1, now, now).unwrap();
        let stored = clinic.store.exam(None, &exam.accession).unwrap().unwrap();
        assert_eq!(stored.performed_at_source, None, "{backend}: the exam's own time is not marked");
        let outcome = radqc_sync::try_sync_once(&mut clinic.store, &radqc_sync::http_client(), Utc::now()).await;
        assert!(matches!(outcome, radqc_sync::Outcome::Synced { .. }), "{outcome:?}");
        if this_month != october {
            assert_eq!((workload(&clinic, this_month), at_center(this_month).await), (0, 0), "{backend}");
        }
        assert_eq!((workload(&clinic, october), at_center(october).await), (1, 1), "{backend}");
    }
}
