//! A full disk: the save fails with a clear error and nothing saved before is lost or damaged.
//! (The crash test, which SIGKILLs a saving process, is in the CLI's tests: it needs a child.)

use radqc_store::Store;

use crate::support::*;

#[test]
fn a_full_disk_fails_the_save_clearly_and_keeps_everything_before() {
    let mut f = fresh();
    f.store.save_evaluation(&evaluation("CT000", "IQ", &[]), t(2, 10)).unwrap();
    let pages: u32 = f.raw().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    f.store.set_max_pages(pages + 4).unwrap();

    let mut saved = vec![];
    let err = loop {
        let mut e = evaluation(&format!("CT{:03}", saved.len() + 1), "RQ", &["RQ-C1"]);
        e.note = "报告描述不全，需补充病变大小与强化方式。".repeat(20);
        match f.store.save_evaluation(&e, t(2, 11)) {
            Ok(r) => saved.push(r.id),
            Err(e) => break e,
        }
        assert!(saved.len() < 1000, "the page limit must make the disk full");
    };
    assert_eq!(err.code(), "DISK_FULL", "{err}");
    assert!(err.to_string().contains("NOT saved"), "tells the reviewer the score is not saved: {err}");
    assert!(err.message_zh().contains("磁盘已满"), "and in Chinese");

    let Fixture { dir, store, key } = f;
    drop(store);
    let mut store = Store::open(&dir.path().join("qc.db"), &key).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok", "the file is sound");
    let ids: Vec<String> = store.evaluations().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), saved.len() + 1, "every save that returned Ok is there, and nothing else");
    assert!(saved.iter().all(|id| ids.contains(id)));
    let seqs: Vec<i64> = store.outbox().unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=ids.len() as i64).collect::<Vec<_>>(), "the outbox has no gap");
    store.save_evaluation(&evaluation("CT999", "IQ", &[]), t(2, 12)).expect("with room again, saving works");
}
