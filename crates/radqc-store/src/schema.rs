//! The store's schema as forward-only migrations: migration N takes `user_version` N-1 to N.
//! Never edit a shipped migration; add the next one. Each file records the SHA-256 of every
//! migration it ran (`schema_migrations`, see `open.rs`), and `tests::SHIPPED` holds the digests
//! of the shipped ones: a changed text fails the test, and a file made by other texts is refused.
//! Migrations 1 and 2 were edited before the record was kept (the outbox's payload table and
//! `notice_closure` kind, `notice_closures`, `audit_by_actor`); no release shipped before that,
//! so no repair migration: a development file made by an earlier text is refused, naming what
//! its schema lacks, and is made again.

/// `PRAGMA application_id` of every RadQC store ("RADQ"): tells our files from other programs'.
pub const APPLICATION_ID: i64 = 0x5241_4451;

pub const MIGRATIONS: &[&str] = &[
    // 1: exams, events, evaluations, outbox, audit log.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE exams (
    id                 INTEGER PRIMARY KEY,
    site               TEXT NOT NULL,
    accession          TEXT NOT NULL,
    modality           TEXT NOT NULL,
    exam_item          TEXT NOT NULL,
    department         TEXT,
    patient_source     TEXT CHECK (patient_source IN ('outpatient', 'emergency', 'inpatient')),
    follow_up          INTEGER NOT NULL DEFAULT 0 CHECK (follow_up IN (0, 1)),
    film_printed       INTEGER CHECK (film_printed IN (0, 1)),
    reconstruction     INTEGER CHECK (reconstruction IN (0, 1)),
    technologist       TEXT,
    reporting_doctor   TEXT,
    auditing_doctor    TEXT,
    ordering_clinician TEXT,
    patient_hash       TEXT,
    patient_sex        TEXT CHECK (patient_sex IN ('F', 'M', 'O', 'U')),
    patient_age        INTEGER CHECK (patient_age BETWEEN 0 AND 150),
    patient_name       TEXT,
    performed_at       TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (site, accession)
) STRICT;
CREATE INDEX exams_period ON exams (coalesce(performed_at, created_at));

CREATE TABLE exam_events (
    id      TEXT PRIMARY KEY,
    exam_id INTEGER NOT NULL REFERENCES exams (id),
    kind    TEXT NOT NULL CHECK (kind IN ('report_signed', 'report_audited')),
    staff   TEXT NOT NULL,
    at      TEXT NOT NULL
) STRICT;
CREATE INDEX exam_events_exam ON exam_events (exam_id);

CREATE TABLE evaluations (
    id             TEXT PRIMARY KEY,
    exam_id        INTEGER NOT NULL REFERENCES exams (id),
    item           TEXT NOT NULL,
    reviewer       TEXT NOT NULL,
    scored_person  TEXT,
    mode           TEXT NOT NULL CHECK (mode IN ('random', 'active', 'centralized', 'gold')),
    findings       TEXT NOT NULL,
    not_applicable TEXT NOT NULL,
    score          INTEGER CHECK (score BETWEEN 1 AND 5),
    grade          TEXT NOT NULL CHECK (grade IN ('excellent', 'good', 'pass', 'fail')),
    pass           INTEGER NOT NULL CHECK (pass IN (0, 1)),
    severe         TEXT NOT NULL,
    unmet          TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL,
    -- A correction is a new revision naming the one it supersedes; each is superseded at most once.
    supersedes     TEXT UNIQUE REFERENCES evaluations (id)
) STRICT;
CREATE INDEX evaluations_exam ON evaluations (exam_id);

CREATE TRIGGER evaluations_no_update BEFORE UPDATE ON evaluations
BEGIN SELECT RAISE(ABORT, 'evaluations are append-only: save a correction instead'); END;
CREATE TRIGGER evaluations_no_delete BEFORE DELETE ON evaluations
BEGIN SELECT RAISE(ABORT, 'evaluations are append-only'); END;

-- seq is the per-device sequence: max + 1 inside the saving transaction, so strictly
-- increasing without gaps; entries are never deleted, only marked. The payload lives in its
-- own table so that marking thousands of entries sent rewrites only these narrow rows.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('evaluation', 'exam_event', 'notice_closure')),
    ref_id     TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    reason     TEXT,
    created_at TEXT NOT NULL,
    state_at   TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
