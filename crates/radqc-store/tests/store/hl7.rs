//! Exams from the RIS (HL7 v2) in a real store: kept before the answer, applied once, merged
//! field by field whatever the order, the report text kept, a cancel and a patient merge
//! applied, a refused message changing no exam.

use chrono::{TimeZone, Utc};
use radqc_hl7::{read, Charset, Mapping};
use radqc_store::Store;

use crate::support::fresh;

fn seg(id: &str, fields: &[(usize, &str)]) -> String {
    let n = fields.iter().map(|(i, _)| *i).max().unwrap_or(0);
    let mut v = vec![String::new(); n + 1];
    v[0] = id.to_owned();
    for (i, f) in fields {
        v[*i] = (*f).to_owned();
    }
    v.join("|")
}

fn msh(kind: &str, id: &str, at: &str) -> String {
    format!("MSH|^~\\&|RIS|NJGL|RADQC|NJGL|{at}||{kind}|{id}|P|2.3.1||||||UNICODE UTF-8")
}

fn order(id: &str, at: &str, accession: &str, status: &str) -> String {
    [
        msh("ORM^O01", id, at),
        "PID|||P000123||王^小明||19700315|M".to_owned(),
        seg("PV1", &[(2, "O")]),
        seg("ORC", &[(1, if status == "CA" { "CA" } else { "NW" }), (2, accession), (5, status)]),
        seg(
            "OBR",
            &[
                (1, "1"),
                (2, accession),
                (4, "CT001^CT胸部平扫"),
                (7, "20261202080000"),
                (18, accession),
                (24, "CT"),
                (34, "A12"),
            ],
        ),
    ]
    .join("\r")
}

fn result(id: &str, at: &str, accession: &str, status: &str, impression: &str) -> String {
    [
        msh("ORU^R01", id, at),
        "PID|||P000123".to_owned(),
        seg("OBR", &[(1, "1"), (18, accession), (22, "20261202103000"), (25, status), (32, "D1"), (33, "D9")]),
        "OBX|1|TX|18782-3^影像所见^LN||双肺纹理清晰。".to_owned(),
        format!("OBX|2|TX|19005-8^诊断意见^LN||{impression}"),
    ]
    .join("\r")
}

fn save(store: &mut Store, text: &str) -> radqc_store::Hl7Receipt {
    let (message, read) = read(text.as_bytes(), Charset::Utf8, &Mapping::bundled(), store.time_zone().unwrap());
    let at = Utc.with_ymd_and_hms(2026, 12, 2, 4, 0, 0).unwrap();
    store.save_hl7(text.as_bytes(), message.as_ref(), read.as_ref(), at).unwrap()
}

