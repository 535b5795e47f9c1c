//! `radqc local …`: the local store from the command line, for scripting, imports and support.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand};
use radqc_domain::{CriterionCode, SiteCode, StaffCode};
use radqc_protocol::{FeedKind, GoldTask, NoticeBody};
use radqc_store::{default_key_path, Key, KeyPlacement, KeySource, NewEvaluation, NewGoldRead, Store, StoreError};

#[derive(Args)]
pub struct DbArgs {
    /// The store's file.
    #[arg(long, value_name = "PATH")]
    db: PathBuf,
    /// The key file: the key (64 hex characters), or the OS keystore entry that holds it;
    /// default: the database path plus `.key`.
    #[arg(long, value_name = "PATH", env = "RADQC_KEY_FILE")]
    key_file: Option<PathBuf>,
}

impl DbArgs {
    fn key_path(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| default_key_path(&self.db))
    }
    pub fn open(&self) -> Result<Store> {
        self.open_store().map_err(with_code)
    }
    fn open_store(&self) -> Result<Store, StoreError> {
        Store::open(&self.db, &Key::from_file(&self.key_path())?)
    }
}

/// A store's error as the CLI prints it: the message and its stable code, e.g. `(DISK_FULL)`.
fn with_code(e: StoreError) -> anyhow::Error {
    anyhow::anyhow!("{e} ({})", e.code())
}