CREATE TABLE outbox_payload (
    seq     INTEGER PRIMARY KEY REFERENCES outbox (seq),
    payload TEXT NOT NULL
) STRICT;
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox entries are never deleted'); END;
CREATE TRIGGER outbox_fixed BEFORE UPDATE OF seq, kind, ref_id ON outbox
BEGIN SELECT RAISE(ABORT, 'an outbox entry''s content never changes'); END;
CREATE TRIGGER outbox_payload_no_update BEFORE UPDATE ON outbox_payload
BEGIN SELECT RAISE(ABORT, 'an outbox entry''s content never changes'); END;
CREATE TRIGGER outbox_payload_no_delete BEFORE DELETE ON outbox_payload
BEGIN SELECT RAISE(ABORT, 'outbox entries are never deleted'); END;

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
) STRICT;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#,
    // 2: what the center published (rubric versions, sampling rules, roster, notices), by feed cursor.
    r#"
CREATE TABLE center_feed (
    kind         TEXT NOT NULL CHECK (kind IN ('rubric', 'sampling', 'roster', 'notices')),
    cursor       INTEGER NOT NULL,
    site         TEXT,
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (kind, cursor)
) STRICT;
-- Corrections (整改) recorded here for monitoring notices; they travel through the outbox.
CREATE INDEX audit_by_actor ON audit_log (actor, action, at);
CREATE TABLE notice_closures (
    notice_id  TEXT PRIMARY KEY,
    correction TEXT NOT NULL,
    closed_by  TEXT NOT NULL,
    at         TEXT NOT NULL
) STRICT;
"#,
    // Where an exam's performing time came from when not from its own data: 'signed' is the
    // report's signing time (recorded through the gate), until the exam's data gives one.
    r#"
ALTER TABLE exams ADD COLUMN performed_at_source TEXT CHECK (performed_at_source IN ('signed'));
"#,
    // 4: people's sign-in at this workstation: a secret a person chose here (kept until the
    // center's roster carries it), and wrong attempts with the lock they lead to.
    r#"
CREATE TABLE local_secrets (
    staff      TEXT PRIMARY KEY,
    verifier   TEXT NOT NULL,
    based_on   INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    sent_at    TEXT
) STRICT;
CREATE TABLE sign_in_attempts (
    staff        TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    locked_until TEXT
) STRICT;
"#,
    // 5: the center's feeds also carry the grants (who may do what, by role): the feed table is
    // made again with the kind allowed, its rows kept.
    r#"
CREATE TABLE center_feed_new (
    kind         TEXT NOT NULL CHECK (kind IN ('rubric', 'sampling', 'roster', 'notices', 'grants')),
    cursor       INTEGER NOT NULL,
    site         TEXT,
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (kind, cursor)
) STRICT;
INSERT INTO center_feed_new (kind, cursor, site, body, published_at, received_at)
    SELECT kind, cursor, site, body, published_at, received_at FROM center_feed;
DROP TABLE center_feed;
ALTER TABLE center_feed_new RENAME TO center_feed;
"#,
    // 6: the gold standard (7.3.1). The center's feeds carry `gold` (assignments, final results,
    // settings); the outbox carries gold reads and disputes. Both tables are made again with the
    // kinds allowed, their rows kept (the outbox's triggers and index made again as they were;
    // its payloads point at it throughout, checked at commit). A gold read of a case (one per
    // case and task: the exam is another site's, so only the case is named) and a dispute of an
    // evaluation (one per evaluation) are kept here as they were sent; `gold_finals` records
    // each final case applied here, and which evaluation its result superseded.
    r#"
CREATE TABLE center_feed_new (
    kind         TEXT NOT NULL CHECK (kind IN ('rubric', 'sampling', 'roster', 'notices', 'grants', 'gold')),
    cursor       INTEGER NOT NULL,
    site         TEXT,
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (kind, cursor)
) STRICT;
INSERT INTO center_feed_new (kind, cursor, site, body, published_at, received_at)
    SELECT kind, cursor, site, body, published_at, received_at FROM center_feed;