/// The exam's fields as the store holds them (one row per exam, whatever the messages).
fn exam_row(f: &crate::support::Fixture, accession: &str) -> Vec<Option<String>> {
    f.raw()
        .query_row(
            "SELECT modality, exam_item, technologist, reporting_doctor, auditing_doctor, performed_at, cancelled,
                    report_status, report_impression, patient_sex, patient_age, patient_source, patient_hash
             FROM exams WHERE accession = ?1",
            [accession],
            |r| (0..13).map(|i| r.get::<_, Option<rusqlite::types::Value>>(i)).collect::<Result<Vec<_>, _>>(),
        )
        .unwrap()
        .into_iter()
        .map(|v| match v {
            Some(rusqlite::types::Value::Text(t)) => Some(t),
            Some(rusqlite::types::Value::Integer(i)) => Some(i.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn messages_in_any_order_make_the_same_exam_once() {
    let orderly = fresh();
    let shuffled = fresh();
    let messages = [
        order("M1", "20261202073000", "ACC-1", "SC"),
        order("M2", "20261202081500", "ACC-1", "CM"),
        result("M3", "20261202103000", "ACC-1", "P", "初步：未见异常。"),
        result("M4", "20261202110000", "ACC-1", "F", "胸部CT平扫未见明显异常。"),
    ];
    let mut a = orderly;
    for m in &messages {
        let receipt = save(&mut a.store, m);
        assert_eq!(receipt.code, "AA", "{:?}", receipt.reason);
    }
    let mut b = shuffled;
    for i in [3, 1, 2, 0, 3, 0] {
        let receipt = save(&mut b.store, &messages[i]);
        assert_eq!(receipt.code, "AA", "{:?}", receipt.reason);
    }
    let row = exam_row(&a, "ACC-1");
    // (The patient hash is salted per store: the same patient in each, a different hash.)
    assert_eq!(row[..12], exam_row(&b, "ACC-1")[..12], "the same exam whatever the order");
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        row[..12],
        [
            s("CT"),
            s("CT胸部平扫"),
            s("A12"),
            s("D1"),
            s("D9"),
            s("2026-12-02T00:00:00.000Z"),
            s("0"),
            s("F"),
            s("胸部CT平扫未见明显异常。"),
            s("M"),
            s("56"),
            s("outpatient"),
        ],
        "the latest source time wins field by field: the final report"
    );
    let logged = b.store.hl7_messages().unwrap();
    assert_eq!(logged.len(), 4, "each message kept once");
    assert_eq!(logged.iter().map(|m| m.times_seen).sum::<i64>(), 6, "and each repeat counted");
    assert_eq!(b.store.exam_report("ACC-1").unwrap().unwrap().status, "F");
    // The workload (figure 5) counts the exam once, by its performing technologist.
    let work = a.store.work_facts("2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z").unwrap();
    assert_eq!(work.iter().map(|w| w.person.as_str()).collect::<Vec<_>>(), ["A12"]);
}

#[test]
fn a_repeat_is_answered_as_the_first_time_and_a_refusal_changes_nothing() {
    let mut f = fresh();
    let first = save(&mut f.store, &order("M1", "20261202073000", "ACC-2", "CM"));
    let again = save(&mut f.store, &order("M1", "20261202073000", "ACC-2", "CM"));
    assert_eq!((first.duplicate, again.duplicate, again.code), (false, true, "AA"));
    let bad = order("M9", "20261202090000", "ACC-3", "CM").replace("|19700315|M", "|19700315|Q");
    let refused = save(&mut f.store, &bad);
    assert_eq!(refused.code, "AE");
    assert!(refused.reason.unwrap().contains("PID-8"));
    let count: i64 =
        f.raw().query_row("SELECT count(*) FROM exams WHERE accession = 'ACC-3'", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 0, "a refused message makes no exam");
    let again = save(&mut f.store, &bad);
    assert_eq!((again.code, again.duplicate), ("AE", true), "answered the same again");
    // Corrected and sent again under the same id: read anew, and then applied once.
    let corrected = order("M9", "20261202090000", "ACC-3", "CM");
    let fixed = save(&mut f.store, &corrected);
    assert_eq!((fixed.code, fixed.duplicate), ("AA", false));
    let count: i64 =
        f.raw().query_row("SELECT count(*) FROM exams WHERE accession = 'ACC-3'", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1);
    assert_eq!(save(&mut f.store, &bad).code, "AA", "once applied, the id is done: the old bad bytes change nothing");
    let kept = f.store.hl7_messages().unwrap();
    let m9 = kept.iter().find(|m| m.control_id == "M9").unwrap();
    assert_eq!((m9.ack_code.as_str(), m9.times_seen), ("AA", 4));
    let log = f.store.audit_log().unwrap();
    assert!(log.iter().all(|e| !e.detail.as_deref().unwrap_or("").contains("王")), "no patient data in the log");
}

#[test]
fn a_cancel_removes_the_exam_from_the_workload_and_a_merge_moves_the_patient() {
    let mut f = fresh();
    save(&mut f.store, &order("M1", "20261202073000", "ACC-4", "CM"));
    save(&mut f.store, &order("M2", "20261202090000", "ACC-4", "CA"));
    let row = exam_row(&f, "ACC-4");
    assert_eq!((row[5].as_deref(), row[6].as_deref()), (None, Some("1")), "cancelled: no performing time");
    let work = f.store.work_facts("2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z").unwrap();
    assert!(work.is_empty(), "a cancelled exam is not workload");

    save(&mut f.store, &order("M3", "20261202073000", "ACC-5", "CM"));
    let before = exam_row(&f, "ACC-5")[12].clone();
    let merge =
        [msh("ADT^A40", "M4", "20261202120000"), "PID|||P000999".to_owned(), "MRG|P000123".to_owned()].join("\r");
    assert_eq!(save(&mut f.store, &merge).code, "AA");
    let after = exam_row(&f, "ACC-5")[12].clone();
    assert!(before.is_some() && after.is_some() && before != after, "the exam moved to the surviving patient");
    // A late message with the old id keeps the exam with the surviving patient.
    save(&mut f.store, &result("M5", "20261202130000", "ACC-5", "F", "无异常"));
    assert_eq!(exam_row(&f, "ACC-5")[12], after);
    let update = [msh("ADT^A08", "M6", "20261202140000"), "PID|||P000999||||19800101|F".to_owned()].join("\r");
    assert_eq!(save(&mut f.store, &update).code, "AA");
    let row = exam_row(&f, "ACC-5");
    assert_eq!((row[9].as_deref(), row[10].as_deref()), (Some("F"), Some("46")), "the update reaches the exam");
}

/// The `exam` entries queued for the center, as the center receives them, oldest first.
fn exam_entries(store: &Store) -> Vec<serde_json::Value> {
    store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "exam")
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect()
}

#[test]
fn the_ris_exams_go_to_the_center_once_per_change_as_the_sharing_allows() {
    let mut f = fresh();
    // An order makes the exam: queued, with the patient as a salted hash and never a name.
    save(&mut f.store, &order("M1", "20261202073000", "ACC-6", "SC"));
    let sent = exam_entries(&f.store);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["kind"], "exam");
    assert_eq!(sent[0]["exam"]["accession"], "ACC-6");
    assert!(sent[0]["exam"]["patient_hash"].is_string());
    assert!(!sent[0].to_string().contains("王") && !sent[0].to_string().contains("P000123"), "no name, no id");
    // A repeat changes nothing, so nothing more goes.
    save(&mut f.store, &order("M1", "20261202073000", "ACC-6", "SC"));
    assert_eq!(exam_entries(&f.store).len(), 1, "a repeated message queues nothing");
    // Performed, then reported: each change goes, the report's text with it by default.
    save(&mut f.store, &order("M2", "20261202081500", "ACC-6", "CM"));
    save(&mut f.store, &result("M3", "20261202110000", "ACC-6", "F", "胸部CT平扫未见明显异常。"));
    let sent = exam_entries(&f.store);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[1]["exam"]["performed_at"], "2026-12-02T00:00:00Z");
    assert_eq!(sent[2]["report"]["status"], "F");
    assert_eq!(sent[2]["report"]["impression"], "胸部CT平扫未见明显异常。");
    assert_eq!(sent[2]["report"]["findings"], "双肺纹理清晰。");
    // The site withholds the report's text: the exam still goes, without it.
    f.store.set_sharing(radqc_store::Sharing { report_text: false }, "QC1", Utc::now()).unwrap();
    assert!(!f.store.sharing().unwrap().report_text);
    save(&mut f.store, &result("M4", "20261202120000", "ACC-6", "C", "更正：右肺微小结节。"));
    let sent = exam_entries(&f.store);
    assert_eq!(sent.len(), 4);
    assert!(sent[3].get("report").is_none(), "no report text once the site withholds it: {}", sent[3]);
    assert!(!sent[3].to_string().contains("结节"));
    // Cancelled: the center hears it, without a performing time.
    save(&mut f.store, &order("M5", "20261202130000", "ACC-6", "CA"));
    let sent = exam_entries(&f.store);
    assert_eq!(sent.len(), 5);
    assert_eq!(sent[4]["exam"]["cancelled"], true);
    assert!(sent[4]["exam"]["performed_at"].is_null());
    // Every entry reads as the wire type.
    for e in &sent {
        serde_json::from_value::<radqc_protocol::SyncPayload>(e.clone()).unwrap();
    }
}

