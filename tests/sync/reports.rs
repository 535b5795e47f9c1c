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
        let mut span = clinic.exam(2);
        span.accession = "CLINIC-R-SPAN".into();
        save_rq(&mut clinic, span.clone(), &[], "2026-10-15T10:00:00Z");
        save_rq(&mut clinic, span, &["RQ-S1"], "2026-11-03T10:00:00Z");
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
            ("D2", ReportFilter { person: Some("D2".parse().unwrap()), ..Default::default() }),
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
        let mut empty = Vec::new();
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
                let mut at_center = radqc_center::http::build_report(
                    &center.db,
                    radqc_domain::Rubric::bundled(),
                    period,
                    site_filter,
                    None,
                )
                .await
                .unwrap();
                at_center.filter.site = None;
                assert_eq!(
                    serde_json::to_value(&at_site).unwrap(),
                    serde_json::to_value(&at_center).unwrap(),
                    "{backend} {period} {what}: the same numbers at the site and the center"
                );
                // Two empty reports agree without proving anything: every case counts something.
                let counted = at_site.scores_technologists.rows.len()
                    + at_site.scores_doctors.rows.len()
                    + at_site.workload.rows.len()
                    + at_site.indicators.sampled as usize;
                if counted == 0 {
                    empty.push(format!("{period} {what}"));
                }
            }
        }
        assert!(empty.is_empty(), "{backend}: cases that compare two empty reports: {empty:?}");
        let two_months = Period::between(Some(october), Some(october.next())).unwrap();
        let report = radqc_center::http::build_report(
            &center.db,
            radqc_domain::Rubric::bundled(),
            two_months,
            ReportFilter::default(),
            None,
        )
        .await
        .unwrap();
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

/// Saves an RQ evaluation with a deduction of exam `n` at `at` (performed then too).
fn save_at(clinic: &mut Clinic, n: u64, at: &str) {
    let mut exam = clinic.exam(n);
    exam.performed_at = Some(at.parse().unwrap());
    save_rq(clinic, exam, &["RQ-C1"], at);
}

/// Saves an RQ evaluation of `exam` with these findings, scored at `at`.
fn save_rq(clinic: &mut Clinic, exam: radqc_store::ExamInput, findings: &[&str], at: &str) {
    let e = radqc_store::NewEvaluation {
        item: "RQ".parse().unwrap(),
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
}

async fn sync(clinic: &mut Clinic) {
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &radqc_sync::http_client(), Utc::now()).await;
    assert!(matches!(outcome, radqc_sync::Outcome::Synced { .. }), "{outcome:?}");
}

