//! A demo department for the README's run command: a week of exams across DR, CT and MR, their
//! signing and audit events, and evaluations of every scored item (a few failing), so a newcomer
//! can sign and score at once and the 报表 screen has a month to show; and the gold standard's
//! tasks of a senior radiologist and one reviewed score.

use chrono::{DateTime, Duration, Utc};
use radqc_domain::{ExamEventKind, Findings, PatientSource, QcMode, StaffCode};
use radqc_protocol::{
    BlindRead, EvaluationRecord, FeedItem, FeedKind, FinalRead, GoldAssignment, GoldExam, GoldFinal, GoldMessage,
    GoldSource, GoldTask,
};
use radqc_store::{ExamInput, NewEvaluation, Store};
use serde_json::json;

use crate::AppError;

const EXAMS: &[(&str, &str, bool, bool)] = &[
    // modality, exam item (检查部位), film printed, reconstruction
    ("DR", "胸部正位片", true, false),
    ("DR", "双腕关节正位片", true, false),
    ("DR", "腰椎正侧位片", true, false),
    ("DR", "左手正斜位片", false, false),
    ("CT", "CT胸部平扫", true, false),
    ("CT", "CT头颅平扫", true, false),
    ("CT", "CT全腹部平扫+增强", true, true),
    ("CT", "CT冠状动脉成像", false, true),
    ("MR", "MR头颅平扫", true, false),
    ("MR", "MR腰椎平扫", false, false),
    ("MR", "MR膝关节平扫", false, false),
];

/// Findings of the demo's evaluations beyond image quality, picked by the exam's number so the
/// random stream of the exams (and with it every earlier screenshot) stays as it was: mostly
/// clean, some compliance deductions, a severe one now and then (a failing score).
const REPORT_FINDINGS: &[&[&str]] = &[&[], &["RQ-C2"], &[], &["RQ-C1", "RQ-C4"], &[], &["RQ-S2"], &["RQ-C3"], &[]];
const AUDIT_FINDINGS: &[&[&str]] = &[&[], &["AR-C2"], &[], &["AR-S1"], &["AR-C1"]];
const FILM_FINDINGS: &[&[&str]] = &[&[], &["FL-C1"], &[], &["FL-C3", "FL-C4"], &["FL-S2"]];
const RECONSTRUCTION_FINDINGS: &[&[&str]] = &[&[], &["TR-C3"], &["TR-C1"]];

