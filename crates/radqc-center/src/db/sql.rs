//! The statements both backends run. Parameters are `$1, $2, …`, numbered in order of first
//! appearance, which SQLite and PostgreSQL both bind positionally. Times are RFC 3339 text in
//! UTC (they sort as text), booleans are BOOLEAN, sequence numbers BIGINT.

/// Forward-only migrations; `{serial}` is the auto-increment key type of the backend.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sites (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE enrollment_codes (
    code_hash  TEXT PRIMARY KEY,
    site       TEXT NOT NULL REFERENCES sites (code),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_by    TEXT,
    used_at    TEXT
);
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    site         TEXT NOT NULL REFERENCES sites (code),
    name         TEXT,
    token_hash   TEXT NOT NULL UNIQUE,
    revoked      BOOLEAN NOT NULL DEFAULT FALSE,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    enrolled_at  TEXT NOT NULL,
    last_seen_at TEXT
);
CREATE TABLE staff (
    site   TEXT NOT NULL REFERENCES sites (code),
    code   TEXT NOT NULL,
    name   TEXT NOT NULL,
    roles  TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (site, code)
);
CREATE TABLE person_tokens (
    token_hash TEXT PRIMARY KEY,
    site       TEXT NOT NULL,
    staff      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE exams (
    site               TEXT NOT NULL,
    accession          TEXT NOT NULL,
    modality           TEXT NOT NULL,
    exam_item          TEXT NOT NULL,
    department         TEXT,
    technologist       TEXT,
    reporting_doctor   TEXT,
    auditing_doctor    TEXT,
    ordering_clinician TEXT,
    performed_at       TEXT,
    body               TEXT NOT NULL,
    PRIMARY KEY (site, accession)
);
CREATE TABLE evaluations (
    id             TEXT PRIMARY KEY,
    site           TEXT NOT NULL,
    device         TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    accession      TEXT NOT NULL,
    item           TEXT NOT NULL,
    reviewer       TEXT NOT NULL,
    scored_person  TEXT,
    mode           TEXT NOT NULL,
    score          INTEGER,
    grade          TEXT NOT NULL,
    pass           BOOLEAN NOT NULL,
    rubric_version TEXT NOT NULL,
    at             TEXT NOT NULL,
    supersedes     TEXT,
    body           TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    UNIQUE (device, seq)
);
CREATE INDEX evaluations_site_at ON evaluations (site, at);
CREATE TABLE exam_events (
    id          TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    device      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    accession   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    staff       TEXT NOT NULL,
    at          TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (device, seq)
);
CREATE INDEX exam_events_site_at ON exam_events (site, at);
CREATE TABLE rejected_entries (
    device      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device, seq)
);
CREATE TABLE feed (
    cursor       {serial} PRIMARY KEY,
    kind         TEXT NOT NULL,
    site         TEXT,
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL
);
CREATE INDEX feed_kind ON feed (kind, cursor);
"#,
    r#"
CREATE INDEX evaluations_supersedes ON evaluations (supersedes);
CREATE INDEX exams_performed ON exams (site, performed_at);
CREATE TABLE notices (
    id            TEXT PRIMARY KEY,
    site          TEXT NOT NULL,
    evaluation_id TEXT NOT NULL UNIQUE,
    department    TEXT,
    created_at    TEXT NOT NULL,
    body          TEXT NOT NULL,
    correction    TEXT,
    closed_by     TEXT,
    closed_at     TEXT
);
CREATE INDEX notices_site ON notices (site, created_at);
"#,
    // Month-keyed rollups, kept current at ingest (see `crate::rollups`), so that a report of
    // any period reads counts instead of scanning evaluations. Filled from the stored data when
    // this migration runs (`rebuild_rollups`).
    r#"