DROP TABLE center_feed;
ALTER TABLE center_feed_new RENAME TO center_feed;

PRAGMA defer_foreign_keys = ON;
CREATE TABLE outbox_copy AS SELECT seq, kind, ref_id, state, reason, created_at, state_at FROM outbox;
DROP TABLE outbox;
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('evaluation', 'exam_event', 'notice_closure', 'gold_read', 'dispute')),
    ref_id     TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    reason     TEXT,
    created_at TEXT NOT NULL,
    state_at   TEXT
) STRICT;
INSERT INTO outbox (seq, kind, ref_id, state, reason, created_at, state_at)
    SELECT seq, kind, ref_id, state, reason, created_at, state_at FROM outbox_copy ORDER BY seq;
DROP TABLE outbox_copy;
CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox entries are never deleted'); END;
CREATE TRIGGER outbox_fixed BEFORE UPDATE OF seq, kind, ref_id ON outbox
BEGIN SELECT RAISE(ABORT, 'an outbox entry''s content never changes'); END;

CREATE TABLE gold_reads (
    id      TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    task    TEXT NOT NULL CHECK (task IN ('first', 'second', 'third')),
    reader  TEXT NOT NULL,
    record  TEXT NOT NULL,
    at      TEXT NOT NULL,
    UNIQUE (case_id, task)
) STRICT;
CREATE TRIGGER gold_reads_no_update BEFORE UPDATE ON gold_reads
BEGIN SELECT RAISE(ABORT, 'a gold read is never changed'); END;
CREATE TRIGGER gold_reads_no_delete BEFORE DELETE ON gold_reads
BEGIN SELECT RAISE(ABORT, 'a gold read is never deleted'); END;

CREATE TABLE disputes (
    id            TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL UNIQUE REFERENCES evaluations (id),
    by_staff      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    at            TEXT NOT NULL
) STRICT;
CREATE TRIGGER disputes_no_update BEFORE UPDATE ON disputes
BEGIN SELECT RAISE(ABORT, 'a dispute is never changed'); END;
CREATE TRIGGER disputes_no_delete BEFORE DELETE ON disputes
BEGIN SELECT RAISE(ABORT, 'a dispute is never deleted'); END;

CREATE TABLE gold_finals (
    case_id            TEXT PRIMARY KEY,
    gold_evaluation_id TEXT NOT NULL UNIQUE REFERENCES evaluations (id),
    original_id        TEXT NOT NULL,
    superseded         TEXT NOT NULL REFERENCES evaluations (id),
    body               TEXT NOT NULL,
    applied_at         TEXT NOT NULL
) STRICT;
"#,
    // 7: exams from the hospital's systems (HL7 v2 from the RIS). Every message is kept as it
    // came, before its answer (a repeated MSH-10 from the same sender is answered again, applied
    // once); each message's facts about an exam are a row of `exam_sources` (the history), and the
    // exam row is their merge, field by field, the latest source time winning, so messages out of
    // order converge. The report's text (findings, impression, status) is kept with the exam;
    // a cancelled exam is not workload. Patient ids merged (ADT^A40) map old hashes to new.
    r#"
CREATE TABLE hl7_messages (
    id           INTEGER PRIMARY KEY,
    sender       TEXT NOT NULL,
    control_id   TEXT NOT NULL,
    message_type TEXT NOT NULL,
    sent_at      TEXT,
    received_at  TEXT NOT NULL,
    raw          BLOB NOT NULL,
    ack_code     TEXT NOT NULL CHECK (ack_code IN ('AA', 'AE', 'AR')),
    reason       TEXT,
    times_seen   INTEGER NOT NULL DEFAULT 1,
    UNIQUE (sender, control_id)
) STRICT;

CREATE TABLE exam_sources (
    id          INTEGER PRIMARY KEY,
    site        TEXT NOT NULL,
    accession   TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('hl7', 'import')),
    source_ref  TEXT NOT NULL,
    source_time TEXT NOT NULL,
    facts       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (source, source_ref, accession)
) STRICT;
CREATE INDEX exam_sources_exam ON exam_sources (site, accession);
CREATE TRIGGER exam_sources_no_update BEFORE UPDATE ON exam_sources
BEGIN SELECT RAISE(ABORT, 'a source''s facts are kept as they came'); END;