/// Seeds 140 exams over the 7 days before `now` (deterministic, so screenshots are stable).
/// Evaluations are dated at least at the start of `now`'s month (the site's local month), so the month's report has
/// every kind of evaluation even early in a month.
pub fn seed_demo(store: &mut Store, now: DateTime<Utc>) -> Result<(), AppError> {
    let zone = store.time_zone()?;
    let month_start = zone.month_start(zone.month_at(now));
    let scored_at =
        |performed: DateTime<Utc>, minutes: i64| (performed + Duration::minutes(minutes)).clamp(month_start, now);
    let mut x: u64 = 20261129;
    let mut next = move |n: u64| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let mut events = Vec::new();
    let mut evaluations = Vec::new();
    for i in 0..140u64 {
        let (modality, item, film, recon) = EXAMS[next(EXAMS.len() as u64) as usize];
        let performed = now - Duration::days(7) + Duration::minutes((i * 72) as i64);
        let source = ["outpatient", "outpatient", "emergency", "inpatient"][next(4) as usize];
        let tech = format!("A{}", 1 + next(4));
        let doctor = format!("D{}", 1 + next(3));
        let sex = ["F", "M"][next(2) as usize];
        let exam: ExamInput = serde_json::from_value(json!({
            "accession": format!("{modality}{}{i:04}", performed.format("%Y%m%d")),
            "modality": modality,
            "exam_item": item,
            "department": "放射科",
            "patient_source": source,
            "follow_up": next(10) == 0,
            "film_printed": film,
            "reconstruction": recon,
            "staff": {"technologist": tech, "reporting_doctor": doctor, "auditing_doctor": "D9", "ordering_clinician": format!("C{}", 1 + next(3))},
            "patient": {"id": format!("P{:06}", 100 + next(90)), "sex": sex, "age": 18 + next(70)},
            "performed_at": performed.to_rfc3339(),
        }))
        .expect("demo exams are valid");
        let doctor: StaffCode = doctor.parse().expect("a staff code");
        events.push((exam.clone(), ExamEventKind::ReportSigned, doctor.clone(), performed + Duration::hours(1)));
        if i % 2 == 0 {
            events.push((
                exam.clone(),
                ExamEventKind::ReportAudited,
                "D9".parse().expect("a staff code"),
                performed + Duration::hours(3),
            ));
        }
        // About one in seven exams was already scored, so reports and queues have something.
        if i % 7 == 3 {
            let (qc_item, findings): (&str, Vec<&str>) = match next(5) {
                0 => ("IQ", vec![]),
                1 => ("IQ", vec!["IQ-C2"]),
                2 => ("IQ", vec!["IQ-C1", "IQ-C5"]),
                3 => ("IQ", vec!["IQ-S2"]),
                _ => ("IQ", vec!["IQ-C4"]),
            };
            evaluations.push(NewEvaluation {
                item: qc_item.parse().expect("an item"),
                findings: findings.iter().map(|c| c.parse().expect("a code")).collect(),
                not_applicable: vec![],
                exam: exam.clone(),
                reviewer: doctor.clone(),
                mode: QcMode::Random,
                note: if findings.is_empty() { String::new() } else { "演示数据".to_owned() },
                supersedes: None,
                at: Some(scored_at(performed, 60)),
            });
        }
        // The doctors' items and the technologist's film and reconstruction, scored by the QC
        // officer (郑丽 Q1) and the department head (黄建国 H1) in their reviews.
        let mut score = |item: &str, findings: &[&str], reviewer: &str, minutes: i64| {
            evaluations.push(NewEvaluation {
                item: item.parse().expect("an item"),
                findings: findings.iter().map(|c| c.parse().expect("a code")).collect(),
                not_applicable: vec![],
                exam: exam.clone(),
                reviewer: reviewer.parse().expect("a staff code"),
                mode: if i % 3 == 0 { QcMode::Centralized } else { QcMode::Active },
                note: if findings.is_empty() { String::new() } else { format!("演示数据 {}", findings.join(" ")) },
                supersedes: None,
                at: Some(scored_at(performed, minutes)),
            });
        };
        let pick = |list: &'static [&'static [&'static str]], k: u64| list[(k as usize) % list.len()];
        if i % 4 == 1 {
            score("RQ", pick(REPORT_FINDINGS, i / 4), if i % 8 == 1 { "Q1" } else { "H1" }, 240);
        }
        if i % 8 == 1 {
            score("AR", pick(AUDIT_FINDINGS, i / 8), "Q1", 250);
        }
        if film && i % 6 == 2 {
            score("FL", pick(FILM_FINDINGS, i / 6), "Q1", 260);
        }
        if recon && i % 3 == 2 {
            score("TR", pick(RECONSTRUCTION_FINDINGS, i / 3), "H1", 270);
        }
    }
    store.record_events(&events, now)?;
    for r in store.save_batch(&evaluations, now)? {
        r?;
    }
    seed_gold(store, now)
}

/// The gold standard (7.3.1) in the demo, as the center would have published it: 吴强 (D9, a
/// senior radiologist) has a blind first read of a clinic's CT and a third read of a clinic's DR
/// whose two blind reads (甲, 乙) disagree; and one of the department's failed image-quality
/// scores went through a gold-standard review, so 我的质控 and the report show its result.
fn seed_gold(store: &mut Store, now: DateTime<Utc>) -> Result<(), AppError> {
    let rubric = store.rubric().clone();
    let site = store.site().to_string();
    let iq: radqc_domain::ItemCode = "IQ".parse().expect("an item");
    let verdict = |findings: &[&str]| {
        let findings = Findings {
            item: iq,
            findings: findings.iter().map(|c| c.parse().expect("a code")).collect(),
            not_applicable: vec![],
        };
        let v = rubric.score(&findings).expect("demo findings score");
        (findings.findings, v)
    };
    let blind = |label: &str, codes: &[&str]| {
        let (findings, v) = verdict(codes);
        BlindRead {
            label: label.to_owned(),
            findings,
            not_applicable: vec![],
            score: v.score,
            grade: v.grade,
            pass: v.pass,
            note: String::new(),
        }
    };
    let exam = |accession: &str, modality: &str, exam_item: &str, days: i64| GoldExam {
        site: "CLINIC-07".to_owned(),
        accession: accession.to_owned(),
        modality: modality.parse().expect("a modality"),
        exam_item: exam_item.to_owned(),
        department: Some("放射科".to_owned()),
        patient_source: Some(PatientSource::Outpatient),
        follow_up: false,
        patient_sex: Some(radqc_domain::Sex::Female),
        patient_age: Some(56),
        performed_at: Some(now - Duration::days(days)),
        staff: None,
    };
    let assigned =
        |case_id: &str, task: GoldTask, exam: GoldExam, reads: Vec<BlindRead>, hours: i64| GoldMessage::Assigned {
            assignment: Box::new(GoldAssignment {
                case_id: case_id.to_owned(),
                task,
                to: "D9".to_owned(),
                item: iq,
                rubric_version: rubric.version.clone(),
                exam,
                reads,
                assigned_at: now - Duration::hours(hours),
            }),
        };
    let mut messages = vec![
        assigned("demo-gold-ct", GoldTask::First, exam("CLINIC07-CT-0412", "CT", "CT胸部平扫", 3), vec![], 20),
        assigned(
            "demo-gold-dr",
            GoldTask::Third,
            exam("CLINIC07-DR-0388", "DR", "胸部正位片", 4),
            vec![blind("甲", &["IQ-C2"]), blind("乙", &["IQ-C1", "IQ-C5"])],
            6,
        ),
    ];
    // A failed image-quality score of a technologist's, reviewed: two blind reads agreed on one
    // deduction, so the gold result (passing) replaces it.
    let original = store
        .evaluations()?
        .into_iter()
        .find(|e| e.item == iq && !e.pass && e.scored_person.is_some() && e.superseded_by.is_none());
    if let Some(original) = original {
        let (findings, v) = verdict(&["IQ-C2"]);
        let closed_at = (original.at + Duration::hours(30)).min(now);
        let read = |task: GoldTask, reader: &str| FinalRead {
            task,
            reader: reader.to_owned(),
            score: v.score,
            grade: v.grade,
            pass: v.pass,
        };
        let gold = EvaluationRecord {
            id: uuid::Uuid::now_v7().to_string(),
            site: original.site.clone(),
            accession: original.accession.clone(),
            item: iq,
            reviewer: "D9".parse().expect("a staff code"),
            scored_person: original.scored_person.clone(),
            mode: QcMode::Gold,
            findings,
            not_applicable: vec![],
            score: v.score,
            grade: v.grade,
            pass: v.pass,
            severe: v.severe.clone(),
            unmet: v.unmet.clone(),
            rubric_version: rubric.version.clone(),
            note: radqc_protocol::gold_note("demo-gold-iq", GoldTask::First, &original),
            at: closed_at,
            supersedes: Some(original.id.clone()),
            superseded_by: None,
        };
        messages.push(GoldMessage::Final {
            result: Box::new(GoldFinal {
                case_id: "demo-gold-iq".to_owned(),
                source: GoldSource::Sample,
                modality: store
                    .exam(None, &original.accession)?
                    .map(|e| e.modality)
                    .unwrap_or_else(|| "CT".parse().expect("a modality")),
                original: Box::new(original),
                gold: Box::new(gold),
                reads: vec![read(GoldTask::First, "CLINIC-07/R1"), read(GoldTask::Second, &format!("{site}/D9"))],
                decided_by: GoldTask::First,
                closed_at,
            }),
        });
    }
    let items: Vec<FeedItem> = messages
        .iter()
        .zip(1..)
        .map(|(m, cursor)| FeedItem {
            cursor,
            kind: FeedKind::Gold,
            site: Some(site.clone()),
            body: serde_json::to_value(m).expect("a gold message serializes"),
            published_at: now - Duration::hours(6),
        })
        .collect();
    store.save_feed_items(&items, now)?;
    Ok(())
}
