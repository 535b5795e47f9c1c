//! The gold standard (7.3.1) through the real binaries: a `radqc center serve` process, two
//! sites' stores enrolled with it, three senior readers. A case read at two different sites
//! disagrees and goes to the third reader, whose result both the center's and the site's reports
//! count; a second case agrees at once; a dispute from the person scored (`radqc local dispute`)
//! becomes a case and closes with a notice at their site. Who got which task is found with
//! `radqc local gold tasks`, never assumed: the center breaks ties by a hash of the case.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::support::{ok, radqc, Center};

/// An evaluation line for `radqc local save`: a CT exam scored by `reviewer`, with its staff.
fn evaluation(accession: &str, item: &str, found: &[&str], reviewer: &str, staff: Value) -> String {
    json!({
        "item": item,
        "findings": found,
        "exam": {"accession": accession, "modality": "CT", "exam_item": "CT胸部平扫", "staff": staff},
        "reviewer": reviewer,
        "mode": "random",
    })
    .to_string()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

fn one_json(text: &str) -> Value {
    let lines = json_lines(text);
    assert_eq!(lines.len(), 1, "one JSON line: {text}");
    lines.into_iter().next().unwrap()
}

/// A site's store, enrolled with the center.
struct Site {
    code: &'static str,
    db: String,
    /// The staff of this site the test asks for tasks.
    staff: &'static [&'static str],
}

impl Site {
    fn sync(&self) {
        let outcome = one_json(&ok(&["sync", "--once", "--db", &self.db], ""));
        assert_eq!(outcome["outcome"], "synced", "{}: {outcome}", self.code);
    }
}

/// A task as a reader's store lists it: (site, reader, task), with the assignment and the read.
struct Task {
    site: &'static str,
    reader: &'static str,
    task: String,
    open: Value,
}

/// Every task of `case` at every site, for every staff member asked about.
fn tasks_of(sites: &[&Site], case: &str) -> Vec<Task> {
    let mut out = Vec::new();
    for site in sites {
        for reader in site.staff {
            for open in json_lines(&ok(&["local", "gold", "tasks", "--db", &site.db, "--reader", reader], "")) {
                assert_eq!(open["assignment"]["to"], *reader, "a reader's list holds only their tasks: {open}");
                if open["assignment"]["case_id"] == case {
                    let task = open["assignment"]["task"].as_str().unwrap().to_owned();
                    out.push(Task { site: site.code, reader, task, open });
                }
            }
        }
    }
    out
}

/// The tasks of `case` not yet read, by task name.
fn unread(sites: &[&Site], case: &str) -> BTreeMap<String, Task> {
    tasks_of(sites, case).into_iter().filter(|t| t.open["read"].is_null()).map(|t| (t.task.clone(), t)).collect()
}

/// Saves `t`'s read with these findings; returns the printed read.
fn read(sites: &[&Site], t: &Task, found: &[&str]) -> Value {
    let site = sites.iter().find(|s| s.code == t.site).unwrap();
    let case = t.open["assignment"]["case_id"].as_str().unwrap();
    let found = found.join(",");
    let args = ["local", "gold", "read", "--db", &site.db, "--case", case, "--task", &t.task, "--reader", t.reader];
    let saved = one_json(&ok(&[&args[..], &["--found", &found]].concat(), ""));
    assert_eq!((saved["case_id"].as_str(), saved["site"].as_str()), (Some(case), Some(t.site)), "{saved}");
    saved
}

fn show(center_db: &str, case: &str) -> Value {
    one_json(&ok(&["center", "gold", "show", case, "--db", center_db], ""))
}

/// Checks that no task of `case` went to its original reviewer or the person scored (codes are
/// a site's own: only the case's site's staff can be either).
fn never_reviewer_nor_scored(center_db: &str, case: &str, tasks: &[Task]) {
    let c = show(center_db, case);
    let (site, original) = (c["site"].as_str().unwrap(), &c["original"]);
    for t in tasks {
        let own_site = t.site == site;
        assert!(
            !(own_site && (original["reviewer"] == t.reader || original["scored_person"] == t.reader)),
            "{} at {} holds the {} read of case {case}, whose reviewer is {} and person scored {}",
            t.reader,
            t.site,
            t.task,
            original["reviewer"],
            original["scored_person"]
        );
    }
}

fn figure2(report: &Value, side: &str) -> Value {
    report[side]["totals"]["CT"].clone()
}

fn quality(report: &Value, side: &str, person: &str) -> Value {
    let rows = report[side].as_array().unwrap();
    rows.iter().find(|r| r["person"] == person).map_or(Value::Null, |r| r["counts"].clone())
}