/// Each site's months are its own, on both backends: two sites in different zones, scores on
/// both sides of Beijing's midnight on the 1st; the region's report counts each in its zone;
/// a zone changed at the center reaches the site, and the rollups kept at ingest equal a rebuild.
#[tokio::test(flavor = "multi_thread")]
async fn months_are_each_site_s_local_month() {
    let dir = tempfile::tempdir().unwrap();
    let times = ["2026-10-31T15:59:59Z", "2026-10-31T23:30:00Z", "2026-11-30T15:59:59Z", "2026-11-30T16:00:00Z"];
    for (backend, storage) in storages(dir.path()).await {
        let center = Center::start(storage).await;
        let mut beijing = Clinic::new("CLINIC-BJ");
        beijing.enroll(&center, &center.url()).await;
        let mut utc = Clinic::new("CLINIC-UTC");
        utc.enroll(&center, &center.url()).await;
        radqc_center::set_site_zone(&center.db, "CLINIC-UTC", "UTC".parse().unwrap()).await.unwrap();
        for clinic in [&mut beijing, &mut utc] {
            for (n, at) in times.iter().enumerate() {
                save_at(clinic, n as u64, at);
            }
            sync(clinic).await;
        }
        assert_eq!(utc.store.time_zone().unwrap().name(), "UTC", "{backend}: published with the roster");
        assert_eq!(beijing.store.time_zone().unwrap().name(), "Asia/Shanghai");
        let november = Period::month(Month { year: 2026, month: 11 });
        let accessions = |r: &Report| -> Vec<String> {
            let mut v: Vec<String> = r.deduction_details.iter().map(|f| f.accession.clone()).collect();
            v.sort();
            v
        };
        let at_center = |site: &str| {
            let filter = ReportFilter { site: Some(site.into()), ..Default::default() };
            radqc_center::http::build_report(&center.db, radqc_domain::Rubric::bundled(), november, filter, None)
        };
        let at_site = |clinic: &Clinic| {
            let zone = clinic.store.time_zone().unwrap();
            let (from, to) = november.range(zone);
            Report::build_in(
                &radqc_domain::Zones::one(zone),
                clinic.store.rubric(),
                november.to_string(),
                ReportFilter::default(),
                &clinic.store.evaluation_facts(&from, &to).unwrap(),
                &clinic.store.work_facts(&from, &to).unwrap(),
                None,
            )
        };
        let bj = at_center("CLINIC-BJ").await.unwrap();
        assert_eq!(
            accessions(&bj),
            ["CLINIC-BJ-000001", "CLINIC-BJ-000002"],
            "{backend}: 07:30 on the 1st is November"
        );
        assert_eq!(bj.workload.total, 2, "{backend}: exams performed in the local month");
        let u = at_center("CLINIC-UTC").await.unwrap();
        assert_eq!(accessions(&u), ["CLINIC-UTC-000002", "CLINIC-UTC-000003"], "{backend}: UTC's November");
        for (clinic, mut center_report) in [(&beijing, bj), (&utc, u)] {
            center_report.filter.site = None;
            assert_eq!(
                serde_json::to_value(at_site(clinic)).unwrap(),
                serde_json::to_value(&center_report).unwrap(),
                "{backend} {}: the site and the center count the same months",
                clinic.name
            );
        }
        let region = radqc_center::http::build_report(
            &center.db,
            radqc_domain::Rubric::bundled(),
            november,
            ReportFilter::default(),
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            (region.indicators.sampled, region.deduction_details_total),
            (4, 4),
            "{backend}: each site in its zone"
        );
        assert_eq!(region.deduction_details.len(), 4);

        // Beijing's site moves to Urumqi (UTC+6): 16:00 UTC on 30 November is still November.
        radqc_center::set_site_zone(&center.db, "CLINIC-BJ", "Asia/Urumqi".parse().unwrap()).await.unwrap();
        save_at(&mut beijing, 9, "2026-11-30T17:30:00Z"); // 23:30 on 30 November in Urumqi
        sync(&mut beijing).await;
        assert_eq!(beijing.store.time_zone().unwrap().name(), "Asia/Urumqi");
        let moved = at_center("CLINIC-BJ").await.unwrap();
        assert_eq!(
            accessions(&moved),
            ["CLINIC-BJ-000001", "CLINIC-BJ-000002", "CLINIC-BJ-000003", "CLINIC-BJ-000009"],
            "{backend}: the site's months follow its new zone"
        );
        let mut moved = moved;
        moved.filter.site = None;
        assert_eq!(serde_json::to_value(at_site(&beijing)).unwrap(), serde_json::to_value(&moved).unwrap());
        let kept = center.db.rollups().await.unwrap();
        center.db.rebuild_rollups().await.unwrap();
        assert_eq!(kept, center.db.rollups().await.unwrap(), "{backend}: rollups kept at ingest = rebuilt");
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

        let zone = clinic.store.time_zone().unwrap();
        let this_month = zone.month_at(signed);
        let october = Month { year: 2026, month: 10 };
        let workload = |clinic: &Clinic, month: Month| {
            let (from, to) = month.range(zone);
            let work = clinic.store.work_facts(&from, &to).unwrap();
            Report::build(clinic.store.rubric(), month.to_string(), ReportFilter::default(), &[], &work, None)
                .workload
                .total
        };
        let at_center = |month: Month| {
            let db = &center.db;
            async move {
                let filter = ReportFilter { site: Some("CLINIC-G".into()), ..Default::default() };
                radqc_center::http::build_report(
                    db,
                    radqc_domain::Rubric::bundled(),
                    Period::month(month),
                    filter,
                    None,
                )
                .await
                .unwrap()
                .workload
                .total
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