ALTER TABLE evaluations ADD COLUMN current BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE exams ADD COLUMN patient_known BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE evaluations ADD COLUMN deducted BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX evaluations_exam ON evaluations (site, accession);
CREATE INDEX evaluations_deducted ON evaluations (at) WHERE deducted AND current;
CREATE INDEX evaluations_deducted_site ON evaluations (site, at) WHERE deducted AND current;
CREATE TABLE rollup_scores (
    month          TEXT NOT NULL,
    site           TEXT NOT NULL,
    department     TEXT NOT NULL,
    modality       TEXT NOT NULL,
    item           TEXT NOT NULL,
    person         TEXT NOT NULL,
    mode           TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    s5             BIGINT NOT NULL,
    s4             BIGINT NOT NULL,
    s3             BIGINT NOT NULL,
    s2             BIGINT NOT NULL,
    s1             BIGINT NOT NULL,
    deducted       BIGINT NOT NULL,
    PRIMARY KEY (month, site, department, modality, item, person, mode, rubric_version)
);
CREATE TABLE rollup_deductions (
    month          TEXT NOT NULL,
    site           TEXT NOT NULL,
    department     TEXT NOT NULL,
    modality       TEXT NOT NULL,
    item           TEXT NOT NULL,
    person         TEXT NOT NULL,
    mode           TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    criterion      TEXT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (month, site, department, modality, item, person, mode, rubric_version, criterion)
);
CREATE TABLE rollup_cases (
    month      TEXT NOT NULL,
    site       TEXT NOT NULL,
    department TEXT NOT NULL,
    modality   TEXT NOT NULL,
    person     TEXT NOT NULL,
    sampled    BIGINT NOT NULL,
    qualified  BIGINT NOT NULL,
    PRIMARY KEY (month, site, department, modality, person)
);
CREATE TABLE rollup_work (
    month      TEXT NOT NULL,
    site       TEXT NOT NULL,
    department TEXT NOT NULL,
    modality   TEXT NOT NULL,
    person     TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (month, site, department, modality, person)
);
-- Reports of long periods read these in group order (a month's report reads the primary keys).
CREATE INDEX rollup_scores_by_person ON rollup_scores
    (site, person, modality, item, month, s5, s4, s3, s2, s1, deducted);
CREATE INDEX rollup_deductions_by_criterion ON rollup_deductions (rubric_version, criterion, item, month, n);
"#,
    // What makes a push exactly-once beyond retries: the digest of every entry kept by device and
    // sequence number, so other content under a used number (a restored or copied store) is told
    // from a real duplicate; and devices forked from another (such a store's own device).
    r#"
CREATE TABLE entry_digests (
    device TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (device, seq)
);
ALTER TABLE devices ADD COLUMN forked_from TEXT;
CREATE INDEX devices_site ON devices (site);
"#,
    // Months are each site's local months (its time zone), and exams whose case spans several
    // months keep each month's part (see `radqc_domain::rollup`), so a report of several
    // months counts such an exam once. The rollups are rebuilt after it.
    r#"
ALTER TABLE sites ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai';
CREATE TABLE rollup_case_spans (
    site       TEXT NOT NULL,
    accession  TEXT NOT NULL,
    month      TEXT NOT NULL,
    department TEXT NOT NULL,
    modality   TEXT NOT NULL,
    person     TEXT NOT NULL,
    present    BIGINT NOT NULL,
    sampled    BIGINT NOT NULL,
    passing    BIGINT NOT NULL,
    PRIMARY KEY (site, accession, month, department, modality, person)
);
CREATE INDEX rollup_case_spans_month ON rollup_case_spans (month);
"#,
    // People's secrets, as argon2id verifiers only (set by an administrator, or chosen by the
    // person at a workstation and sent by its device), and the region's settings (the secret
    // policy), both published with every site's roster.
    r#"
CREATE TABLE staff_secrets (
    site        TEXT NOT NULL,
    staff       TEXT NOT NULL,
    verifier    TEXT NOT NULL,
    version     BIGINT NOT NULL,
    must_change BOOLEAN NOT NULL,
    set_at      TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    PRIMARY KEY (site, staff)
);
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // The gold standard (7.3.1): each case stored whole (its readers, reads and result, as
    // `gold::CaseDoc` JSON), one per original evaluation.
    r#"
CREATE TABLE gold_cases (
    id            TEXT PRIMARY KEY,
    site          TEXT NOT NULL,
    evaluation_id TEXT NOT NULL UNIQUE,
    state         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX gold_cases_state ON gold_cases (state);
"#,
    // The exams the sites' RIS bring (sync kind `exam`): a report's text, as far as the site's
    // sharing policy sends it, kept beside its exam for centralized QC and the report checks.
    r#"
CREATE TABLE exam_reports (
    site        TEXT NOT NULL,
    accession   TEXT NOT NULL,
    status      TEXT NOT NULL,
    findings    TEXT,
    impression  TEXT,
    reported_at TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (site, accession)
);
"#,
    // Whether the site's last snapshot of an exam said the RIS cancelled it: a column, so that a
    // multi-row upsert (PostgreSQL's push) clears the performing time as the one-row one does.
    // Exams stored before it read FALSE until their site sends them again; nothing reads the
    // stored value but the merge of the next snapshot.
    r#"
ALTER TABLE exams ADD COLUMN cancelled BOOLEAN NOT NULL DEFAULT FALSE;
"#,
];

/// The migration that adds the rollups: after it, they are rebuilt from the stored data.
pub const ROLLUP_MIGRATION: usize = 3;
/// The migration that makes months local and adds the case spans: a rebuild follows it.
pub const LOCAL_MONTHS_MIGRATION: usize = 5;

/// Whether migrating from `version` runs a migration after which the rollups are rebuilt; the
/// rebuild then runs once, after the last migration (it reads the newest schema).
pub fn rebuilds_rollups(version: usize) -> bool {
    [ROLLUP_MIGRATION, LOCAL_MONTHS_MIGRATION].iter().any(|m| *m > version)
}

pub const ADD_SITE: &str = "INSERT INTO sites (code, name, created_at, time_zone) VALUES ($1, $2, $3, $4)";
pub const SITE_ZONES: &str = "SELECT code, time_zone FROM sites";
pub const SITE_ZONE: &str = "SELECT time_zone FROM sites WHERE code = $1";
pub const SET_SITE_ZONE: &str = "UPDATE sites SET time_zone = $1 WHERE code = $2";
pub const SITE_EXISTS: &str = "SELECT count(*) FROM sites WHERE code = $1";
pub const ADD_CODE: &str =
    "INSERT INTO enrollment_codes (code_hash, site, created_at, expires_at) VALUES ($1, $2, $3, $4)";
pub const FIND_CODE: &str = "SELECT site, expires_at, used_by FROM enrollment_codes WHERE code_hash = $1";
pub const USE_CODE: &str =
    "UPDATE enrollment_codes SET used_by = $1, used_at = $2 WHERE code_hash = $3 AND used_by IS NULL";
pub const FIND_DEVICE: &str = "SELECT site, last_seq FROM devices WHERE id = $1";
pub const ADD_DEVICE: &str =
    "INSERT INTO devices (id, site, name, token_hash, revoked, last_seq, enrolled_at) VALUES ($1, $2, $3, $4, FALSE, 0, $5)";
pub const REENROLL_DEVICE: &str =
    "UPDATE devices SET token_hash = $1, revoked = FALSE, name = coalesce($2, name), enrolled_at = $3 WHERE id = $4";
pub const REVOKE_DEVICE: &str = "UPDATE devices SET revoked = TRUE WHERE id = $1";
pub const DEVICE_BY_TOKEN: &str = "SELECT id, site, revoked FROM devices WHERE token_hash = $1";
pub const PERSON_BY_TOKEN: &str =
    "SELECT t.site, t.staff, s.roles FROM person_tokens t JOIN staff s ON s.site = t.site AND s.code = t.staff \
     WHERE t.token_hash = $1 AND NOT t.revoked AND s.active";
pub const ADD_PERSON_TOKEN: &str =
    "INSERT INTO person_tokens (token_hash, site, staff, created_at) VALUES ($1, $2, $3, $4)";
pub const STAFF_EXISTS: &str = "SELECT count(*) FROM staff WHERE site = $1 AND code = $2";
pub const UPSERT_STAFF: &str = "INSERT INTO staff (site, code, name, roles, active) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (site, code) DO UPDATE SET name = excluded.name, roles = excluded.roles, active = excluded.active";
pub const STAFF_SECRETS_OF_SITE: &str =
    "SELECT staff, verifier, version, must_change, set_at FROM staff_secrets WHERE site = $1 ORDER BY staff";
pub const STAFF_SECRET_VERSION: &str = "SELECT version FROM staff_secrets WHERE site = $1 AND staff = $2";
pub const UPSERT_STAFF_SECRET: &str =
    "INSERT INTO staff_secrets (site, staff, verifier, version, must_change, set_at, set_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (site, staff) DO UPDATE SET verifier = excluded.verifier, \
     version = excluded.version, must_change = excluded.must_change, set_at = excluded.set_at, set_by = excluded.set_by";
pub const SETTING: &str = "SELECT value FROM settings WHERE name = $1";
pub const PUT_SETTING: &str =
    "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value";
pub const SITES: &str = "SELECT code FROM sites ORDER BY code";
pub const STAFF_OF_SITE: &str = "SELECT site, code, name, roles, active FROM staff WHERE site = $1 ORDER BY code";

pub const ENTRY_DIGEST: &str = "SELECT digest FROM entry_digests WHERE device = $1 AND seq = $2";
/// Entries above `last_seq` are being applied now: a digest left there (a center restored from
/// a backup older than its digests) is replaced.
pub const INSERT_DIGEST: &str = "INSERT INTO entry_digests (device, seq, digest) VALUES ($1, $2, $3) \
     ON CONFLICT (device, seq) DO UPDATE SET digest = excluded.digest";
pub const STORED_EVALUATION: &str = "SELECT e.site, e.accession, e.body, \
     (SELECT s.id FROM evaluations s WHERE s.supersedes = e.id LIMIT 1) FROM evaluations e WHERE e.id = $1";
pub const STORED_EVENT: &str = "SELECT site, accession, body FROM exam_events WHERE id = $1";
pub const DEVICE_STATE: &str = "SELECT id, site, last_seq, forked_from FROM devices WHERE id = $1";
pub const FORK_DEVICE: &str =
    "INSERT INTO devices (id, site, name, token_hash, revoked, last_seq, enrolled_at, forked_from) \
     VALUES ($1, $2, $3, $4, FALSE, 0, $5, $6)";
pub const FIND_FORK: &str = "SELECT site, token_hash, forked_from FROM devices WHERE id = $1";
/// What a device pushed after a sequence number: its evaluations and events, each with its exam
/// as stored now, in order.
pub const DEVICE_RECORDS: &str = "SELECT r.seq, r.kind, r.body, x.body FROM ( \
         SELECT seq, 'evaluation' AS kind, body, site, accession FROM evaluations WHERE device = $1 AND seq > $2 \
         UNION ALL SELECT seq, 'exam_event' AS kind, body, site, accession FROM exam_events WHERE device = $1 AND seq > $2 \
     ) r JOIN exams x ON x.site = r.site AND x.accession = r.accession ORDER BY r.seq LIMIT $3";
pub const REJECTED_REASON: &str = "SELECT code, message FROM rejected_entries WHERE device = $1 AND seq = $2";
/// How a stored exam takes a site's newer snapshot (both backends, one row or many): the RIS's
/// facts replace, a name the snapshot lacks is kept, a cancel clears the performing time; an
/// identical snapshot writes nothing.
macro_rules! exam_merge {
    () => {
        " ON CONFLICT (site, accession) DO UPDATE SET modality = excluded.modality, exam_item = excluded.exam_item, \
             department = coalesce(excluded.department, exams.department), \
             technologist = coalesce(excluded.technologist, exams.technologist), \
             reporting_doctor = coalesce(excluded.reporting_doctor, exams.reporting_doctor), \
             auditing_doctor = coalesce(excluded.auditing_doctor, exams.auditing_doctor), \
             ordering_clinician = coalesce(excluded.ordering_clinician, exams.ordering_clinician), \
             performed_at = CASE WHEN excluded.cancelled THEN NULL ELSE coalesce(excluded.performed_at, exams.performed_at) END, \
             body = excluded.body, patient_known = exams.patient_known OR excluded.patient_known, \
             cancelled = excluded.cancelled \
         WHERE exams.body <> excluded.body"
    };
}
macro_rules! exam_columns {
    () => {
        "INSERT INTO exams (site, accession, modality, exam_item, department, technologist, reporting_doctor, \
             auditing_doctor, ordering_clinician, performed_at, body, patient_known, cancelled) "
    };
}
pub const UPSERT_EXAM: &str =
    concat!(exam_columns!(), "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)", exam_merge!());
/// `UPSERT_EXAM` for many exams at once (PostgreSQL), one array per column; each exam at most
/// once per statement (a push's later snapshots of an exam go in the next statement).
pub const UPSERT_EXAMS: &str = concat!(
    exam_columns!(),
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[], $13::boolean[])",
    exam_merge!()
);
/// An exam's report text, as the site sent it last.
pub const UPSERT_REPORT: &str =
    "INSERT INTO exam_reports (site, accession, status, findings, impression, reported_at, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (site, accession) DO UPDATE SET status = excluded.status, findings = excluded.findings, \
         impression = excluded.impression, reported_at = excluded.reported_at, received_at = excluded.received_at";
