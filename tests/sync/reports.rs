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
