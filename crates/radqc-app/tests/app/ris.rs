//! A signing that names only the accession of an exam the RIS sent (here by a worklist; HL7's
//! exams are the same rows): the gate takes it, and the panel shows the exam as the RIS sent it;
//! an accession the RIS never sent is refused, naming what to send.

use radqc_app::{PanelClosedPolicy, SignRequest, SignResponse};
use serde_json::json;

use crate::{app, now};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_signing_names_only_the_accession_of_an_exam_the_ris_sent() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    let header =
        strings(&["检查号", "检查类型", "检查部位", "申请科室", "病人来源", "随访", "技师", "检查时间", "状态"]);
    let rows =
        vec![strings(&["RIS-1", "CT", "CT胸部平扫", "呼吸内科", "门诊", "是", "A2", "2026-11-20 08:30", "已检查"])];
    let mapping = radqc_store::WorklistMapping::bundled();
    let report = app.store_mut().import_worklist(&mapping, &header, &rows, false, false, now()).unwrap();
    assert_eq!(report.new_rows, 1);

    let req: SignRequest = serde_json::from_value(json!({"exam": {"accession": "RIS-1"}, "signer": "D1"})).unwrap();
    let SignResponse::Hold { gate, .. } = app.sign(&req, now()).unwrap() else {
        panic!("a follow-up case is always sampled")
    };
    let e = &gate.exam.exam;
    assert_eq!(
        (e.exam_item.as_str(), e.department.as_deref(), e.staff.technologist.as_ref().map(|s| s.as_str())),
        ("CT胸部平扫", Some("呼吸内科"), Some("A2")),
        "the panel shows the exam as the RIS sent it"
    );
    assert!(e.follow_up);
    assert_eq!(e.staff.reporting_doctor.as_ref().map(|s| s.as_str()), Some("D1"), "the signer is the reporting doctor");

    let unknown: SignRequest = serde_json::from_value(json!({"exam": {"accession": "NOPE"}, "signer": "D1"})).unwrap();
    let Err(refused) = app.sign(&unknown, now()) else { panic!("an exam the RIS never sent is refused") };
    assert_eq!(refused.code, "UNKNOWN_EXAM");
    assert!(refused.message_en.contains("send the whole exam"), "{}", refused.message_en);
    let partial =
        serde_json::from_value::<SignRequest>(json!({"exam": {"accession": "X", "modality": "CT"}, "signer": "D1"}));
    assert!(partial.unwrap_err().to_string().contains("exam_item"), "more than the accession is a whole exam");
    let empty = serde_json::from_value::<SignRequest>(json!({"exam": {"accession": " "}, "signer": "D1"}));
    assert!(empty.is_err());
}

/// The app's own listener (`--hl7-listen`): an order over MLLP is in the app's store when its
/// ACK comes, and the doctor's signing may then name only the accession.
#[test]
fn the_apps_listener_stores_an_order_before_its_ack() {
    use std::io::{Read, Write};
    let (_dir, app) = app(PanelClosedPolicy::Block);
    let app = std::sync::Arc::new(std::sync::Mutex::new(app));
    let addr = radqc_app::start_hl7(app.clone(), "127.0.0.1:0", None, false).unwrap();
    let mut obr = vec![""; 35];
    for (i, v) in [(0, "OBR"), (1, "1"), (2, "HL7-1"), (4, "MR010^MR头颅平扫"), (7, "20261120081500"), (13, "随访")]
        .into_iter()
        .chain([(18, "HL7-1"), (24, "MR"), (34, "A3")])
    {
        obr[i] = v;
    }
    let order = format!(
        "MSH|^~\\&|RIS|DEMO|RADQC|DEMO|20261120083000||ORM^O01|H1|P|2.3.1||||||UNICODE UTF-8\r\
         PID|||P9||||19800101|F\rPV1||O\rORC|SC|HL7-1|||CM\r{}\r",
        obr.join("|")
    );
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(&[&[0x0b][..], order.as_bytes(), &[0x1c, 0x0d]].concat()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(&[0x1c, 0x0d]) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("MSA|AA|H1"), "{}", String::from_utf8_lossy(&got));
    let mut app = app.lock().unwrap();
    let exam = app.store().exam(None, "HL7-1").unwrap().expect("stored before the ACK");
    assert_eq!((exam.modality.as_str(), exam.exam_item.as_str()), ("MR", "MR头颅平扫"));
    let req: SignRequest = serde_json::from_value(json!({"exam": {"accession": "HL7-1"}, "signer": "D2"})).unwrap();
    assert!(matches!(app.sign(&req, now()), Ok(SignResponse::Hold { .. })), "a follow-up case is held for its score");
}
