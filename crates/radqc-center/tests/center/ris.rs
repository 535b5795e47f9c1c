//! The exams a site's RIS brings (here a worklist imported at the clinic) reach the center as
//! `exam` entries: the region's workload (figure 5) counts every exam performed, a cancel takes
//! one out, the report's text is kept as the site's sharing allows, and an entry that is not an
//! exam a RIS could send is refused with its reason.

use chrono::Utc;
use serde_json::{json, Value};

use crate::support::{each_place, edit, person_token, staff, Clinic, Place};

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

const HEADER: &[&str] = &["检查号", "检查类型", "检查部位", "申请科室", "性别", "年龄", "技师", "检查时间", "状态"];

/// The clinic's outbox entries after `sent` (the test pushes by hand, so none is marked sent).
fn after(clinic: &Clinic, sent: &mut i64) -> Vec<radqc_protocol::PushEntry> {
    let entries = clinic.entries(*sent + 1, i64::MAX);
    *sent = entries.last().map_or(*sent, |e| e.seq);
    entries
}

/// SITE-A enrolled at the center: the device's token, an administrator's token, the clinic.
async fn site_a(c: &crate::support::Center) -> (String, String, Clinic) {
    let code = c.site("SITE-A").await;
    let (_, device) = c.enroll(&code).await;
    staff(c, "SITE-A", "ADM", &["center_admin"]).await;
    let admin = person_token(c, "SITE-A", "ADM").await;
    (device, admin, Clinic::new("SITE-A"))
}

/// Rows of a worklist in the bundled mapping's columns, imported at the clinic (none bad).
fn import(clinic: &mut Clinic, rows: &[Vec<String>]) {
    let mapping = radqc_store::WorklistMapping::bundled();
    let report = clinic.store.import_worklist(&mapping, &row(HEADER), rows, false, false, Utc::now()).unwrap();
    assert!(report.bad.is_empty(), "{:?}", report.bad);
}

async fn workload(c: &crate::support::Center, token: &str, backend: &str) -> Value {
    let (status, body) = c.get("/api/v1/report?month=2026-11&site=SITE-A", Some(token)).await;
    assert_eq!(status, 200, "{backend}: {body}");
    body["workload"].clone()
}