CREATE TABLE patient_merges (
    from_hash TEXT PRIMARY KEY,
    to_hash   TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;

ALTER TABLE exams ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1));
ALTER TABLE exams ADD COLUMN report_status TEXT;
ALTER TABLE exams ADD COLUMN report_findings TEXT;
ALTER TABLE exams ADD COLUMN report_impression TEXT;
ALTER TABLE exams ADD COLUMN reported_at TEXT;
"#,
    // 8: the exams the RIS brings travel to the center (outbox kind `exam`: the exam as merged,
    // queued each time it changes; `ref_id` is the accession, indexed to find the one queued
    // last), so the region's workload counts every exam performed. The outbox is made again with
    // the kind allowed, as in 6. Staff codes the RIS sends that are not the roster's are mapped
    // to roster members by the QC officer (`staff_aliases`); the sources keep the codes as sent.
    r#"
PRAGMA defer_foreign_keys = ON;
CREATE TABLE outbox_copy AS SELECT seq, kind, ref_id, state, reason, created_at, state_at FROM outbox;
DROP TABLE outbox;
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('evaluation', 'exam_event', 'notice_closure', 'gold_read', 'dispute', 'exam')),
    ref_id     TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    reason     TEXT,
    created_at TEXT NOT NULL,
    state_at   TEXT
) STRICT;
INSERT INTO outbox (seq, kind, ref_id, state, reason, created_at, state_at)
    SELECT seq, kind, ref_id, state, reason, created_at, state_at FROM outbox_copy ORDER BY seq;
DROP TABLE outbox_copy;
CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
CREATE INDEX outbox_ref ON outbox (kind, ref_id, seq);
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox entries are never deleted'); END;
CREATE TRIGGER outbox_fixed BEFORE UPDATE OF seq, kind, ref_id ON outbox
BEGIN SELECT RAISE(ABORT, 'an outbox entry''s content never changes'); END;

CREATE TABLE staff_aliases (
    code      TEXT PRIMARY KEY,
    staff     TEXT NOT NULL,
    mapped_by TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;
"#,
    // Only exam entries are looked up by what they are about (the last snapshot queued of an
    // exam): an index of those alone, so a save no longer writes an index page for its entry.
    r#"
DROP INDEX outbox_ref;
CREATE INDEX outbox_exam ON outbox (ref_id, seq) WHERE kind = 'exam';
"#,
    // 10: the report checks at signing (radqc-precheck): one run per signing that had a report
    // to read (the text it read, from the request or the RIS), and each proposal with the mode it
    // ran in, the signing doctor's choice at a warning, and the QC reviewer's outcome in the panel.
    // A run and a proposal's content never change; only the choice and the outcome are written.
    r#"
CREATE TABLE precheck_runs (
    id         INTEGER PRIMARY KEY,
    site       TEXT NOT NULL,
    accession  TEXT NOT NULL,
    signing    TEXT NOT NULL UNIQUE REFERENCES exam_events (id),
    signer     TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('request', 'ris')),
    findings   TEXT NOT NULL,
    impression TEXT NOT NULL,
    history    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX precheck_runs_exam ON precheck_runs (site, accession, id);
CREATE TRIGGER precheck_runs_no_update BEFORE UPDATE ON precheck_runs
BEGIN SELECT RAISE(ABORT, 'a precheck run is kept as it ran'); END;
CREATE TRIGGER precheck_runs_no_delete BEFORE DELETE ON precheck_runs
BEGIN SELECT RAISE(ABORT, 'a precheck run is kept as it ran'); END;

CREATE TABLE precheck_proposals (
    id            INTEGER PRIMARY KEY,
    run           INTEGER NOT NULL REFERENCES precheck_runs (id),
    site          TEXT NOT NULL,
    accession     TEXT NOT NULL,
    check_name    TEXT NOT NULL CHECK (check_name IN ('laterality', 'sex_organ', 'resected_organ', 'no_comparison',
                                                      'empty_impression', 'finding_not_in_impression')),
    criterion     TEXT NOT NULL,
    twin          TEXT NOT NULL,
    evidence      TEXT NOT NULL CHECK (json_valid(evidence) AND json_type(evidence) = 'array'),
    message_zh    TEXT NOT NULL,
    message_en    TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('panel', 'warn')),
    signer        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    signer_choice TEXT CHECK (signer_choice IN ('returned', 'signed_anyway')),
    outcome       TEXT CHECK (outcome IN ('accepted', 'dismissed')),
    decided_by    TEXT,
    decided_at    TEXT,
    CHECK ((outcome IS NULL) = (decided_by IS NULL) AND (outcome IS NULL) = (decided_at IS NULL)),
    CHECK (signer_choice IS NULL OR mode = 'warn')
) STRICT;
CREATE INDEX precheck_proposals_run ON precheck_proposals (run);
CREATE INDEX precheck_proposals_created ON precheck_proposals (created_at);
CREATE TRIGGER precheck_proposals_fixed BEFORE UPDATE OF id, run, site, accession, check_name, criterion, twin,
    evidence, message_zh, message_en, mode, signer, created_at ON precheck_proposals