macro_rules! insert_evaluations {
    ($rows:literal) => {
        concat!(
            "INSERT INTO evaluations (id, site, device, seq, accession, item, reviewer, scored_person, mode, \
                 score, grade, pass, rubric_version, at, supersedes, body, received_at, deducted) ",
            $rows,
            " ON CONFLICT (id) DO NOTHING"
        )
    };
}
macro_rules! insert_events {
    ($rows:literal) => {
        concat!(
            "INSERT INTO exam_events (id, site, device, seq, accession, kind, staff, at, body, received_at) ",
            $rows,
            " ON CONFLICT (id) DO NOTHING"
        )
    };
}
pub const INSERT_EVALUATION: &str =
    insert_evaluations!("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)");
/// `INSERT_EVALUATION` for many (PostgreSQL); the ids it stored come back.
pub const INSERT_EVALUATIONS: &str = concat!(
    insert_evaluations!(
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], \
             $8::text[], $9::text[], $10::integer[], $11::text[], $12::boolean[], $13::text[], $14::text[], $15::text[], \
             $16::text[], $17::text[], $18::boolean[])"
    ),
    " RETURNING id"
);
pub const SUPERSEDE: &str = "UPDATE evaluations SET current = FALSE WHERE id = $1";
pub const INSERT_EVENT: &str = insert_events!("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
/// `INSERT_EVENT` for many (PostgreSQL).
pub const INSERT_EVENTS: &str = insert_events!(
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[])"
);
pub const INSERT_REJECTED: &str =
    "INSERT INTO rejected_entries (device, seq, code, message, payload, received_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub const SET_LAST_SEQ: &str = "UPDATE devices SET last_seq = $1, last_seen_at = $2 WHERE id = $3";

