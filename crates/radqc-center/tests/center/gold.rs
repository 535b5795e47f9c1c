//! The gold standard (7.3.1) through a real center on each backend: a case put in by hand is
//! read blind by two senior readers at two sites (never its reviewer nor the person scored),
//! their disagreement goes to a third, whose result supersedes the original and is what the
//! report counts; a case whose reads agree closes at once; a dispute by the person scored becomes
//! a case and closes with a notice. Through the API, no reader obtains the other read or the
//! original score before their own read, and the person scored never a read.

use chrono::Utc;
use radqc_domain::{Findings, Rubric};
use radqc_protocol::{GoldReadRecord, GoldTask, PushEntry, SyncPayload};
use serde_json::{json, Value};

use crate::support::{each_backend, person_token as token, staff, uuid_v4, Clinic};

/// A reader's read as its device pushes it, scored by the engine.
fn read(seq: i64, case: &str, site: &str, reader: &str, task: GoldTask, item: &str, found: &[&str]) -> PushEntry {
    let rubric = Rubric::bundled();
    let item = item.parse().unwrap();
    let findings: Vec<_> = found.iter().map(|c| c.parse().unwrap()).collect();
    let v = rubric.score(&Findings { item, findings: findings.clone(), not_applicable: vec![] }).unwrap();
    let record = GoldReadRecord {
        id: uuid_v4(),
        case_id: case.into(),
        site: site.parse().unwrap(),
        reader: reader.parse().unwrap(),
        task,
        item,
        findings,
        not_applicable: vec![],
        score: v.score,
        grade: v.grade,
        pass: v.pass,
        severe: v.severe,
        unmet: v.unmet,
        rubric_version: rubric.version.clone(),
        note: String::new(),
        at: Utc::now(),
    };
    let payload = SyncPayload::GoldRead { read: Box::new(record) };
    PushEntry { seq, payload: serde_json::value::to_raw_value(&payload).unwrap() }
}

fn status(push: &Value, i: usize) -> (String, String) {
    let r = &push["results"][i];
    (r["status"].as_str().unwrap_or("").to_owned(), r["reason"]["code"].as_str().unwrap_or("").to_owned())
}

