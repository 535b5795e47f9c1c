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
        // One exam scored in October (passing) and again in November (failing): one case over
        // both months, not two, and not qualified; in each month's row by month.
        let mut span = |item: &str, findings: &[&str], at: &str| {
            let mut exam = clinic.exam(2);
            exam.accession = "CLINIC-R-SPAN".into();
            let e = radqc_store::NewEvaluation {
                item: item.parse().unwrap(),
                findings: findings.iter().map(|c| c.parse().unwrap()).collect(),
                not_applicable: vec![],
                exam,
                reviewer: "D9".parse().unwrap(),
                mode: QcMode::Random,
                note: String::new(),
                supersedes: None,
                at: Some(at.parse().unwrap()),
            };
            clinic.store.save_evaluation(&e, Utc::now()).unwrap();
        };
        span("RQ", &[], "2026-10-15T10:00:00Z");
        span("RQ", &["RQ-S1"], "2026-11-03T10:00:00Z");
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
        let october = Month { year: 2026, month: 10 };
        let periods = [
            Period::month(this_month),
            Period::month(october),
            Period::between(Some(october), Some(october.next())).unwrap(),
            Period::all(),
        ];
        let zone = clinic.store.time_zone().unwrap();
        for period in periods {
            for (what, filter) in &filters {
                let (from, to) = period.range(zone);
                let at_site = Report::build_in(
                    &radqc_domain::Zones::one(zone),
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
        let two_months = Period::between(Some(october), Some(october.next())).unwrap();
        let report =
            radqc_center::http::build_report(&center.db, two_months, ReportFilter::default(), None).await.unwrap();
        let by_month: Vec<(String, u64, u64)> =
            report.indicators.by_month.iter().map(|r| (r.key.clone(), r.sampled, r.qualified)).collect();
        assert_eq!(
            by_month,
            [("2026-10".into(), 1, 1), ("2026-11".into(), 1, 0)],
            "{backend}: by month the exam counts in each of its months"
        );
        assert_eq!(
            (report.indicators.sampled, report.indicators.qualified, report.indicators.rate.map(|r| r.tenths())),
            (1, 0, Some(0)),
            "{backend}: 1 sampled, 0 qualified, 0.0 %"
        );
        let spanned = report.indicators.by_person.iter().find(|r| r.key == "D2").expect("D2's cases");
        assert_eq!(
            (spanned.sampled, spanned.qualified),
            (1, 0),
            "{backend}: by reporting doctor too the exam is one case"
        );
        let (from, to) = this_month.range(zone);
        let facts = clinic.store.evaluation_facts(&from, &to).unwrap();
        assert_eq!(facts.len(), 60, "60 current evaluations (the corrected one counts once)");
        assert!(facts.iter().any(|f| f.note == "复核后更正"));
    }
}
