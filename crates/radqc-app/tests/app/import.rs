//! The 导入 screen's worklist import on the demo store: a CSV with a bad row is checked (the dry
//! run lists it and writes nothing), refused without skipping, imported with it, and importing
//! it again adds nothing; only the roles that see the whole site may; bad files are refused
//! naming the field.

use base64::Engine as _;
use radqc_app::{ImportRequest, PanelClosedPolicy};

use crate::{app, now};

const CSV: &str = "检查号,检查类型,检查部位,申请科室,病人来源,患者ID,性别,年龄,技师,检查时间,状态
IMP-1,CT,CT胸部平扫,呼吸内科,门诊,P000001,男,54,A2,2026-11-19 09:30,已检查
IMP-2,ct scan,CT头颅平扫,神经内科,急诊,P000002,女,61,A2,2026-11-19 10:00,已检查
IMP-3,DR,胸部正位,呼吸内科,住院,P000003,女,37,A1,2026-11-19 10:30,已检查
";

fn request(name: &str, bytes: &[u8], dry_run: bool, skip_bad: bool) -> ImportRequest {
    ImportRequest {
        file_name: name.to_owned(),
        content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        dry_run,
        skip_bad,
    }
}

#[test]
fn a_worklist_with_a_bad_row_is_checked_imported_with_skipping_and_once() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let known = |app: &radqc_app::App, acc: &str| app.exam_detail(acc, false).is_ok();

    let check = app.import_worklist(&request("登记表.csv", CSV.as_bytes(), true, false), now()).unwrap();
    assert!(check.dry_run);
    assert_eq!((check.rows, check.new_rows, check.unchanged), (3, 2, 0), "two good rows, both new");
    assert_eq!(check.bad.len(), 1, "{:?}", check.bad);
    assert_eq!(check.bad[0].row, 3, "the file's row number (the header is row 1)");
    assert!(check.bad[0].reason.contains("检查类型"), "the reason names the cell: {}", check.bad[0].reason);
    assert!(check.bad[0].reason_zh.contains("不是设备类型"), "and says it in Chinese: {}", check.bad[0].reason_zh);
    assert!(!known(&app, "IMP-1"), "a dry run writes nothing");

    let refused = app.import_worklist(&request("登记表.csv", CSV.as_bytes(), false, false), now()).unwrap();
    assert_eq!(refused.bad.len(), 1, "the bad row is reported again");
    assert!(!known(&app, "IMP-1") && !known(&app, "IMP-3"), "with a bad row and no skipping, nothing is written");

    let done = app.import_worklist(&request("登记表.csv", CSV.as_bytes(), false, true), now()).unwrap();
    assert_eq!((done.dry_run, done.new_rows, done.unchanged, done.bad.len()), (false, 2, 0, 1));
    assert!(known(&app, "IMP-1") && known(&app, "IMP-3"), "the good rows became exams");
    assert!(!known(&app, "IMP-2"), "the bad one did not");
    let log = app.store().audit_log().unwrap();
    assert!(log.iter().any(|e| e.action == "worklist_imported"), "the import is audited");

    let again = app.import_worklist(&request("登记表.csv", CSV.as_bytes(), false, true), now()).unwrap();
    assert_eq!((again.new_rows, again.unchanged), (0, 2), "importing the same file again adds nothing");
}

#[test]
fn only_the_roles_that_see_the_site_import() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    let req = request("w.csv", CSV.as_bytes(), true, false);
    assert_eq!(app.import_worklist(&req, now()).unwrap_err().code, "NOT_SIGNED_IN");
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    let refused = app.import_worklist(&req, now()).unwrap_err();
    assert_eq!(refused.code, "NOT_PERMITTED", "a technologist does not import");
    assert!(refused.message_en.contains("qc_officer"), "names the roles that may: {}", refused.message_en);
    assert!(refused.message_zh.contains("导入"), "{}", refused.message_zh);
    app.sign_in("H1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert!(app.import_worklist(&req, now()).is_ok(), "the department head does");
}

#[test]
fn a_bad_file_is_refused_naming_the_field() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let mut not_base64 = request("w.csv", CSV.as_bytes(), true, false);
    not_base64.content_base64 = "这不是base64!".to_owned();
    let too_big = ImportRequest {
        content_base64: "A".repeat((radqc_app::MAX_WORKLIST_BYTES / 3 + 2) * 4),
        ..request("w.csv", b"", true, false)
    };
    for (req, field, says) in [
        (not_base64, "content_base64", "not base64"),
        (request("w.csv", b"", true, false), "content_base64", "empty"),
        (too_big, "content_base64", "larger than 20 MiB"),
        (request("w.pdf", CSV.as_bytes(), true, false), "file_name", "w.pdf"),
        (request("w.csv", "检查号\n".as_bytes(), true, false), "worklist", "no column for modality"),
        (request("w.csv", CSV.lines().next().unwrap().as_bytes(), false, false), "", ""),
    ] {
        match app.import_worklist(&req, now()) {
            Err(e) => {
                assert_eq!(e.code, "INVALID_INPUT", "{}", req.file_name);
                assert!(e.message_en.starts_with(&format!("`{field}`")), "names `{field}`: {}", e.message_en);
                assert!(e.message_en.contains(says), "says what is wrong ({says}): {}", e.message_en);
                assert!(e.message_zh.contains(field), "in Chinese too: {}", e.message_zh);
            }
            Ok(report) => {
                assert!(field.is_empty(), "{field} was not refused: {report:?}");
                assert_eq!(report.rows, 0, "a header without rows imports nothing");
            }
        }
    }
}