pub const PUBLISH: &str = "INSERT INTO feed (kind, site, body, published_at) VALUES ($1, $2, $3, $4) RETURNING cursor";
pub const FEED: &str = "SELECT cursor, site, body, published_at FROM feed WHERE kind = $1 AND cursor > $2 \
     AND (site IS NULL OR site = $3) ORDER BY cursor LIMIT $4";
pub const RUBRIC_TEXTS: &str = "SELECT body FROM feed WHERE kind = 'rubric' ORDER BY cursor";
pub const LATEST_GRANTS: &str =
    "SELECT cursor, body FROM feed WHERE kind = 'grants' AND site IS NULL ORDER BY cursor DESC LIMIT 1";

/// The revision that corrected an evaluation `e` (the site's store has at most one; the oldest
/// otherwise), as the site's own export gives it: the sender's `superseded_by` is only what it knew.
macro_rules! superseded_by {
    () => {
        "(SELECT s.id FROM evaluations s WHERE s.supersedes = e.id ORDER BY s.at, s.id LIMIT 1)"
    };
}
pub const EVALUATIONS: &str = concat!(
    "SELECT e.body, ",
    superseded_by!(),
    " FROM evaluations e WHERE (CAST($1 AS TEXT) IS NULL OR e.site = $1) ORDER BY e.at, e.id"
);
pub const EXPORT: &str = concat!(
    "SELECT 'evaluation', e.site, e.device, e.seq, e.body, ",
    superseded_by!(),
    " FROM evaluations e UNION ALL SELECT 'exam_event', site, device, seq, body, CAST(NULL AS TEXT) FROM exam_events \
     ORDER BY 2, 3, 4"
);
pub const STATS: &str = "SELECT d.site, d.id, d.revoked, d.last_seq, \
         (SELECT count(*) FROM evaluations e WHERE e.device = d.id), \
         (SELECT count(*) FROM exam_events v WHERE v.device = d.id), \
         (SELECT count(*) FROM rejected_entries r WHERE r.device = d.id) \
     FROM devices d ORDER BY d.site, d.id";