#[test]
fn gold_cases_are_read_at_two_sites_decided_and_counted_and_a_dispute_closes_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let center_db = path("center.db");
    let c = center_db.as_str();
    ok(&["center", "site", "add", "SITE-A", "--name", "城东医院放射科", "--db", c], "");
    ok(&["center", "site", "add", "SITE-B", "--name", "城西卫生院", "--db", c], "");
    // D1 reports and audits; S1 is a senior radiologist who also reports (so a senior can be the
    // reviewer or the person scored); S2 is the only senior at SITE-B until S3 joins.
    let staff = [
        ("SITE-A", "D1", "赵医生", &["reporting_doctor", "auditing_doctor"][..]),
        ("SITE-A", "A1", "王技师", &["technologist"]),
        ("SITE-A", "Q1", "郑质控", &["qc_officer"]),
        ("SITE-A", "S1", "孙主任", &["senior_radiologist", "reporting_doctor"]),
        ("SITE-B", "S2", "钱主任", &["senior_radiologist"]),
    ];
    for (site, code, name, roles) in staff {
        let roles: Vec<&str> = roles.iter().flat_map(|r| ["--role", r]).collect();
        ok(
            &[&["center", "staff", "add", "--site", site, "--code", code, "--name", name, "--db", c][..], &roles]
                .concat(),
            "",
        );
    }
    let enroll_code = |site: &str| ok(&["center", "device", "enroll", "--site", site, "--db", c], "").trim().to_owned();
    let (code_a, code_b) = (enroll_code("SITE-A"), enroll_code("SITE-B"));
    let center = Center::serve(c);
    let a = Site { code: "SITE-A", db: path("a.db"), staff: &["D1", "A1", "Q1", "S1"] };
    let b = Site { code: "SITE-B", db: path("b.db"), staff: &["S2", "S3"] };
    for (site, code) in [(&a, &code_a), (&b, &code_b)] {
        ok(&["local", "init", "--db", &site.db], "");
        let out = ok(&["local", "enroll", "--db", &site.db, "--center", &center.url, "--code", code], "");
        assert!(out.contains(&format!("at site {}", site.code)), "{out}");
    }
    let sites = [&a, &b];

    // SITE-A scores three exams: CT1's images fail (1 分, D1 reviewing A1's work); CT2's are
    // 4 分 (reviewed by S1); CT3's report fails (S1's report, audited by D1).
    let staff_of =
        |reporting: &str| json!({"technologist": "A1", "reporting_doctor": reporting, "auditing_doctor": "D1"});
    let lines = [
        evaluation("CT1", "IQ", &["IQ-S1"], "D1", staff_of("D1")),
        evaluation("CT2", "IQ", &["IQ-C1"], "S1", staff_of("S1")),
        evaluation("CT3", "RQ", &["RQ-S1"], "D1", staff_of("S1")),
    ];
    let ids: Vec<String> =
        ok(&["local", "save", "--db", &a.db], &(lines.join("\n") + "\n")).lines().map(str::to_owned).collect();
    let [ct1, ct2, ct3] = [&ids[0], &ids[1], &ids[2]];
    a.sync();
    b.sync();
    let site_report = |db: &str| serde_json::from_str::<Value>(&ok(&["report", "--db", db], "")).unwrap();
    let center_report =
        || serde_json::from_str::<Value>(&ok(&["center", "report", "--site", "SITE-A", "--db", c], "")).unwrap();
    let before = site_report(&a.db);
    assert_eq!(figure2(&before, "scores_technologists"), json!([0, 1, 0, 0, 1]), "CT1 at 1 分, CT2 at 4 分");
    assert_eq!(figure2(&before, "scores_doctors"), json!([0, 0, 0, 0, 1]), "CT3's report at 1 分");
    assert_eq!(quality(&before, "quality_technologists", "A1"), json!([0, 1, 0, 1]), "A1 failed once");
    assert_eq!(quality(&before, "quality_doctors", "S1"), json!([0, 0, 0, 1]), "S1 failed once");
    assert_eq!(figure2(&center_report(), "scores_technologists"), json!([0, 1, 0, 0, 1]), "the center counts the same");

    // Case 1, put in by hand: the only seniors who may read it are S1 (SITE-A) and S2 (SITE-B),
    // so its two blind reads are made at two different sites.
    let case1 = one_json(&ok(&["center", "gold", "add", "--evaluation", ct1, "--db", c], ""));
    let id1 = case1["id"].as_str().unwrap().to_owned();
    assert_eq!(case1["state"], "reading", "{case1}");
    // A third senior joins SITE-B; the roster reaches the sites with their next sync.
    ok(
        &[
            "center",
            "staff",
            "add",
            "--site",
            "SITE-B",
            "--code",
            "S3",
            "--name",
            "李主任",
            "--role",
            "senior_radiologist",
            "--db",
            c,
        ],
        "",
    );
    a.sync();
    b.sync();
    let open = unread(&sites, &id1);
    let holders: Vec<(&str, &str, &str)> = open.values().map(|t| (t.task.as_str(), t.site, t.reader)).collect();
    assert_eq!(open.keys().map(String::as_str).collect::<Vec<_>>(), ["first", "second"], "{holders:?}");
    let mut at: Vec<(&str, &str)> = open.values().map(|t| (t.site, t.reader)).collect();
    at.sort();
    assert_eq!(at, [("SITE-A", "S1"), ("SITE-B", "S2")], "one reader at each site");
    for t in open.values() {
        let assignment = &t.open["assignment"];
        assert!(assignment["reads"].as_array().unwrap().is_empty(), "no other read: {assignment}");
        assert!(assignment["exam"]["staff"].is_null(), "blind to the person scored: {assignment}");
        assert!(!assignment.to_string().contains("\"A1\""), "nobody's name: {assignment}");
    }
    never_reviewer_nor_scored(c, &id1, &tasks_of(&sites, &id1));

    // The reads differ: 2 分 (four criteria unmet) and 5 分.
    let r1 = read(&sites, &open["first"], &["IQ-C1", "IQ-C2", "IQ-C3", "IQ-C4"]);
    let r2 = read(&sites, &open["second"], &[]);
    assert_eq!((r1["score"].as_u64(), r2["score"].as_u64()), (Some(2), Some(5)), "{r1} {r2}");
    let first = &open["first"];
    let first_db = &sites.iter().find(|s| s.code == first.site).unwrap().db;
    let again = radqc(
        &["local", "gold", "read", "--db", first_db, "--case", &id1, "--task", &first.task, "--reader", first.reader],
        "",
    );
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && err.contains("(GOLD_ALREADY_READ)"), "a read is never changed: {err}");
    a.sync();
    b.sync();
    b.sync();
    assert_eq!(show(c, &id1)["state"], "adjudicating");

    // The third reader can only be S3: S1 and S2 read it already. They see both reads as 甲 and
    // 乙, without names.
    let third = unread(&sites, &id1);
    assert_eq!(third.keys().map(String::as_str).collect::<Vec<_>>(), ["third"]);
    let t3 = &third["third"];
    assert_eq!((t3.site, t3.reader), ("SITE-B", "S3"));
    let blind: Vec<(String, u64)> = t3.open["assignment"]["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["label"].as_str().unwrap().to_owned(), r["score"].as_u64().unwrap()))
        .collect();
    assert_eq!(blind, [("甲".to_owned(), 2), ("乙".to_owned(), 5)]);
    let text = t3.open.to_string();
    assert!(!text.contains("\"S1\"") && !text.contains("\"S2\""), "no reader's name: {text}");
    never_reviewer_nor_scored(c, &id1, &tasks_of(&sites, &id1));
    let r3 = read(&sites, t3, &["IQ-C1", "IQ-C2"]);
    assert_eq!(r3["score"].as_u64(), Some(3), "{r3}");
    b.sync();
    a.sync();

    // Final: the gold result (3 分) supersedes CT1's evaluation at the center and at SITE-A.
    let done = show(c, &id1);
    assert_eq!((done["state"].as_str(), done["decided_by"].as_str()), (Some("final"), Some("third")), "{done}");
    let gold1 = done["result"]["id"].as_str().unwrap().to_owned();
    let finals = json_lines(&ok(&["local", "gold", "finals", "--db", &a.db], ""));
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert_eq!(
        (finals[0]["case_id"].as_str(), finals[0]["original_id"].as_str()),
        (Some(id1.as_str()), Some(ct1.as_str()))
    );
    assert_eq!(finals[0]["gold_evaluation_id"], gold1.as_str());
    // No reader holds a task of it any more: at SITE-A the final result closed it; at SITE-B,
    // where no final result of another site's exam comes, the center took the reads.
    let left: Vec<(&str, &str, String)> =
        tasks_of(&sites, &id1).into_iter().map(|t| (t.site, t.reader, t.task)).collect();
    assert!(left.is_empty(), "tasks of the final case still open: {left:?}");
    let export = json_lines(&ok(&["local", "export", "--db", &a.db], ""));
    let held = |id: &str| export.iter().find(|e| e["id"] == id).unwrap_or_else(|| panic!("{id} at SITE-A")).clone();
    let (original, gold) = (held(ct1), held(&gold1));
    assert_eq!(original["superseded_by"], gold1.as_str(), "the original stays readable, superseded");
    assert_eq!(
        (gold["mode"].as_str(), gold["score"].as_u64(), gold["supersedes"].as_str()),
        (Some("gold"), Some(3), Some(ct1.as_str())),
        "{gold}"
    );
    let mid = site_report(&a.db);
    assert_eq!(
        figure2(&mid, "scores_technologists"),
        json!([0, 1, 1, 0, 0]),
        "the gold 3 分 instead of the original 1 分"
    );
    assert_eq!(figure2(&center_report(), "scores_technologists"), json!([0, 1, 1, 0, 0]), "and at the center");

    // Case 2 agrees at once. S1 reviewed it, so its readers are S2 and S3, both at SITE-B.
    let id2 = one_json(&ok(&["center", "gold", "add", "--evaluation", ct2, "--db", c], ""))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.sync();
    b.sync();
    let open2 = unread(&sites, &id2);
    let mut at2: Vec<(&str, &str)> = open2.values().map(|t| (t.site, t.reader)).collect();
    at2.sort();
    assert_eq!(at2, [("SITE-B", "S2"), ("SITE-B", "S3")], "never the original reviewer S1");
    never_reviewer_nor_scored(c, &id2, &tasks_of(&sites, &id2));
    for t in open2.values() {
        assert_eq!(read(&sites, t, &["IQ-C1"])["score"].as_u64(), Some(4));
    }
    b.sync();
    a.sync();
    let done2 = show(c, &id2);
    assert_eq!((done2["state"].as_str(), done2["decided_by"].as_str()), (Some("final"), Some("first")), "{done2}");
    assert!(done2["readers"].as_array().unwrap().iter().all(|r| r["task"] != "third"), "no third reader: {done2}");
    assert!(tasks_of(&sites, &id2).iter().all(|t| t.task != "third"), "no third task at any site");

    // Case 3: S1, the person scored by CT3's failed report score, disputes it at SITE-A. Nobody
    // else may, and only with a reason.
    let dispute = |by: &str, reason: &str| {
        radqc(&["local", "dispute", "--db", &a.db, "--evaluation", ct3, "--by", by, "--reason", reason], "")
    };
    let refused = dispute("D1", "评分有误");
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("DISPUTE_REFUSED"),
        "{refused:?}"
    );
    let d = one_json(&String::from_utf8(dispute("S1", "病灶已在诊断中写明，非漏诊").stdout).unwrap());
    assert_eq!((d["evaluation_id"].as_str(), d["by"].as_str()), (Some(ct3.as_str()), Some("S1")), "{d}");
    a.sync();
    let cases = json_lines(&ok(&["center", "gold", "list", "--db", c], ""));
    let case3 = cases.iter().find(|k| k["evaluation_id"] == ct3.as_str()).expect("the dispute became a case");
    assert_eq!((case3["source"].as_str(), case3["dispute"]["by"].as_str()), (Some("dispute"), Some("S1")), "{case3}");
    let id3 = case3["id"].as_str().unwrap().to_owned();
    b.sync();
    a.sync();
    let open3 = unread(&sites, &id3);
    let mut at3: Vec<(&str, &str)> = open3.values().map(|t| (t.site, t.reader)).collect();
    at3.sort();
    assert_eq!(at3, [("SITE-B", "S2"), ("SITE-B", "S3")], "never the person scored S1");
    never_reviewer_nor_scored(c, &id3, &tasks_of(&sites, &id3));
    for t in open3.values() {
        assert_eq!(read(&sites, t, &["RQ-C1"])["score"].as_u64(), Some(4));
    }
    b.sync();
    a.sync();
    let done3 = show(c, &id3);
    assert_eq!(done3["state"], "final", "{done3}");
    let notices = json_lines(&ok(&["local", "notices", "--db", &a.db, "--to", "S1"], ""));
    let outcome = notices.iter().find(|n| n["kind"] == "gold_outcome").unwrap_or_else(|| panic!("{notices:?}"));
    assert_eq!(
        (outcome["to"].as_str(), outcome["body"]["case_id"].as_str(), outcome["body"]["gold_evaluation_id"].as_str()),
        (Some("S1"), Some(id3.as_str()), done3["result"]["id"].as_str()),
        "{outcome}"
    );
    let text = outcome["body"]["text"].as_str().or(outcome["text"].as_str()).unwrap_or_default();
    assert!(
        text.contains("复核结果 4 分（良好）") && text.contains("became 4 (good)") && !text.contains("（fail）"),
        "the outcome in words, each language its own: {text}"
    );
    let others = json_lines(&ok(&["local", "notices", "--db", &a.db, "--to", "A1"], ""));
    assert!(others.iter().all(|n| n["kind"] != "gold_outcome"), "the outcome is S1's only: {others:?}");

    // What the reports count: the gold results (CT1 3 分, CT2 4 分, CT3 4 分), not the originals,
    // at SITE-A and at the center, with the readers' agreement over the three cases.
    for (whose, report) in [("SITE-A", site_report(&a.db)), ("the center", center_report())] {
        assert_eq!(figure2(&report, "scores_technologists"), json!([0, 1, 1, 0, 0]), "{whose}");
        assert_eq!(figure2(&report, "scores_doctors"), json!([0, 1, 0, 0, 0]), "{whose}: CT3 at 4 分");
        assert_eq!(quality(&report, "quality_technologists", "A1"), json!([0, 1, 1, 0]), "{whose}: A1 failed no more");
        assert_eq!(quality(&report, "quality_doctors", "S1"), json!([0, 1, 0, 0]), "{whose}: S1 failed no more");
    }
    let agreement = &center_report()["agreement"];
    assert_eq!(agreement["cases"], 3, "{agreement}");
    let pairs: Vec<(&str, u64, u64)> = agreement["by_pair"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap(),
                p["scores"]["cases"].as_u64().unwrap(),
                p["scores"]["agreed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [("SITE-A/S1 × SITE-B/S2", 1, 0), ("SITE-B/S2 × SITE-B/S3", 2, 2)],
        "the readers of the two sites disagreed once; S2 and S3 agreed twice"
    );
}