BEGIN SELECT RAISE(ABORT, 'a proposal''s content never changes'); END;
CREATE TRIGGER precheck_proposals_choice_once BEFORE UPDATE OF signer_choice ON precheck_proposals
    WHEN OLD.signer_choice IS NOT NULL AND NEW.signer_choice IS NOT OLD.signer_choice
BEGIN SELECT RAISE(ABORT, 'the signing doctor chose once'); END;
CREATE TRIGGER precheck_proposals_no_delete BEFORE DELETE ON precheck_proposals
BEGIN SELECT RAISE(ABORT, 'proposals are never deleted'); END;
"#,
];

/// The history of a store's schema: one row per migration it ran, with the SHA-256 of its text
/// (`digest`), written in the migration's transaction (`recorded = 'applied'`), or filled in at
/// the first open of a file made before the history was kept, from the migrations as they are in
/// this build, after checking that the file's schema is what they make (`'inferred'`). Not a
/// migration itself: it is how the migrations are recorded.
pub const HISTORY_TABLE: &str = "
CREATE TABLE schema_migrations (
    version  INTEGER PRIMARY KEY,
    digest   TEXT NOT NULL,
    recorded TEXT NOT NULL CHECK (recorded IN ('applied', 'inferred')),
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
";

pub use radqc_domain::migrations::digest;

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest of every shipped migration, in order. Append the digest of a new migration when
    /// adding it; never edit a line: a shipped migration never changes (databases out there
    /// record these digests and are refused when the code's differ).
    const SHIPPED: &[&str] = &[
        "feb7f597b72a61da6ccdb7f616a1dfb48b7d22316e1d63bbcf8401170869161e", // 1: exams … audit log
        "bdb38bf11cd047cf02398700c210630926a387e8ef6d0022e1fea580047dec65", // 2: center feed, notice closures
        "89bb8431d2e928dbb4b1ebb029900dc99fd2f95035704d299c89e62ddc37f4ae", // 3: performed_at_source
        "b166bf4a327542a0a294d1f268ccd658ede0670e335932a786aec24242997992", // 4: local secrets, sign-in attempts
        "88682e267d6974a30f1f8743b901f4a24559b960bdbab6875d59423ab1731e13", // 5: center feed takes grants
        "c20a3e51bb8e255eb33408dcfe520dbc97ec06d7546f318eae074558e1e15620", // 6: gold feed, reads, disputes
        "eb74c93c614fc4349599836bb453067503c2911142d2432ad402c949dd420a11", // 7: HL7 messages, exam sources
        "e065a521baf378d746e136d85ea35ce9c35844d0cfb318a54dceebf32581ae27", // 8: exam entries, staff aliases
        "e9146b02241772f5f75b37d6c9fa7e7b5e76d8d373a7f9b5488a68bc8a33aeb5", // 9: the exam entries' index alone
        "d899644858d61af9ba12673efb58ba99c0f1e45df657bc1a2d7ec0845d1d8420", // 10: precheck runs and proposals
    ];

    #[test]
    fn shipped_migrations_never_change() {
        radqc_domain::migrations::check_shipped(MIGRATIONS, SHIPPED).unwrap_or_else(|e| panic!("{e}"));
    }
}