/// An evaluation with its exam, as `FactRow` reads it (the reports' facts and figure 3).
macro_rules! fact_select {
    () => {
        fact_select!("")
    };
    ($index:literal) => {
        concat!(
            "SELECT e.site, x.department, e.accession, x.modality, x.exam_item, e.item, e.scored_person, \
             e.reviewer, e.score, e.grade, e.body, e.id, x.reporting_doctor, e.mode, e.rubric_version, e.at, \
             x.patient_known, x.performed_at, x.auditing_doctor \
         FROM evaluations e ",
            $index,
            " JOIN exams x ON x.site = e.site AND x.accession = e.accession"
        )
    };
}

pub const EVALUATION_FACTS: &str = concat!(
    fact_select!(),
    " WHERE e.at >= $1 AND e.at < $2 AND (CAST($3 AS TEXT) IS NULL OR e.site = $3) AND e.current ORDER BY e.at, e.id"
);
pub const WORK_FACTS: &str = "SELECT technologist, modality, site, department, performed_at FROM exams \
     WHERE technologist IS NOT NULL AND performed_at >= $1 AND performed_at < $2 AND (CAST($3 AS TEXT) IS NULL OR site = $3)";

pub const NOTICE_SITE: &str = "SELECT site FROM notices WHERE id = $1";
pub const STAFF_ROLES: &str = "SELECT code, roles FROM staff WHERE site = $1 AND active ORDER BY code";
pub const INSERT_NOTICE: &str = "INSERT INTO notices (id, site, evaluation_id, department, created_at, body) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (evaluation_id) DO NOTHING";
pub const CLOSE_NOTICE: &str = "UPDATE notices SET correction = $1, closed_by = $2, closed_at = $3 \
     WHERE id = $4 AND closed_at IS NULL RETURNING body";
