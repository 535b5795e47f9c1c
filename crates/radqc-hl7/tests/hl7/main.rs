//! HL7 v2 as RIS systems send it: the parser (delimiters, escapes, UTF-8 and GB18030), each
//! message kind under the default mapping (IHE Radiology Scheduled Workflow), a hospital's
//! variant mapping, the refusals (AE / AR with the field to blame), the ACK, MLLP framing, and a
//! fuzz test: no input panics, and every answer is itself a message that parses.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use radqc_domain::SiteZone;
use radqc_hl7::{ack, mllp, read, AckCode, Charset, ErrorCondition, Kind, Mapping, Message, Responder, ResultStatus};

/// A frame read by a listener whose unlabelled messages are UTF-8.
fn read_utf8(
    bytes: &[u8],
    m: &Mapping,
    z: SiteZone,
) -> (Option<Message>, Result<radqc_hl7::Inbound, radqc_hl7::Refusal>) {
    read(bytes, Charset::Utf8, m, z)
}

fn zone() -> SiteZone {
    SiteZone::default()
}

fn msg(lines: &[&str]) -> String {
    lines.join("\r") + "\r"
}

/// A segment with these fields at their HL7 positions (the rest empty): no counting of bars.
fn seg(id: &str, fields: &[(usize, &str)]) -> String {
    let n = fields.iter().map(|(i, _)| *i).max().unwrap_or(0);
    let mut v = vec![String::new(); n + 1];
    v[0] = id.to_owned();
    for (i, f) in fields {
        v[*i] = (*f).to_owned();
    }
    v.join("|")
}

const MSH_ORM: &str = "MSH|^~\\&|RIS|NJGL|RADQC|NJGL|20261202073000||ORM^O01|M0001|P|2.3.1||||||UNICODE UTF-8";

fn order() -> String {
    msg(&[
        MSH_ORM,
        "PID|||P000123^^^NJGL||王^小明||19700315|M",
        &seg("PV1", &[(2, "O"), (3, "放射科^^^NJGL"), (19, "V0001")]),
        &seg(
            "ORC",
            &[
                (1, "NW"),
                (2, "ORD-1"),
                (3, "FIL-1"),
                (5, "SC"),
                (9, "20261202072500"),
                (12, "D77^李^医生"),
                (17, "^呼吸内科"),
            ],
        ),
        &seg(
            "OBR",
            &[
                (1, "1"),
                (2, "ORD-1"),
                (3, "FIL-1"),
                (4, "CT001^CT胸部平扫^L"),
                (7, "20261202080000"),
                (13, "随访复查"),
                (18, "ORD-1"),
                (19, "ORD-1"),
                (24, "CT"),
            ],
        ),
    ])
}

fn responder() -> Responder {
    Responder { application: "RADQC".into(), facility: "NJGL".into() }
}

#[test]
fn an_order_reads_by_the_ihe_default_mapping() {
    let m = Mapping::bundled();
    let (parsed, read) = read_utf8(order().as_bytes(), &m, zone());
    let inbound = read.expect("a valid order");
    assert_eq!(parsed.unwrap().charset, Charset::Utf8);
    assert_eq!(
        (inbound.control_id.as_str(), inbound.message_type.as_str(), inbound.kind),
        ("M0001", "ORM^O01", Kind::Order)
    );
    assert_eq!(inbound.sender, "RIS^NJGL");
    assert_eq!(inbound.sent_at, Some(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()), "07:30 in Beijing");
    assert_eq!(inbound.patient.id.as_deref(), Some("P000123"));
    assert_eq!(inbound.patient.sex, Some(radqc_domain::Sex::Male));
    assert_eq!(inbound.patient.age, Some(56), "from the birth date at the exam's time");
    let e = &inbound.exams[0];
    assert_eq!(e.accession, "ORD-1", "OBR-18");
    assert_eq!(e.exam_item.as_deref(), Some("CT胸部平扫"));
    assert_eq!(e.exam_code.as_deref(), Some("CT001"));
    assert_eq!(e.modality.as_ref().map(|m| m.as_str()), Some("CT"), "OBR-24");
    assert_eq!(e.department.as_deref(), Some("呼吸内科"), "ORC-17.2");
    assert_eq!(e.patient_source, Some(radqc_domain::PatientSource::Outpatient), "PV1-2 O");
    assert_eq!(e.ordering_clinician.as_deref(), Some("D77"));
    assert_eq!(e.follow_up, Some(true), "随访 in OBR-13");
    assert!(!e.performed && !e.cancelled, "scheduled");
    assert_eq!(e.performed_at, Some(Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap()));
}