#[test]
fn gold_commands_refuse_bad_input_with_the_stores_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    ok(&["local", "init", "--db", db, "--site", "SITE-A"], "");
    let staff = json!({"technologist": "A1", "reporting_doctor": "D1"});
    let id = ok(&["local", "save", "--db", db], &(evaluation("CT9", "IQ", &["IQ-S1"], "D1", staff) + "\n"))
        .trim()
        .to_owned();
    let fails = |args: &[&str], expect: &str| {
        let out = radqc(args, "");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success() && out.stdout.is_empty(), "{args:?} is refused and prints nothing: {out:?}");
        assert!(err.contains(expect), "{args:?}: stderr names {expect}: {err}");
    };
    let read = ["local", "gold", "read", "--db", db, "--case", "no-such-case", "--reader", "S1"];
    fails(&[&read[..], &["--task", "first"]].concat(), "(UNKNOWN_GOLD_CASE)");
    fails(&[&read[..], &["--task", "first", "--found", "IQ-C1,XX-9"]].concat(), "--found");
    fails(&[&read[..], &["--task", "fourth"]].concat(), "fourth");
    let dispute = ["local", "dispute", "--db", db, "--evaluation", &id];
    fails(&[&dispute[..], &["--by", "A1", "--reason", "  "]].concat(), "(INVALID_INPUT)");
    fails(&[&dispute[..], &["--by", "D1", "--reason", "评分有误"]].concat(), "(DISPUTE_REFUSED)");
    fails(&["local", "dispute", "--db", db, "--evaluation", "nope", "--by", "A1", "--reason", "x"], "nope");
    assert!(ok(&["local", "gold", "tasks", "--db", db, "--reader", "S1"], "").is_empty(), "no task without a center");
    assert!(ok(&["local", "gold", "finals", "--db", db], "").is_empty());
    // Nothing refused reached the outbox: only the evaluation is pending; the person scored's
    // dispute is then taken.
    assert_eq!(ok(&["local", "outbox", "--db", db], "").trim(), r#"{"pending":1,"sent":0,"rejected":0}"#);
    let d = one_json(&ok(&[&dispute[..], &["--by", "A1", "--reason", "摆位符合要求"]].concat(), ""));
    assert_eq!(
        (d["by"].as_str(), d["reason"].as_str(), d["site"].as_str()),
        (Some("A1"), Some("摆位符合要求"), Some("SITE-A"))
    );
    assert_eq!(ok(&["local", "outbox", "--db", db], "").trim(), r#"{"pending":2,"sent":0,"rejected":0}"#);
}