pub const NOTICES: &str = "SELECT body, correction, closed_by, closed_at FROM notices \
     WHERE (CAST($1 AS TEXT) IS NULL OR site = $1) ORDER BY created_at, id";
pub const CLOSE_SUPERSEDED_NOTICE: &str = "UPDATE notices SET correction = $1, closed_by = $2, closed_at = $3 \
     WHERE evaluation_id = $4 AND closed_at IS NULL RETURNING body";

// --- Rollups. Keys are never NULL: a missing department or person is ''.

pub const EXAM_STATE: &str = "SELECT modality, department, technologist, reporting_doctor, performed_at, \
     auditing_doctor, patient_known FROM exams WHERE site = $1 AND accession = $2";
/// Exams stored before `patient_known` was kept: a rebuild reads it from their bodies.
pub const EXAMS_PATIENT_UNKNOWN: &str = "SELECT site, accession, body FROM exams WHERE NOT patient_known";
pub const SET_PATIENT_KNOWN: &str = "UPDATE exams SET patient_known = TRUE WHERE site = $1 AND accession = $2";
pub const CURRENT_EVALUATIONS: &str = "SELECT id, item, scored_person, mode, rubric_version, at, score, grade, body \
     FROM evaluations WHERE site = $1 AND accession = $2 AND current";
// Each rollup upsert adds a delta to its row: `VALUES` for one row (SQLite), `unnest` of one
// array per column for many (PostgreSQL; a push's delta has each key once).
macro_rules! add_scores {
    ($rows:literal) => {
        concat!(
            "INSERT INTO rollup_scores (month, site, department, modality, item, person, mode, \
                 rubric_version, s5, s4, s3, s2, s1, deducted) ",
            $rows,
            " ON CONFLICT (month, site, department, modality, item, person, mode, rubric_version) DO UPDATE SET \
                 s5 = rollup_scores.s5 + excluded.s5, s4 = rollup_scores.s4 + excluded.s4, s3 = rollup_scores.s3 + excluded.s3, \
                 s2 = rollup_scores.s2 + excluded.s2, s1 = rollup_scores.s1 + excluded.s1, \
                 deducted = rollup_scores.deducted + excluded.deducted"
        )
    };
}
macro_rules! add_deductions {
    ($rows:literal) => {
        concat!(
            "INSERT INTO rollup_deductions (month, site, department, modality, item, person, \
                 mode, rubric_version, criterion, n) ",
            $rows,
            " ON CONFLICT (month, site, department, modality, item, person, mode, rubric_version, criterion) \
             DO UPDATE SET n = rollup_deductions.n + excluded.n"
        )
    };
}
macro_rules! add_cases {
    ($rows:literal) => {
        concat!(
            "INSERT INTO rollup_cases (month, site, department, modality, person, sampled, qualified) ",
            $rows,
            " ON CONFLICT (month, site, department, modality, person) DO UPDATE SET \
                 sampled = rollup_cases.sampled + excluded.sampled, qualified = rollup_cases.qualified + excluded.qualified"
        )
    };
}
macro_rules! add_work {
    ($rows:literal) => {
        concat!(
            "INSERT INTO rollup_work (month, site, department, modality, person, n) ",
            $rows,
            " ON CONFLICT (month, site, department, modality, person) DO UPDATE SET n = rollup_work.n + excluded.n"
        )
    };
}
macro_rules! add_spans {
    ($rows:literal) => {
        concat!(
            "INSERT INTO rollup_case_spans (site, accession, month, department, modality, person, \
                 present, sampled, passing) ",
            $rows,
            " ON CONFLICT (site, accession, month, department, modality, person) DO UPDATE SET \
                 present = rollup_case_spans.present + excluded.present, \
                 sampled = rollup_case_spans.sampled + excluded.sampled, passing = rollup_case_spans.passing + excluded.passing"
        )
    };
}
pub const ADD_SCORES: &str = add_scores!("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)");
pub const ADD_DEDUCTIONS: &str = add_deductions!("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
pub const ADD_CASES: &str = add_cases!("VALUES ($1, $2, $3, $4, $5, $6, $7)");
pub const ADD_WORK: &str = add_work!("VALUES ($1, $2, $3, $4, $5, $6)");
pub const ADD_SPANS: &str = add_spans!("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
pub const ADD_SCORES_MANY: &str = add_scores!(
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])"
);
pub const ADD_DEDUCTIONS_MANY: &str = add_deductions!(
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::bigint[])"
);
pub const ADD_CASES_MANY: &str = add_cases!(
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])"
);
pub const ADD_WORK_MANY: &str =
    add_work!("SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])");