#[derive(Subcommand)]
pub enum LocalCommand {
    /// Create a new, encrypted store (and its key file, unless one exists).
    Init {
        #[command(flatten)]
        db: DbArgs,
        /// The site this store belongs to until enrollment with a center says otherwise.
        #[arg(long, default_value = "LOCAL")]
        site: String,
        /// Where a new key goes: the OS keystore when one answers, else the key file (auto); the
        /// keystore or an error; the key file.
        #[arg(long, value_enum, default_value = "auto", env = "RADQC_KEY_IN")]
        key_in: KeyIn,
    },
    /// Where the store's key is, and moving it between the OS keystore and the key file.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Save evaluations read as JSON lines on stdin; print each id once it is committed.
    Save {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print every evaluation, revisions included, as JSON lines.
    Export {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enroll this store with a regional center using a one-time code.
    Enroll {
        #[command(flatten)]
        db: DbArgs,
        /// The center's base URL, e.g. https://qc.region.example:8443
        #[arg(long)]
        center: String,
        /// The enrollment string the center's administrator gave: the one-time code and, for
        /// HTTPS, the pin of the center's key (`K7QM-3XPA-9TWE#sha256/…`).
        #[arg(long)]
        code: String,
        /// The pin of the center's key (`sha256/<base64>`), when it came apart from the code.
        #[arg(long, value_name = "sha256/…")]
        pin: Option<String>,
        /// Accept plain HTTP to a center that is not on this machine: anyone on the way can read
        /// and change what is sent. The 同步 screen shows the link as insecure.
        #[arg(long)]
        insecure_http: bool,
        /// A name for this device in the center's lists.
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the site's time zone (months and days of reports and sampling are local to it); with
    /// ZONE, set the site's own one (a zone the center publishes for the site comes first).
    TimeZone {
        #[command(flatten)]
        db: DbArgs,
        /// An IANA name, e.g. Asia/Shanghai, Asia/Urumqi.
        zone: Option<String>,
    },
    /// Print what the RIS's exams carry to the center (as JSON), after changing it: the exam
    /// always (never the patient's name; the id only as the site's salted hash), the report's
    /// text (findings, impression) unless `--report-text off`.
    Sharing {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_enum)]
        report_text: Option<OnOff>,
        /// Who changes it (a staff code), for the audit log.
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Print the grants in force (who scores which items, sees the whole site, reads the region,
    /// is named on notices) as JSON: the document the center published last, else the bundled
    /// one; the app decides by the same document.
    Grants {
        #[command(flatten)]
        db: DbArgs,
    },
    /// The gold standard (7.3.1) at this site: a reader's open assignments, their blind reads,
    /// and the final results the center sent back.
    Gold {
        #[command(subcommand)]
        command: GoldCommand,
    },
    /// Dispute a failed evaluation of one's own (the person scored), with a reason, within the
    /// region's days; the next sync takes it to the center, which makes it a gold-standard case.
    /// Prints the saved dispute as one JSON line.
    Dispute {
        #[command(flatten)]
        db: DbArgs,
        /// The evaluation disputed (its id).
        #[arg(long)]
        evaluation: String,
        /// Who disputes: the staff code of the person scored by it.
        #[arg(long)]
        by: String,
        /// Why (1-2000 characters).
        #[arg(long)]
        reason: String,
    },
    /// Print the notices the center sent to this site as JSON lines (cursor, kind, to, also_to,
    /// text, published_at, body): with --to, only those for that person (addressed to them, naming
    /// them besides, or for everyone at the site), as their 我的质控 lists them.
    Notices {
        #[command(flatten)]
        db: DbArgs,
        /// A staff code.
        #[arg(long)]
        to: Option<String>,
    },
    /// Import a worklist (检查登记表) exported from the RIS, as CSV (UTF-8 or GB18030) or XLSX: each
    /// row an exam, merged with what HL7 and the app know of it. Rows already imported (from any
    /// file) change nothing. With a bad row nothing is written, unless --skip-bad.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// The column mapping (JSON); default: the bundled one (Chinese and English headers).
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Check every row and print what an import would do; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the good rows even when some are bad (the bad ones are listed).
        #[arg(long)]
        skip_bad: bool,
        /// The worklist: .csv or .xlsx (its first sheet).
        worklist: PathBuf,
    },
    /// Print what became of the report checks' proposals (报告预检), one JSON line per site, month
    /// (the site's local one, of the signing) and check: accepted, dismissed and still open in the
    /// QC panel, returned and signed anyway at the warning, and the precision in real use
    /// (accepted / (accepted + dismissed); null before any decision).
    PrecheckStats {
        #[command(flatten)]
        db: DbArgs,
        /// Only this month (YYYY-MM).
        #[arg(long)]
        month: Option<String>,
    },
    /// Print the outbox's pending, sent and rejected counts (and the rejected entries' reasons).
    Outbox {
        #[command(flatten)]
        db: DbArgs,
        /// Also list the rejected entries with the center's reasons.
        #[arg(long)]
        rejected: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum KeyIn {
    Auto,
    Keystore,
    File,
}

impl From<KeyIn> for KeyPlacement {
    fn from(k: KeyIn) -> KeyPlacement {
        match k {
            KeyIn::Auto => KeyPlacement::Auto,
            KeyIn::Keystore => KeyPlacement::Keystore,
            KeyIn::File => KeyPlacement::File,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum KeyPlace {
    Keystore,
    File,
}

/// `radqc local gold …`: a reader's part of the gold standard at this site.
#[derive(Subcommand)]
pub enum GoldCommand {
    /// Print a reader's open assignments as JSON lines: the center's task (blind: no original
    /// score; only a third reader gets the two reads, as 甲/乙 without names) and the read made
    /// here, if any.
    Tasks {
        #[command(flatten)]
        db: DbArgs,
        /// The reader's staff code.
        #[arg(long)]
        reader: String,
    },
    /// Save a reader's blind read of a case assigned to them (scored by the engine under the
    /// case's rubric version; sent with the next sync) and print it as one JSON line.
    Read {
        #[command(flatten)]
        db: DbArgs,
        /// The case's id (from `radqc local gold tasks`).
        #[arg(long = "case")]
        case_id: String,
        /// The reader's task in the case.
        #[arg(long, value_enum)]
        task: TaskArg,
        /// The reader's staff code.
        #[arg(long)]
        reader: String,
        /// The criteria found (unmet or severe), comma-separated, e.g. IQ-C1,IQ-C2; empty for none.
        #[arg(long, value_name = "C1,C2", default_value = "")]
        found: String,
        /// The criteria that do not apply, comma-separated.
        #[arg(long, value_name = "C1,C2", default_value = "")]
        na: String,
        /// A note to the read.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Print the final results applied here as JSON lines: each case's gold evaluation and the
    /// evaluation it superseded (the original stays in `radqc local export`).
    Finals {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// A reader's part in a gold-standard case, as `--task` names it.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TaskArg {
    First,
    Second,
    Third,
}

impl From<TaskArg> for GoldTask {
    fn from(t: TaskArg) -> GoldTask {
        match t {
            TaskArg::First => GoldTask::First,
            TaskArg::Second => GoldTask::Second,
            TaskArg::Third => GoldTask::Third,
        }
    }
}

/// A comma-separated list of criterion codes (empty pieces skipped), each checked, the flag named.
fn criteria(list: &str, flag: &str) -> Result<Vec<CriterionCode>> {
    list.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<CriterionCode>().with_context(|| flag.to_owned()))
        .collect()
}

/// Prints each value as one JSON line.
fn json_lines<T: serde::Serialize>(values: &[T]) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for v in values {
        serde_json::to_writer(&mut out, v)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Print where the key is: `keystore SERVICE ACCOUNT` or `file PATH`.
    Where {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Move the key to the OS keystore or into the key file, keeping the data (the same key):
    /// the new place is written and checked to open the store before the key file records it
    /// and the old place is removed. Audited in the store.
    Move {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_enum)]
        to: KeyPlace,
    },
}

pub fn run(command: LocalCommand) -> Result<ExitCode> {
    match command {
        LocalCommand::Init { db, site, key_in } => init(&db, &site, key_in.into()),
        LocalCommand::Key { command: KeyCommand::Where { db } } => key_where(&db),
        LocalCommand::Key { command: KeyCommand::Move { db, to } } => key_move(&db, to),
        LocalCommand::Save { db } => save(&db),
        LocalCommand::Export { db } => export(&db),
        LocalCommand::Import { db, mapping, dry_run, skip_bad, worklist } => {
            crate::worklist::import(&db, mapping.as_deref(), dry_run, skip_bad, &worklist)
        }
        LocalCommand::Outbox { db, rejected } => outbox(&db, rejected),
        LocalCommand::PrecheckStats { db, month } => precheck_stats(&db, month.as_deref()),
        LocalCommand::Gold { command } => gold(command),
        LocalCommand::Dispute { db, evaluation, by, reason } => {
            let by: StaffCode = by.parse().context("--by")?;
            let record = db.open()?.save_dispute(&evaluation, &by, &reason, Utc::now()).map_err(with_code)?;
            json_lines(&[record])?;
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Notices { db, to } => notices(&db, to.as_deref()),
        LocalCommand::TimeZone { db, zone } => time_zone(&db, zone.as_deref()),
        LocalCommand::Sharing { db, report_text, by } => {
            let mut store = db.open()?;
            if let Some(v) = report_text {
                let sharing = radqc_store::Sharing { report_text: matches!(v, OnOff::On) };
                store.set_sharing(sharing, &by, Utc::now()).map_err(with_code)?;
            }
            println!("{}", serde_json::to_string(&store.sharing().map_err(with_code)?)?);
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Grants { db } => {
            let grants = db.open()?.grants().map_err(with_code)?;
            println!("{}", serde_json::to_string_pretty(&grants)?);
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Enroll { db, center, code, pin, insecure_http, name } => {
            let args = radqc_sync::EnrollArgs {
                center: &center,
                code: &code,
                pin: pin.as_deref(),
                insecure_http,
                device_name: name.as_deref(),
            };
            enroll(&db, &args)
        }
    }
}

fn precheck_stats(db: &DbArgs, month: Option<&str>) -> Result<ExitCode> {
    if let Some(m) = month {
        m.parse::<radqc_domain::report::Month>().context("--month")?;
    }
    let store = db.open()?;
    let rows = store.precheck_stats(store.time_zone().map_err(with_code)?).map_err(with_code)?;
    let mut lines = Vec::new();
    for row in rows.into_iter().filter(|r| month.is_none_or(|m| r.month == m)) {
        let decided = row.accepted + row.dismissed;
        let precision = (decided > 0).then(|| row.accepted as f64 / decided as f64);
        let mut line = serde_json::to_value(&row)?;
        line["precision"] = serde_json::json!(precision);
        lines.push(line);
    }
    json_lines(&lines)?;
    Ok(ExitCode::SUCCESS)
}

fn gold(command: GoldCommand) -> Result<ExitCode> {
    match command {
        GoldCommand::Tasks { db, reader } => {
            let reader: StaffCode = reader.parse().context("--reader")?;
            json_lines(&db.open()?.gold_assignments(reader.as_str()).map_err(with_code)?)?;
        }
        GoldCommand::Read { db, case_id, task, reader, found, na, note } => {
            let read = NewGoldRead {
                case_id,
                task: task.into(),
                reader: reader.parse().context("--reader")?,
                findings: criteria(&found, "--found")?,
                not_applicable: criteria(&na, "--na")?,
                note,
            };
            let record = db.open()?.save_gold_read(&read, Utc::now()).map_err(with_code)?;
            json_lines(&[record])?;
        }
        GoldCommand::Finals { db } => json_lines(&db.open()?.gold_finals().map_err(with_code)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn notices(db: &DbArgs, to: Option<&str>) -> Result<ExitCode> {
    let items = db.open()?.feed_items(FeedKind::Notices).map_err(with_code)?;
    let mut lines = Vec::new();
    for item in items {
        // A body this build does not read names no one it knows: left out, as the app does.
        let Ok(body) = NoticeBody::parse(&item.body) else { continue };
        let for_them =
            to.is_none_or(|code| body.to().is_none_or(|t| t == code) || body.also_to().iter().any(|a| a == code));
        if for_them {
            lines.push(serde_json::json!({
                "cursor": item.cursor,
                "kind": body.kind(),
                "to": body.to(),
                "also_to": body.also_to(),
                "text": body.text(),
                "published_at": item.published_at,
                "body": item.body,
            }));
        }
    }
    json_lines(&lines)?;
    Ok(ExitCode::SUCCESS)
}

fn time_zone(db: &DbArgs, zone: Option<&str>) -> Result<ExitCode> {
    let mut store = db.open()?;
    if let Some(z) = zone {
        let zone: radqc_domain::SiteZone = z.parse().context("ZONE")?;
        store.set_meta_value("time_zone", zone.name(), Utc::now())?;
    }
    println!("{}", store.time_zone()?);
    Ok(ExitCode::SUCCESS)
}

fn init(db: &DbArgs, site: &str, placement: KeyPlacement) -> Result<ExitCode> {
    let site: SiteCode = site.parse().context("--site")?;
    let key_path = db.key_path();
    let loaded = Key::for_new_store(&key_path, &db.db, placement).map_err(with_code)?;
    if let Some(note) = &loaded.note {
        eprintln!("radqc local init: {note}");
    }
    let store = Store::create(&db.db, &loaded.key, &site, Utc::now())?;
    let place = match &loaded.source {
        KeySource::Keystore(entry) => format!("key in the OS keystore ({entry}), named by {}", key_path.display()),
        KeySource::File(path) => format!("key file {}", path.display()),
    };
    println!("created {} for site {} (device {}); {place}", db.db.display(), store.site(), store.device_id());
    Ok(ExitCode::SUCCESS)
}

fn key_where(db: &DbArgs) -> Result<ExitCode> {
    match radqc_store::key_source(&db.key_path()).map_err(with_code)? {
        KeySource::Keystore(e) => println!("keystore {} {}", e.service, e.account),
        KeySource::File(path) => println!("file {}", path.display()),
    }
    Ok(ExitCode::SUCCESS)
}

fn key_move(db: &DbArgs, to: KeyPlace) -> Result<ExitCode> {
    let to = match to {
        KeyPlace::Keystore => KeyPlacement::Keystore,
        KeyPlace::File => KeyPlacement::File,
    };
    let moved = radqc_store::move_key(&db.db, &db.key_path(), to, &actor(), Utc::now()).map_err(with_code)?;
    if moved.already {
        println!("the key is already in {}; nothing changed", moved.to);
    } else {
        println!("moved the key of {} from {} to {}; the data is unchanged", db.db.display(), moved.from, moved.to);
    }
    if let Some(note) = &moved.note {
        eprintln!("radqc local key move: {note}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn save(db: &DbArgs) -> Result<ExitCode> {
    let mut store = db.open()?;
    let stdout = std::io::stdout();
    let mut failed = 0usize;
    let mut stdin = std::io::stdin().lock();
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        if stdin.read_until(b'\n', &mut bytes).with_context(|| format!("cannot read line {number} of stdin"))? == 0 {
            break;
        }
        // A line that is not UTF-8 is a bad line like any other: reported, and the next goes on.
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| format!("not UTF-8 text (byte {} of the line is invalid)", e.valid_up_to() + 1));
        let line = match text {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => line,
            Err(e) => {
                failed += 1;
                eprintln!("radqc local save: line {number}: {e}");
                continue;
            }
        };
        let saved = serde_json::from_str::<NewEvaluation>(line)
            .map_err(|e| e.to_string())
            .and_then(|e| store.save_evaluation(&e, Utc::now()).map_err(|e| format!("{} ({})", e, e.code())));
        match saved {
            Ok(record) => {
                // Printed only after the commit returned: a caller may trust every id it reads.
                let mut out = stdout.lock();
                writeln!(out, "{}", record.id).and_then(|_| out.flush()).context("cannot write to stdout")?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("radqc local save: line {number}: {e}");
            }
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn export(db: &DbArgs) -> Result<ExitCode> {
    // On a full disk the store cannot be opened for writing; reading it still works.
    let (store, full) = match db.open_store() {
        Ok(store) => (store, false),
        Err(StoreError::DiskFull) => {
            (Store::open_read_only(&db.db, &Key::from_file(&db.key_path())?).map_err(with_code)?, true)
        }
        Err(e) => return Err(with_code(e)),
    };
    let evaluations = store.evaluations()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for e in &evaluations {
        serde_json::to_writer(&mut out, e)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if full {
        eprintln!(
            "radqc local export: the disk is full (DISK_FULL): exported read-only; this export is not in the audit log"
        );
    } else {
        store.audit(&actor(), "exported", None, Some(&format!("{} evaluations", evaluations.len())), Utc::now())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn outbox(db: &DbArgs, rejected: bool) -> Result<ExitCode> {
    let store = db.open()?;
    println!("{}", serde_json::to_string(&store.outbox_counts()?)?);
    if rejected {
        for e in store.rejected_outbox()? {
            println!("{}", serde_json::json!({"seq": e.seq, "kind": e.kind, "id": e.ref_id, "reason": e.reason}));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a person reads when a sync found the store to be a copy (stdout stays one JSON line).
fn copy_words(c: &radqc_sync::CopyRecovery) -> String {
    match c.why.as_str() {
        "restored" => format!(
            "radqc sync: 本库是从备份恢复的副本，已作为新设备 {} 继续同步（原设备 {}），并从中心取回 {} 条评分、{} 条检查记录，没有评分丢失。\n\
             radqc sync: this store was restored from a backup; it now syncs as new device {} (was {}) and took back {} evaluations and {} exam events from the center; nothing was lost.",
            c.now, c.was, c.restored_evaluations, c.restored_events, c.now, c.was, c.restored_evaluations, c.restored_events
        ),
        _ => format!(
            "radqc sync: 本库是一个副本（从备份恢复，或复制自另一台工作站），它用过的序号在中心已有别的记录；已作为新设备 {} 继续同步（原设备 {}），并从中心取回 {} 条评分、{} 条检查记录，没有评分丢失。\n\
             radqc sync: this store is a copy (restored from a backup, or copied from another workstation): the center held other records under numbers it used; it now syncs as new device {} (was {}) and took back {} evaluations and {} exam events from the center; nothing was lost.",
            c.now, c.was, c.restored_evaluations, c.restored_events, c.now, c.was, c.restored_evaluations, c.restored_events
        ),
    }
}

/// Who is at the command line, for the audit log.
fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn enroll(db: &DbArgs, args: &radqc_sync::EnrollArgs<'_>) -> Result<ExitCode> {
    let mut store = db.open()?;
    let (resp, trust) = runtime()?.block_on(radqc_sync::enroll(&mut store, args, Utc::now())).map_err(|e| match e {
        radqc_sync::SyncError::Trust { .. } => anyhow::anyhow!("{}\nradqc: {e}", e.message_zh()),
        other => other.into(),
    })?;
    let center = store.center_link()?.map(|l| l.url).unwrap_or_default();
    let how = match (trust, store.center_link()?.and_then(|l| l.pin)) {
        (_, Some(pin)) => format!("its key pinned as {pin}"),
        (radqc_store::CenterTrust::InsecureHttp, None) => "over plain HTTP (insecure, as asked)".to_owned(),
        _ => "over plain HTTP on this machine".to_owned(),
    };
    println!("enrolled device {} at site {} with {center}, {how}", resp.device_id, resp.site);
    if trust == radqc_store::CenterTrust::InsecureHttp {
        eprintln!(
            "radqc local enroll: 警告：与中心的连接是明文 HTTP，途中任何人都能读取或篡改所传内容。\n\
             radqc local enroll: warning: the link to the center is plain HTTP; anyone on the way can read or change what is sent."
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sync(once: bool, db: &DbArgs, attempts: u32) -> Result<ExitCode> {
    anyhow::ensure!(once, "only `radqc sync --once` exists: the desktop app runs the continuous loop");
    let mut store = db.open()?;
    let http = radqc_sync::http_client();
    let mut seed = std::process::id() as u64 ^ Utc::now().timestamp_subsec_nanos() as u64;
    let mut jitter = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let outcome = runtime()?.block_on(radqc_sync::sync_with_retries(
        &mut store,
        &http,
        attempts.max(1),
        radqc_sync::Backoff::default(),
        &mut jitter,
    ));
    println!("{}", serde_json::to_string(&outcome)?);
    if let radqc_sync::Outcome::Synced { copy: Some(c), .. } = &outcome {
        eprintln!("{}", copy_words(c));
    }
    Ok(match outcome {
        radqc_sync::Outcome::Synced { .. } => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