/// Who holds `task` of a case, from the manager's view: (site, code).
fn holder(case: &Value, task: &str) -> (String, String) {
    let r = case["readers"].as_array().unwrap().iter().find(|r| r["task"] == task).unwrap();
    (r["site"].as_str().unwrap().to_owned(), r["reader"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn two_blind_reads_a_third_to_decide_and_the_report_counts_the_gold_result() {
    each_backend(|backend, center| async move {
        let code_a = center.site("SITE-A").await;
        let code_b = center.site("SITE-B").await;
        let (_, dev_a) = center.enroll(&code_a).await;
        let (_, dev_b) = center.enroll(&code_b).await;
        // D1 scored (the original reviewer) and is senior too; A1 is the person scored.
        staff(&center, "SITE-A", "D1", &["reporting_doctor", "senior_radiologist"]).await;
        staff(&center, "SITE-A", "A1", &["technologist"]).await;
        staff(&center, "SITE-A", "Q1", &["qc_officer"]).await;
        staff(&center, "SITE-A", "S1", &["senior_radiologist"]).await;
        staff(&center, "SITE-B", "S2", &["senior_radiologist"]).await;
        staff(&center, "SITE-B", "S3", &["senior_radiologist"]).await;
        let mut tokens = std::collections::HashMap::new();
        for (site, code) in [("SITE-A", "S1"), ("SITE-B", "S2"), ("SITE-B", "S3"), ("SITE-A", "Q1"), ("SITE-A", "A1")] {
            tokens.insert(code.to_owned(), token(&center, site, code).await);
        }
        let device_of = |site: &str| if site == "SITE-A" { dev_a.clone() } else { dev_b.clone() };

        let mut clinic = Clinic::new("SITE-A");
        let failed = clinic.save("CT1", "IQ", &["IQ-S1"]); // 1 分, failed
        let agreed = clinic.save("CT2", "IQ", &["IQ-C1"]); // 4 分
        let (s, body) = center.push(&dev_a, &clinic.entries(1, 2)).await;
        assert_eq!(s, 200, "{backend}: {body}");
        let mut seqs: std::collections::HashMap<String, i64> =
            [("SITE-A".to_owned(), 2), ("SITE-B".to_owned(), 0)].into();
        let mut next = |site: &str| {
            let s = seqs.get_mut(site).unwrap();
            *s += 1;
            *s
        };

        // Only a gold manager puts a case in; a reader may not.
        let (s, _) = center.post("/api/v1/gold/cases", Some(&tokens["S1"]), &json!({"evaluation_id": failed})).await;
        assert_eq!(s, 403, "{backend}");
        // An id with a NUL (the API fuzzer's find: PostgreSQL failed on it with a 503) is refused.
        let (s, bad) =
            center.post("/api/v1/gold/cases", Some(&tokens["Q1"]), &json!({"evaluation_id": "l\u{0}x"})).await;
        assert_eq!((s, bad["code"].as_str()), (400, Some("INVALID_BODY")), "{backend}: {bad}");
        let (s, case) = center.post("/api/v1/gold/cases", Some(&tokens["Q1"]), &json!({"evaluation_id": failed})).await;
        assert_eq!(s, 200, "{backend}: {case}");
        let id = case["id"].as_str().unwrap().to_owned();
        let (s, again) =
            center.post("/api/v1/gold/cases", Some(&tokens["Q1"]), &json!({"evaluation_id": failed})).await;
        assert_eq!((s, again["code"].as_str()), (409, Some("GOLD_CASE_EXISTS")), "{backend}");
        let first = holder(&case, "first");
        let second = holder(&case, "second");
        for r in [&first, &second] {
            assert!(r.1 != "D1" && r.1 != "A1", "{backend}: never the reviewer nor the person scored: {case}");
        }

        // Blind: each reader's task carries no read and no original score; the case as a reader
        // sees it holds neither the original nor another reader.
        for who in [&first, &second] {
            let (s, tasks) = center.get("/api/v1/gold/assignments", Some(&tokens[&who.1])).await;
            assert_eq!(s, 200, "{backend}: {tasks}");
            let text = tasks.to_string();
            assert!(tasks[0]["reads"].as_array().unwrap().is_empty() && !text.contains("\"A1\""), "{backend}: {text}");
            let (_, seen) = center.get(&format!("/api/v1/gold/cases/{id}"), Some(&tokens[&who.1])).await;
            assert!(seen["original"].is_null() && seen["readers"].as_array().unwrap().len() == 1, "{backend}: {seen}");
        }
        let (_, scored_view) = center.get(&format!("/api/v1/gold/cases/{id}"), Some(&tokens["A1"])).await;
        assert!(scored_view["reads"].as_array().unwrap().is_empty(), "{backend}: {scored_view}");

        // Someone not assigned is refused; the first read is 2 分, the second 5 分: they differ.
        let outsider = ["S1", "S2", "S3"].into_iter().find(|c| *c != first.1 && *c != second.1).unwrap();
        let osite = if outsider == "S1" { "SITE-A" } else { "SITE-B" };
        let (_, p) = center
            .push(&device_of(osite), &[read(next(osite), &id, osite, outsider, GoldTask::First, "IQ", &["IQ-C1"])])
            .await;
        assert_eq!(status(&p, 0), ("rejected".into(), "NOT_ASSIGNED".into()), "{backend}: {p}");
        let unmet = ["IQ-C1", "IQ-C2", "IQ-C3", "IQ-C4"];
        let (_, p) = center
            .push(&device_of(&first.0), &[read(next(&first.0), &id, &first.0, &first.1, GoldTask::First, "IQ", &unmet)])
            .await;
        assert_eq!(status(&p, 0).0, "applied", "{backend}: {p}");
        // The second reader still sees no read of the first.
        let (_, seen) = center.get(&format!("/api/v1/gold/cases/{id}"), Some(&tokens[&second.1])).await;
        assert!(seen["reads"].as_array().unwrap().is_empty(), "{backend}: {seen}");
        let (_, p) = center
            .push(
                &device_of(&second.0),
                &[read(next(&second.0), &id, &second.0, &second.1, GoldTask::Second, "IQ", &[])],
            )
            .await;
        assert_eq!(status(&p, 0).0, "applied", "{backend}: {p}");
        let (_, p) = center
            .push(
                &device_of(&second.0),
                &[read(next(&second.0), &id, &second.0, &second.1, GoldTask::Second, "IQ", &[])],
            )
            .await;
        assert_eq!(status(&p, 0), ("rejected".into(), "GOLD_ALREADY_READ".into()), "{backend}: {p}");

        // The third reader sees both reads as 甲 and 乙, without names.
        let (_, managed) = center.get(&format!("/api/v1/gold/cases/{id}"), Some(&tokens["Q1"])).await;
        assert_eq!(managed["state"], "adjudicating", "{backend}: {managed}");
        let third = holder(&managed, "third");
        let (_, tasks) = center.get("/api/v1/gold/assignments", Some(&tokens[&third.1])).await;
        let reads = tasks[0]["reads"].as_array().unwrap();
        assert_eq!(reads.len(), 2, "{backend}: {tasks}");
        assert_eq!((reads[0]["label"].as_str(), reads[0]["score"].as_u64()), (Some("甲"), Some(2)), "{backend}");
        assert_eq!((reads[1]["label"].as_str(), reads[1]["score"].as_u64()), (Some("乙"), Some(5)), "{backend}");
        for other in [&first.1, &second.1] {
            assert!(!tasks.to_string().contains(&format!("\"{other}\"")), "{backend}: no reader's name: {tasks}");
        }
        let (_, p) = center
            .push(
                &device_of(&third.0),
                &[read(next(&third.0), &id, &third.0, &third.1, GoldTask::Third, "IQ", &["IQ-C1", "IQ-C2"])],
            )
            .await;
        assert_eq!(status(&p, 0).0, "applied", "{backend}: {p}");

        // Final: the gold result (3 分) supersedes the original, the original stays readable.
        let (_, done) = center.get(&format!("/api/v1/gold/cases/{id}"), Some(&tokens["Q1"])).await;
        assert_eq!(
            (done["state"].as_str(), done["result"]["score"].as_u64()),
            (Some("final"), Some(3)),
            "{backend}: {done}"
        );
        let (_, evals) = center.get("/api/v1/evaluations?site=SITE-A", Some(&tokens["Q1"])).await;
        let list = evals.as_array().unwrap();
        let original = list.iter().find(|e| e["id"] == failed.as_str()).unwrap();
        let gold = list.iter().find(|e| e["id"] == done["result"]["id"]).unwrap();
        assert_eq!(original["superseded_by"], gold["id"], "{backend}: {evals}");
        assert_eq!(
            (gold["mode"].as_str(), gold["supersedes"].as_str()),
            (Some("gold"), Some(failed.as_str())),
            "{backend}"
        );

        // A second case agrees at once (both 4 分).
        let (_, case2) =
            center.post("/api/v1/gold/cases", Some(&tokens["Q1"]), &json!({"evaluation_id": agreed})).await;
        let id2 = case2["id"].as_str().unwrap().to_owned();
        for task in ["first", "second"] {
            let (site, code) = holder(&case2, task);
            let t = if task == "first" { GoldTask::First } else { GoldTask::Second };
            let (_, p) =
                center.push(&device_of(&site), &[read(next(&site), &id2, &site, &code, t, "IQ", &["IQ-C1"])]).await;
            assert_eq!(status(&p, 0).0, "applied", "{backend}: {p}");
        }
        let (_, done2) = center.get(&format!("/api/v1/gold/cases/{id2}"), Some(&tokens["Q1"])).await;
        assert_eq!(
            (done2["state"].as_str(), done2["decided_by"].as_str()),
            (Some("final"), Some("first")),
            "{backend}"
        );

        // The report counts the gold result, not the original, and carries the agreement.
        let month = Utc::now().format("%Y-%m").to_string();
        let (s, report) = center.get(&format!("/api/v1/report?site=SITE-A&month={month}"), Some(&tokens["Q1"])).await;
        assert_eq!(s, 200, "{backend}: {report}");
        assert_eq!(report["agreement"]["cases"], 2, "{backend}: {}", report["agreement"]);
        let (s, agreement) =
            center.get(&format!("/api/v1/agreement?site=SITE-A&month={month}"), Some(&tokens["Q1"])).await;
        assert_eq!((s, agreement["cases"].as_u64()), (200, Some(2)), "{backend}: {agreement}");
        let iq = &agreement["by_item"][0]["scores"];
        assert_eq!((iq["cases"].as_u64(), iq["agreed"].as_u64()), (Some(2), Some(1)), "{backend}: {agreement}");
        let (_, facts) = center.get("/api/v1/evaluations?site=SITE-A", Some(&tokens["Q1"])).await;
        let current_failed =
            facts.as_array().unwrap().iter().filter(|e| e["superseded_by"].is_null() && e["pass"] == false).count();
        assert_eq!(current_failed, 0, "{backend}: the failed original is superseded by a passing gold result");
    })
    .await;
}

#[tokio::test]
async fn a_dispute_by_the_person_scored_becomes_a_case_and_closes_with_a_notice() {
    each_backend(|backend, center| async move {
        let code_a = center.site("SITE-A").await;
        let (_, dev_a) = center.enroll(&code_a).await;
        staff(&center, "SITE-A", "D1", &["reporting_doctor"]).await;
        staff(&center, "SITE-A", "A1", &["technologist"]).await;
        staff(&center, "SITE-A", "S1", &["senior_radiologist"]).await;
        staff(&center, "SITE-A", "S2", &["senior_radiologist"]).await;
        let mut clinic = Clinic::new("SITE-A");
        let failed = clinic.save("CT9", "IQ", &["IQ-S1"]);
        let dispute = |id: &str, by: &str| {
            let payload = json!({"kind": "dispute", "dispute": {
                "id": uuid_v4(), "site": "SITE-A", "evaluation_id": id, "by": by,
                "reason": "摆位符合要求，图像可诊断", "at": Utc::now()}});
            serde_json::value::to_raw_value(&payload).unwrap()
        };
        let mut entries = clinic.entries(1, 1);
        entries.push(PushEntry { seq: 2, payload: dispute(&failed, "D1") });
        entries.push(PushEntry { seq: 3, payload: dispute(&failed, "A1") });
        let (_, p) = center.push(&dev_a, &entries).await;
        assert_eq!(
            status(&p, 1),
            ("rejected".into(), "DISPUTE_REFUSED".into()),
            "{backend}: only the person scored: {p}"
        );
        assert_eq!(status(&p, 2).0, "applied", "{backend}: {p}");
        let cases = center.db.gold_cases(None).await.unwrap();
        assert_eq!(cases.len(), 1, "{backend}");
        let case = radqc_center::gold::full_view(&cases[0]);
        assert_eq!(case.dispute.as_ref().map(|d| d.by.as_str()), Some("A1"), "{backend}");
        let mut seq = 3;
        for r in &case.readers {
            seq += 1;
            let (_, p) =
                center.push(&dev_a, &[read(seq, &case.id, "SITE-A", &r.reader, r.task, "IQ", &["IQ-C1"])]).await;
            assert_eq!(status(&p, 0).0, "applied", "{backend}: {p}");
        }
        let (_, feed) = center.get("/api/v1/feed/notices?after=0&limit=500", Some(&dev_a)).await;
        let outcome = feed["items"].as_array().unwrap().iter().find(|i| i["body"]["type"] == "gold_outcome");
        let outcome = outcome.unwrap_or_else(|| panic!("{backend}: a notice of the outcome: {feed}"));
        assert_eq!(outcome["body"]["to"], "A1", "{backend}");
    })
    .await;
}