pub const ADD_SPANS_MANY: &str = add_spans!(
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::bigint[], $8::bigint[], $9::bigint[])"
);
pub const CLEAR_ROLLUPS: &str = "DELETE FROM rollup_scores; DELETE FROM rollup_deductions; DELETE FROM rollup_cases; \
     DELETE FROM rollup_work; DELETE FROM rollup_case_spans;";
/// Every exam with its current evaluations (none: one row of NULLs), in exam order, for a rebuild.
pub const REBUILD_SCAN: &str = "SELECT x.site, x.accession, x.modality, x.department, x.technologist, \
         x.reporting_doctor, x.performed_at, x.auditing_doctor, x.patient_known, e.id, e.item, e.scored_person, e.mode, \
         e.rubric_version, e.at, e.score, e.grade, e.body \
     FROM exams x LEFT JOIN evaluations e ON e.site = x.site AND e.accession = x.accession AND e.current \
     ORDER BY x.site, x.accession";
/// A rebuild writes only the rows whose flags change (an update rewrites the row in PostgreSQL).
pub const MARK_NOT_CURRENT: &str = "UPDATE evaluations SET current = FALSE WHERE current AND id IN \
     (SELECT supersedes FROM evaluations WHERE supersedes IS NOT NULL)";
pub const MARK_CURRENT: &str = "UPDATE evaluations SET current = TRUE WHERE NOT current AND NOT EXISTS \
     (SELECT 1 FROM evaluations s WHERE s.supersedes = evaluations.id)";
pub const SET_DEDUCTED: &str = "UPDATE evaluations SET deducted = TRUE WHERE id = $1 AND NOT deducted";

/// A statement with its parameters, all text, numbered `$1…` in order.
pub struct Query {
    pub text: String,
    pub params: Vec<String>,
}

/// Builds a report's statements with only the filters it has: a condition that is not there
/// cannot mislead the planner (an `$n IS NULL OR …` form hides which index fits).
#[derive(Default)]
pub struct Conditions {
    parts: Vec<String>,
    pub params: Vec<String>,
}

impl Conditions {
    pub fn fixed(&mut self, sql: &str) -> &mut Self {
        self.parts.push(sql.to_owned());
        self
    }
    /// `column op $n` when there is a value.
    pub fn cmp(&mut self, column: &str, op: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.params.push(v.to_owned());
            self.parts.push(format!("{column} {op} ${}", self.params.len()));
        }
        self
    }
    /// `column IN ($n, …)` when there is a list.
    pub fn one_of(&mut self, column: &str, values: Option<&[String]>) -> &mut Self {
        if let Some(list) = values {
            let mut marks = Vec::new();
            for v in list {
                self.params.push(v.clone());
                marks.push(format!("${}", self.params.len()));
            }
            self.parts.push(if marks.is_empty() {
                "FALSE".to_owned()
            } else {
                format!("{column} IN ({})", marks.join(", "))
            });
        }
        self
    }
    /// A parameter for a condition written by hand (`fixed`): its `$n`.
    pub fn param(&mut self, value: &str) -> String {
        self.params.push(value.to_owned());
        format!("${}", self.params.len())
    }
    pub fn query(&self, select: &str, rest: &str) -> Query {
        let conditions = if self.parts.is_empty() { "TRUE".to_owned() } else { self.parts.join(" AND ") };
        Query { text: format!("{select} WHERE {conditions} {rest}"), params: self.params.clone() }
    }
}