#[test]
fn a_staff_code_mapped_by_the_qc_officer_names_the_roster_member() {
    let mut f = fresh();
    save(&mut f.store, &order("M1", "20261202073000", "ACC-7", "CM"));
    save(&mut f.store, &result("M2", "20261202110000", "ACC-7", "F", "未见异常。"));
    let roster: Vec<String> = ["T1", "D1", "D2"].iter().map(|s| s.to_string()).collect();
    let unknown = f.store.unknown_staff(&roster).unwrap();
    let codes: Vec<&str> = unknown.iter().map(|(_, c, _)| c.as_str()).collect();
    assert_eq!(codes, ["D9", "A12"], "listed by role: auditing D9, technologist A12 ({unknown:?})");
    // Refused: a member not in the roster, a code that already is one.
    let e = f.store.map_staff("A12", "T9", &roster, "QC1", Utc::now()).unwrap_err();
    assert!(e.to_string().contains("T9"), "{e}");
    assert!(f.store.map_staff("D1", "T1", &roster, "QC1", Utc::now()).is_err());
    let before = exam_entries(&f.store).len();
    assert_eq!(f.store.map_staff("A12", "T1", &roster, "QC1", Utc::now()).unwrap(), 1);
    assert_eq!(exam_row(&f, "ACC-7")[2].as_deref(), Some("T1"), "the exam names the member");
    let sent = exam_entries(&f.store);
    assert_eq!(sent.len(), before + 1, "and goes to the center again");
    assert_eq!(sent.last().unwrap()["exam"]["staff"]["technologist"], "T1");
    let codes: Vec<String> = f.store.unknown_staff(&roster).unwrap().into_iter().map(|(_, c, _)| c).collect();
    assert_eq!(codes, ["D9"]);
    // A later message with the RIS's code names the member too; the source keeps the code.
    save(&mut f.store, &order("M3", "20261202090000", "ACC-8", "CM"));
    assert_eq!(exam_row(&f, "ACC-8")[2].as_deref(), Some("T1"));
    let kept: i64 = f
        .raw()
        .query_row("SELECT count(*) FROM exam_sources WHERE instr(facts, '\"A12\"') > 0", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 2, "the messages' facts keep the code as sent");
    let aliases = f.store.staff_aliases().unwrap();
    assert_eq!((aliases.len(), aliases[0].code.as_str(), aliases[0].staff.as_str()), (1, "A12", "T1"));
}