#[test]
fn an_omi_order_takes_the_accession_and_modality_from_ipc() {
    let text = msg(&[
        "MSH|^~\\&|RIS|NJGL|RADQC|NJGL|20261202073000+0800||OMI^O23^OMI_O23|M0002|P|2.5.1||||||UNICODE UTF-8",
        "PID|||P9^^^NJGL||||19900101|F",
        "PV1||E",
        "ORC|NW|ORD-9|||SC",
        "TQ1|||||||20261202090000",
        "OBR|1|ORD-9||MR01^MR头颅平扫",
        "IPC|ACC-9|RP-9|1.2.3|SPS-9|MR",
    ]);
    let inbound = read_utf8(text.as_bytes(), &Mapping::bundled(), zone()).1.unwrap();
    let e = &inbound.exams[0];
    assert_eq!((e.accession.as_str(), e.modality.as_ref().unwrap().as_str()), ("ACC-9", "MR"));
    assert_eq!(e.patient_source, Some(radqc_domain::PatientSource::Emergency));
    assert_eq!(inbound.patient.sex, Some(radqc_domain::Sex::Female));
    assert_eq!(inbound.sent_at, Some(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()), "an explicit offset");
}

#[test]
fn a_status_update_names_the_technologist_and_a_cancel_cancels() {
    let performed = msg(&[
        "MSH|^~\\&|RIS|NJGL|RADQC|NJGL|20261202083000||ORM^O01|M0003|P|2.3.1",
        "PID|||P000123",
        "ORC|SC|ORD-1|||CM",
        &seg(
            "OBR",
            &[
                (1, "1"),
                (2, "ORD-1"),
                (4, "CT001^CT胸部平扫"),
                (7, "20261202081500"),
                (18, "ORD-1"),
                (24, "CT"),
                (34, "A12&张&伟"),
            ],
        ),
    ]);
    let e = read_utf8(performed.as_bytes(), &Mapping::bundled(), zone()).1.unwrap().exams.remove(0);
    assert!(e.performed && !e.cancelled);
    assert_eq!(e.technologist.as_deref(), Some("A12"), "OBR-34.1.1");
    assert_eq!(e.performed_at, Some(Utc.with_ymd_and_hms(2026, 12, 2, 0, 15, 0).unwrap()));
    let cancel = msg(&[
        "MSH|^~\\&|RIS|NJGL|||20261202090000||ORM^O01|M0004|P|2.3.1",
        "PID|||P1",
        "ORC|CA|ORD-1|||CA",
        "OBR|1|ORD-1||||||||||||||||ORD-1",
    ]);
    let e = read_utf8(cancel.as_bytes(), &Mapping::bundled(), zone()).1.unwrap().exams.remove(0);
    assert!(e.cancelled && !e.performed);
}

#[test]
fn a_result_carries_the_report_text_and_its_doctors() {
    let text = msg(&[
        "MSH|^~\\&|RIS|NJGL|RADQC|NJGL|20261202110000||ORU^R01|M0005|P|2.3.1||||||UNICODE UTF-8",
        "PID|||P000123||||19700315|M",
        &seg(
            "OBR",
            &[
                (1, "1"),
                (2, "ORD-1"),
                (4, "CT001^CT胸部平扫"),
                (7, "20261202081500"),
                (18, "ORD-1"),
                (22, "20261202105500"),
                (24, "CT"),
                (25, "F"),
                (32, "D1&赵&敏"),
                (33, "D9&吴&强"),
            ],
        ),
        "OBX|1|TX|18782-3^影像所见^LN||双肺纹理清晰，未见明确实质性病变。~纵隔居中。||||||F",
        "OBX|2|TX|19005-8^诊断意见^LN||胸部CT平扫未见明显异常。||||||F",
        "OBX|3|TX|ZZ^其他||不计入||||||F",
    ]);
    let inbound = read_utf8(text.as_bytes(), &Mapping::bundled(), zone()).1.unwrap();
    assert_eq!(inbound.kind, Kind::Result);
    let e = &inbound.exams[0];
    assert_eq!(e.accession, "ORD-1");
    assert!(e.performed, "a result is about a performed exam");
    assert_eq!((e.reporting_doctor.as_deref(), e.auditing_doctor.as_deref()), (Some("D1"), Some("D9")));
    let r = e.report.as_ref().unwrap();
    assert_eq!(r.status, ResultStatus::Final);
    assert_eq!(r.findings.as_deref(), Some("双肺纹理清晰，未见明确实质性病变。\n纵隔居中。"), "repetitions are lines");
    assert_eq!(r.impression.as_deref(), Some("胸部CT平扫未见明显异常。"));
    assert_eq!(r.reported_at, Some(Utc.with_ymd_and_hms(2026, 12, 2, 2, 55, 0).unwrap()), "OBR-22");
    for (status, want) in
        [("P", ResultStatus::Preliminary), ("C", ResultStatus::Corrected), ("X", ResultStatus::Other("X".into()))]
    {
        let t = text.replace("|CT|F|", &format!("|CT|{status}|"));
        assert_ne!(t, text);
        assert_eq!(
            read_utf8(t.as_bytes(), &Mapping::bundled(), zone()).1.unwrap().exams[0].report.as_ref().unwrap().status,
            want
        );
    }
}