pub const REPORT_SCORES: &str =
    "SELECT site, person, modality, item, CAST(sum(s5) AS BIGINT), CAST(sum(s4) AS BIGINT), \
     CAST(sum(s3) AS BIGINT), CAST(sum(s2) AS BIGINT), CAST(sum(s1) AS BIGINT), CAST(sum(deducted) AS BIGINT) \
     FROM rollup_scores";
pub const REPORT_SCORES_GROUP: &str = "GROUP BY site, person, modality, item";
pub const REPORT_DEDUCTIONS: &str =
    "SELECT rubric_version, criterion, item, CAST(sum(n) AS BIGINT) FROM rollup_deductions";
pub const REPORT_DEDUCTIONS_GROUP: &str = "GROUP BY rubric_version, criterion, item HAVING sum(n) > 0";
pub const REPORT_CASES: &str = "SELECT month, site, department, modality, person, CAST(sum(sampled) AS BIGINT), \
     CAST(sum(qualified) AS BIGINT) FROM rollup_cases";
pub const REPORT_CASES_GROUP: &str = "GROUP BY month, site, department, modality, person HAVING sum(sampled) > 0";
pub const REPORT_WORK: &str = "SELECT site, person, modality, CAST(sum(n) AS BIGINT) FROM rollup_work";
/// The months of exams whose case spans several months (few rows), by exam.
pub const REPORT_SPANS: &str =
    "SELECT site, accession, month, department, modality, person, present, sampled, passing FROM rollup_case_spans";
pub const REPORT_SPANS_ORDER: &str = "ORDER BY site, accession, month";
pub const REPORT_WORK_GROUP: &str = "GROUP BY site, person, modality HAVING sum(n) > 0";
/// Figure 3: the current evaluations with a deduction, oldest first (the caller adds the
/// conditions, the order and the limit).
pub const REPORT_DETAILS: &str = fact_select!();
/// `REPORT_DETAILS` naming its index (SQLite), of the region and of one site.
pub const REPORT_DETAILS_BY_AT: &str = fact_select!("INDEXED BY evaluations_deducted");
pub const REPORT_DETAILS_BY_SITE_AT: &str = fact_select!("INDEXED BY evaluations_deducted_site");

/// The key columns of `rollup_scores` and `rollup_deductions`, and of the other two rollups.
pub const EVAL_KEY: &str = "month, site, department, modality, item, person, mode, rubric_version";
pub const CASE_KEY: &str = "month, site, department, modality, person";
/// The key columns of `rollup_case_spans`.
pub const SPAN_KEY: &str = "site, accession, month, department, modality, person";

// The gold standard (`crate::gold`).
pub const GOLD_OPEN_CASES: &str = "SELECT body FROM gold_cases WHERE state <> 'final'";
pub const GOLD_CASE: &str = "SELECT body FROM gold_cases WHERE id = $1";
pub const GOLD_CASE_OF_EVALUATION: &str = "SELECT body FROM gold_cases WHERE evaluation_id = $1";
pub const GOLD_CASES: &str = "SELECT body FROM gold_cases ORDER BY created_at, id";
pub const GOLD_CASES_IN_STATE: &str = "SELECT body FROM gold_cases WHERE state = $1 ORDER BY created_at, id";
pub const UPSERT_GOLD_CASE: &str =
    "INSERT INTO gold_cases (id, site, evaluation_id, state, created_at, updated_at, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body";
pub const ACTIVE_STAFF: &str = "SELECT site, code, name, roles, active FROM staff WHERE active ORDER BY site, code";
pub const EXAM_BODY: &str = "SELECT body FROM exams WHERE site = $1 AND accession = $2";
pub const SUPERSEDED_BY: &str = "SELECT id FROM evaluations WHERE supersedes = $1 LIMIT 1";
pub const EVALUATION_BODY: &str = "SELECT body FROM evaluations WHERE id = $1";
/// The center's own device of a site (its gold device): a token hash no token has.
pub const ENSURE_DEVICE: &str = "INSERT INTO devices (id, site, name, token_hash, revoked, last_seq, enrolled_at) \
     VALUES ($1, $2, $3, $4, FALSE, 0, $5) ON CONFLICT (id) DO NOTHING";