#[tokio::test]
async fn the_ris_exams_count_in_the_regions_workload() {
    each_place(|backend, c, place| async move {
        let (device, admin, mut clinic) = site_a(&c).await;
        let rows = vec![
            row(&["W1", "CT", "CT头颅平扫", "急诊科", "男", "61", "T1", "2026-11-10 09:00", "已检查"]),
            row(&["W2", "CT", "CT胸部平扫", "呼吸科", "女", "45", "T1", "2026-11-10 10:00", "已检查"]),
            row(&["W3", "DR", "胸部正位", "体检科", "男", "30", "T2", "2026-11-11 08:30", "已检查"]),
            row(&["W4", "MR", "MR腰椎平扫", "骨科", "女", "52", "T2", "", "已登记"]),
        ];
        import(&mut clinic, &rows);
        let mut sent = 0;
        let entries = after(&clinic, &mut sent);
        assert_eq!(entries.len(), 4, "{backend}: one exam entry per exam");
        let (status, body) = c.push(&device, &entries).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert!(body["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{backend}: {body}");
        let work = workload(&c, &admin, backend).await;
        assert_eq!(work["total"], 3, "{backend}: the performed exams, none scored or signed: {work}");
        assert_eq!(work["totals"], json!({"CT": 2, "DR": 1}), "{backend}");

        // The RIS cancels W2 (a later worklist): the center's workload loses it.
        let later = vec![row(&["W2", "CT", "CT胸部平扫", "呼吸科", "女", "45", "T1", "", "已取消"])];
        import(&mut clinic, &later);
        let entries = after(&clinic, &mut sent);
        assert_eq!(entries.len(), 1, "{backend}");
        let (status, body) = c.push(&device, &entries).await;
        assert_eq!(status, 200, "{backend}: {body}");
        let work = workload(&c, &admin, backend).await;
        assert_eq!(work["total"], 2, "{backend}: {work}");
        assert_eq!(work["totals"], json!({"CT": 1, "DR": 1}), "{backend}");
        // The same entries again change nothing (exactly once).
        let all = clinic.entries(1, 5);
        let (status, body) = c.push(&device, &all).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(workload(&c, &admin, backend).await["total"], 2, "{backend}");

        // A report's text is kept beside its exam; refused: a name, an oversized text, a blank
        // status, an exam without its item.
        let mut with_report = clinic.entries(1, 1).remove(0);
        with_report.seq = 6;
        edit(&mut with_report, |v| {
            v["report"] = json!({"status": "F", "findings": "左侧基底节区见小片低密度影。", "impression": "左侧基底节区腔隙性脑梗死。", "reported_at": "2026-11-10T03:00:00Z"});
        });
        let bad = |seq: i64, f: &dyn Fn(&mut Value)| {
            let mut e = clinic.entries(1, 1).remove(0);
            e.seq = seq;
            edit(&mut e, f);
            e
        };
        let refused = [
            bad(7, &|v| v["exam"]["patient_name"] = json!("王小明")),
            bad(8, &|v| v["report"] = json!({"status": "F", "findings": "影".repeat(20_001), "impression": null, "reported_at": null})),
            bad(9, &|v| v["report"] = json!({"status": " ", "findings": null, "impression": null, "reported_at": null})),
            bad(10, &|v| v["exam"]["exam_item"] = json!("")),
        ];
        let mut batch = vec![with_report];
        batch.extend(refused);
        let (status, body) = c.push(&device, &batch).await;
        assert_eq!(status, 200, "{backend}: {body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results[0]["status"], "applied", "{backend}: {body}");
        for (r, word) in results[1..].iter().zip(["patient name", "20000", "status", "exam item"]) {
            assert_eq!(r["status"], "rejected", "{backend}: {r}");
            assert!(r["reason"]["message"].as_str().unwrap().contains(word), "{backend}: {r}");
        }
        let stored = match &place {
            Place::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .query_row("SELECT status, impression FROM exam_reports WHERE site = 'SITE-A' AND accession = 'W1'", [], |r| {
                    Ok(format!("{} {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .unwrap(),
            Place::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                let r = client
                    .query_one("SELECT status, impression FROM exam_reports WHERE site = 'SITE-A' AND accession = 'W1'", &[])
                    .await
                    .unwrap();
                format!("{} {}", r.get::<_, String>(0), r.get::<_, String>(1))
            }
        };
        assert_eq!(stored, "F 左侧基底节区腔隙性脑梗死。", "{backend}");
    })
    .await;
}

/// What the center stored of an exam: its performing time, and whether it is cancelled.
async fn stored_exam(place: &Place, accession: &str) -> (Option<String>, bool) {
    let q = "SELECT performed_at, cancelled FROM exams WHERE site = 'SITE-A' AND accession = $1";
    match place {
        Place::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .query_row(&q.replace("$1", "?1"), [accession], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap(),
        Place::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let r = client.query_one(q, &[&accession]).await.unwrap();
            (r.get(0), r.get(1))
        }
    }
}

/// A clinic back online pushes an exam's whole life at once: registered, performed, cancelled
/// (and another exam performed). The center merges the snapshots in
/// their order, as it would one push at a time (PostgreSQL writes them as multi-row statements,
/// one round per snapshot of an exam).
#[tokio::test]
async fn an_exams_snapshots_in_one_push_merge_in_their_order() {
    each_place(|backend, c, place| async move {
        let (device, admin, mut clinic) = site_a(&c).await;
        let steps = [
            vec![
                row(&["W1", "CT", "CT头颅平扫", "急诊科", "男", "61", "T1", "", "已登记"]),
                row(&["W5", "DR", "胸部正位", "体检科", "女", "33", "T2", "2026-11-12 08:00", "已检查"]),
            ],
            vec![row(&["W1", "CT", "CT头颅平扫", "急诊科", "男", "61", "T1", "2026-11-10 09:00", "已检查"])],
            vec![row(&["W1", "CT", "CT头颅平扫", "急诊科", "男", "61", "T1", "", "已取消"])],
        ];
        for rows in &steps {
            import(&mut clinic, rows);
        }
        let mut sent = 0;
        let entries = after(&clinic, &mut sent);
        assert_eq!(entries.len(), 4, "{backend}: every snapshot is an entry");
        let (status, body) = c.push(&device, &entries).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert!(body["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{backend}: {body}");
        assert_eq!(stored_exam(&place, "W1").await, (None, true), "{backend}: the cancel, last, cleared the time");
        let (w5, cancelled) = stored_exam(&place, "W5").await;
        assert!(w5.is_some() && !cancelled, "{backend}: {w5:?}");
        let work = workload(&c, &admin, backend).await;
        assert_eq!(work["total"], 1, "{backend}: only W5 was performed and not cancelled: {work}");
    })
    .await;
}