#[test]
fn patient_updates_and_merges_read_without_an_order() {
    let update =
        msg(&["MSH|^~\\&|HIS|NJGL|||20261202120000||ADT^A08|M0006|P|2.5", "PID|||P000123||王^小明||19700315|M"]);
    let u = read_utf8(update.as_bytes(), &Mapping::bundled(), zone()).1.unwrap();
    assert_eq!((u.kind, u.patient.id.as_deref(), u.exams.len()), (Kind::PatientUpdate, Some("P000123"), 0));
    let merge = msg(&["MSH|^~\\&|HIS|NJGL|||20261202120000||ADT^A40|M0007|P|2.5", "PID|||P000999", "MRG|P000123"]);
    let g = read_utf8(merge.as_bytes(), &Mapping::bundled(), zone()).1.unwrap();
    assert_eq!(
        (g.kind, g.patient.id.as_deref(), g.merge_from.as_deref()),
        (Kind::PatientMerge, Some("P000999"), Some("P000123"))
    );
    let no_mrg = msg(&["MSH|^~\\&|HIS|NJGL|||20261202120000||ADT^A40|M0008|P|2.5", "PID|||P000999"]);
    let refused = read_utf8(no_mrg.as_bytes(), &Mapping::bundled(), zone()).1.unwrap_err();
    assert_eq!((refused.code, refused.condition), (AckCode::Error, ErrorCondition::RequiredFieldMissing));
}

#[test]
fn gb18030_and_utf8_messages_read_the_same() {
    let utf8 = order();
    let gb = utf8.replace("UNICODE UTF-8", "GB 18030-2000");
    let bytes = Charset::Gb18030.encode(&gb);
    assert_ne!(bytes, gb.as_bytes(), "the Chinese text is encoded differently");
    let (parsed, read_gb) = read_utf8(&bytes, &Mapping::bundled(), zone());
    assert_eq!(parsed.unwrap().charset, Charset::Gb18030);
    let a = read_utf8(utf8.as_bytes(), &Mapping::bundled(), zone()).1.unwrap();
    assert_eq!(read_gb.unwrap().exams, a.exams, "the same exam either way");
    // GB18030 bytes labelled UTF-8 are refused, not read as mojibake.
    let mislabelled = Charset::Gb18030.encode(&utf8);
    let refused = read_utf8(&mislabelled, &Mapping::bundled(), zone()).1.unwrap_err();
    assert_eq!(refused.code, AckCode::Reject);
    assert!(refused.reason.contains("not valid UNICODE UTF-8"), "{}", refused.reason);
    // A RIS that sends GB18030 without naming it: read when the listener is told so.
    let unlabelled = Charset::Gb18030.encode(&utf8.replace("UNICODE UTF-8", ""));
    assert_eq!(read_utf8(&unlabelled, &Mapping::bundled(), zone()).1.unwrap_err().code, AckCode::Reject);
    let told = read(&unlabelled, Charset::Gb18030, &Mapping::bundled(), zone()).1.unwrap();
    assert_eq!(told.exams, a.exams);
    let unknown = utf8.replace("UNICODE UTF-8", "ISO IR87");
    let refused = read_utf8(unknown.as_bytes(), &Mapping::bundled(), zone()).1.unwrap_err();
    assert!(refused.reason.contains("ISO IR87"), "names the charset: {}", refused.reason);
}

#[test]
fn escapes_delimiters_and_line_endings_are_read_as_hl7_says() {
    let text = "MSH|^~\\&|A|B|||20261202||ADT^A08|E1|P|2.5\r\nPID|||ID\\F\\1\\S\\2\\T\\3\\R\\4\\E\\5||名\\X41\\字\\.br\\二\\H\\行\\N\\\n\n";
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.segments.len(), 2, "CR LF, LF and empty lines");
    let v = |p: &str| m.get(&p.parse().unwrap());
    assert_eq!(v("PID-3").as_deref(), Some("ID|1^2&3~4\\5"));
    assert_eq!(v("PID-5").as_deref(), Some("名A字\n二行"));
    assert_eq!(m.control_id().as_deref(), Some("E1"));
    let other = "MSH#:*!$#A#B###20261202##ADT:A08#E2#P#2.5\rPID###X:Y*Z:W";
    let m = Message::parse(other.as_bytes()).unwrap();
    assert_eq!(m.delimiters.field, '#');
    assert_eq!(m.get(&"PID-3(2).2".parse().unwrap()).as_deref(), Some("W"), "repetition 2, component 2");
    assert_eq!(m.message_type(), ("ADT".into(), "A08".into()));
    for bad in ["", "   ", "PID|||1", "MSH", "MSH|", "MSH|^|x", "MSH|^~\\&|A\rpid|x"] {
        assert!(Message::parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
    for (path, ok) in [
        ("PID-3", true),
        ("OBR-32.1.1", true),
        ("PID-3(2).1", true),
        ("pid-3", false),
        ("PID-0", false),
        ("PID", false),
        ("PID-3.1.1.1", false),
    ] {
        assert_eq!(path.parse::<radqc_hl7::Path>().is_ok(), ok, "{path}");
    }
}

#[test]
fn a_wrong_field_refuses_the_whole_message_naming_the_field() {
    let m = Mapping::bundled();
    let refuse = |text: String| read_utf8(text.as_bytes(), &m, zone()).1.unwrap_err();
    let no_accession = order().replace("ORD-1", "");
    let r = refuse(no_accession);
    assert_eq!(
        (r.code, r.condition, r.location.as_deref()),
        (AckCode::Error, ErrorCondition::RequiredFieldMissing, Some("IPC-1"))
    );
    assert!(r.reason.contains("accession"), "{}", r.reason);
    let r = refuse(order().replace("|19700315|M", "|19701340|M"));
    assert_eq!((r.condition, r.location.as_deref()), (ErrorCondition::DataTypeError, Some("PID-7")));
    let r = refuse(order().replace("|19700315|M", "|19700315|Q"));
    assert_eq!((r.condition, r.location.as_deref()), (ErrorCondition::TableValueNotFound, Some("PID-8")));
    let r = refuse(order().replace("|CT\r", "|ct scan\r"));
    assert_eq!((r.condition, r.location.as_deref()), (ErrorCondition::DataTypeError, Some("OBR-24")));
    let r = refuse(order().replace("20261202073000", "2026-12-02"));
    assert_eq!(r.location.as_deref(), Some("MSH-7"));
    let r = refuse(order().replace("ORM^O01", "SIU^S12"));
    assert_eq!((r.code, r.condition), (AckCode::Reject, ErrorCondition::UnsupportedMessageType));
    let r = refuse(order().replace("ORM^O01", "ORM^O02"));
    assert_eq!((r.code, r.condition), (AckCode::Reject, ErrorCondition::UnsupportedEventCode));
    let r = refuse(order().replace("|M0001|", "||"));
    assert_eq!(r.location.as_deref(), Some("MSH-10"));
    let r = refuse(order().replace("PV1||O|", "PV1||Z|"));
    assert_eq!((r.condition, r.location.as_deref()), (ErrorCondition::TableValueNotFound, Some("PV1-2")));
}

#[test]
fn a_hospitals_mapping_names_only_what_differs() {
    // This hospital's RIS puts the accession in ORC-2, the technologist in ORC-19 and the findings
    // under its own OBX code, and calls computed radiography CR.
    let variant = r#"{
        "extends": "default",
        "name": "某医院 RIS",
        "fields": {"accession": ["ORC-2"], "technologist": ["ORC-19.1"]},
        "findings_codes": ["ZFIND"]
    }"#;
    let m = Mapping::from_json(variant, "hospital.json").unwrap();
    assert_eq!(m.name, "某医院 RIS");
    assert_eq!(m.impression_codes, Mapping::bundled().impression_codes, "the rest is the default's");
    let text = msg(&[
        "MSH|^~\\&|RIS|H|||20261202110000||ORU^R01|V1|P|2.3.1",
        "PID|||P1",
        &seg("ORC", &[(1, "RE"), (2, "ACC-77"), (5, "CM"), (19, "T05^钱")]),
        &seg("OBR", &[(1, "1"), (2, "ACC-77"), (4, "DR01^胸部正位片"), (7, "20261202100000"), (24, "CR"), (25, "F")]),
        "OBX|1|TX|ZFIND^所见||心肺膈未见异常。",
    ]);
    let e = read_utf8(text.as_bytes(), &m, zone()).1.unwrap().exams.remove(0);
    assert_eq!((e.accession.as_str(), e.technologist.as_deref()), ("ACC-77", Some("T05")));
    assert_eq!(e.modality.unwrap().as_str(), "DR", "CR counts as DR");
    assert_eq!(e.report.unwrap().findings.as_deref(), Some("心肺膈未见异常。"));
    for (bad, says) in [
        (r#"{"extends": "other"}"#, "may name only"),
        (r#"{"extends": "default", "fields": {"accession": ["OBR18"]}}"#, "fields.accession"),
        (r#"{"extends": "default", "fields": {"colour": ["OBR-1"]}}"#, "colour"),
        (r#"{"extends": "default", "patient_class": {"O": "clinic"}}"#, "patient_class.O"),
        (r#"{"extends": "default", "unknown": 1}"#, "unknown"),
        (r#"{"extends": "default", "fields": {"accession": []}}"#, "accession"),
    ] {
        let e = Mapping::from_json(bad, "hospital.json").unwrap_err();
        assert!(e.to_string().contains(says), "{bad}: {e}");
    }
}

#[test]
fn an_order_with_two_exams_reads_two() {
    let text = msg(&[
        MSH_ORM,
        "PID|||P5",
        "ORC|NW|A-1|||SC",
        &seg("OBR", &[(1, "1"), (2, "A-1"), (4, "CT001^CT胸部平扫"), (18, "A-1"), (24, "CT")]),
        "ORC|NW|A-2|||SC",
        &seg("OBR", &[(1, "2"), (2, "A-2"), (4, "CT002^CT头颅平扫"), (18, "A-2")]),
    ]);
    // The second order names no modality: the first order's never speaks for it, so the
    // message is refused whole (nothing of it applied), naming the order.
    let refused = read_utf8(text.as_bytes(), &Mapping::bundled(), zone()).1.unwrap_err();
    assert_eq!((refused.code, refused.location.as_deref()), (AckCode::Error, Some("IPC-5")));
    assert!(refused.reason.contains("order A-2 has no modality"), "{}", refused.reason);
    let fixed = text.replace("|A-2\r", "|A-2||||||MR\r");
    assert_ne!(fixed, text);
    let inbound = read_utf8(fixed.as_bytes(), &Mapping::bundled(), zone()).1.unwrap();
    let seen: Vec<(&str, Option<&str>)> =
        inbound.exams.iter().map(|e| (e.accession.as_str(), e.modality.as_ref().map(|m| m.as_str()))).collect();
    assert_eq!(seen, [("A-1", Some("CT")), ("A-2", Some("MR"))]);
}

#[test]
fn the_answer_names_the_message_and_parses_back_in_its_charset() {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap();
    let gb = Charset::Gb18030.encode(&order().replace("UNICODE UTF-8", "GB 18030-2000"));
    let (parsed, _) = read_utf8(&gb, &Mapping::bundled(), zone());
    let bytes = ack(parsed.as_ref(), &gb, None, &responder(), now, "A1");
    let answer = Message::parse(&bytes).unwrap();
    assert_eq!(answer.charset, Charset::Gb18030, "answered in the sender's charset");
    assert_eq!(answer.message_type(), ("ACK".into(), "O01".into()));
    assert_eq!(answer.get(&"MSA-1".parse().unwrap()).as_deref(), Some("AA"));
    assert_eq!(answer.get(&"MSA-2".parse().unwrap()).as_deref(), Some("M0001"));
    assert_eq!(answer.header(5).as_deref(), Some("RIS"), "to the sender");
    let text = order().replace("|19700315|M", "|19700315|Q");
    let (parsed, refused) = read_utf8(text.as_bytes(), &Mapping::bundled(), zone());
    let refusal = refused.unwrap_err();
    let answer =
        Message::parse(&ack(parsed.as_ref(), text.as_bytes(), Some(&refusal), &responder(), now, "A2")).unwrap();
    assert_eq!(answer.get(&"MSA-1".parse().unwrap()).as_deref(), Some("AE"));
    assert!(answer.get(&"MSA-3".parse().unwrap()).unwrap().contains("PID-8"));
    assert_eq!(answer.get(&"ERR-3.1".parse().unwrap()).as_deref(), Some("103"));
    assert_eq!(answer.get(&"ERR-2.1".parse().unwrap()).as_deref(), Some("PID"));
    assert_eq!(answer.get(&"ERR-2.3".parse().unwrap()).as_deref(), Some("8"));
    // Not HL7 at all: AR, naming what it can.
    let junk = b"MSH|^~\\&|X|Y|||20261202||ORM^O01|J9|P|2.3\rBAD SEGMENT";
    let (parsed, refused) = read_utf8(junk, &Mapping::bundled(), zone());
    let answer =
        Message::parse(&ack(parsed.as_ref(), junk, Some(&refused.unwrap_err()), &responder(), now, "A3")).unwrap();
    assert_eq!(answer.get(&"MSA-1".parse().unwrap()).as_deref(), Some("AR"));
    assert_eq!(answer.get(&"MSA-2".parse().unwrap()).as_deref(), Some("J9"));
}

#[test]
fn mllp_frames_are_found_across_reads_and_noise() {
    let mut d = mllp::Decoder::new(64);
    let a = mllp::frame(b"MSH|one");
    let b = mllp::frame(b"MSH|two");
    let mut stream = b"noise\r".to_vec();
    stream.extend_from_slice(&a);
    stream.extend_from_slice(&b);
    for chunk in stream.chunks(3) {
        d.push(chunk);
    }
    assert_eq!(d.next_frame(), Some(Ok(b"MSH|one".to_vec())));
    assert_eq!(d.next_frame(), Some(Ok(b"MSH|two".to_vec())));
    assert_eq!(d.next_frame(), None);
    d.push(&mllp::frame(&[b'x'; 100]));
    assert_eq!(d.next_frame(), Some(Err(mllp::FrameError::TooLong(64))));
    d.push(&mllp::frame(b"MSH|three"));
    assert_eq!(d.next_frame(), Some(Ok(b"MSH|three".to_vec())), "the stream goes on after a frame too long");
    let mut d = mllp::Decoder::new(64);
    let mut long = vec![mllp::START];
    long.extend_from_slice(&[b'y'; 200]);
    d.push(&long);
    assert_eq!(d.next_frame(), Some(Err(mllp::FrameError::TooLong(64))), "refused before its end arrives");
    d.push(&[mllp::END, mllp::CR]);
    d.push(&mllp::frame(b"MSH|four"));
    assert_eq!(d.next_frame(), Some(Ok(b"MSH|four".to_vec())));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any bytes: no panic, and the answer (AA or a refusal) is a message that parses.
    #[test]
    fn no_input_panics_and_every_answer_parses(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap();
        let (parsed, read) = read_utf8(&bytes, &Mapping::bundled(), zone());
        let answer = ack(parsed.as_ref(), &bytes, read.as_ref().err(), &responder(), now, "F1");
        prop_assert!(Message::parse(&answer).is_ok());
    }

    /// A valid message with bytes changed, inserted or cut: no panic; what reads has an accession.
    #[test]
    fn a_damaged_message_never_panics(
        at in 0usize..400, cut in 0usize..40, insert in proptest::collection::vec(prop::sample::select(vec![b'|', b'^', b'~', b'\\', b'&', b'\r', b'\n', 0xE4, 0xB8, 0x80, b'X', b'0']), 0..8),
        gb in any::<bool>(),
    ) {
        let text = order();
        let mut bytes = if gb { Charset::Gb18030.encode(&text.replace("UNICODE UTF-8", "GB 18030-2000")) } else { text.into_bytes() };
        let at = at.min(bytes.len());
        let end = (at + cut).min(bytes.len());
        bytes.splice(at..end, insert);
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap();
        let (parsed, read) = read_utf8(&bytes, &Mapping::bundled(), zone());
        if let Ok(inbound) = &read {
            prop_assert!(inbound.exams.iter().all(|e| !e.accession.is_empty()));
        }
        let answer = ack(parsed.as_ref(), &bytes, read.as_ref().err(), &responder(), now, "F2");
        prop_assert!(Message::parse(&answer).is_ok());
    }
}
