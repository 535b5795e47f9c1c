//! `radqc local …`: the local store from the command line, for scripting, imports and support.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand};
use radqc_domain::SiteCode;
use radqc_store::{default_key_path, Key, NewEvaluation, Store};

#[derive(Args)]
pub struct DbArgs {
    /// The store's file.
    #[arg(long, value_name = "PATH")]
    db: PathBuf,
    /// The key file (64 hex characters); default: the database path plus `.key`.
    #[arg(long, value_name = "PATH", env = "RADQC_KEY_FILE")]
    key_file: Option<PathBuf>,
}

impl DbArgs {
    fn key_path(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| default_key_path(&self.db))
    }
    pub fn open(&self) -> Result<Store> {
        let key = Key::from_file(&self.key_path())?;
        Ok(Store::open(&self.db, &key)?)
    }
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
        /// The one-time enrollment code the center's administrator gave.
        #[arg(long)]
        code: String,
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
    /// Print the outbox's pending, sent and rejected counts (and the rejected entries' reasons).
    Outbox {
        #[command(flatten)]
        db: DbArgs,
        /// Also list the rejected entries with the center's reasons.
        #[arg(long)]
        rejected: bool,
    },
}

pub fn run(command: LocalCommand) -> Result<ExitCode> {
    match command {
        LocalCommand::Init { db, site } => init(&db, &site),
        LocalCommand::Save { db } => save(&db),
        LocalCommand::Export { db } => export(&db),
        LocalCommand::Outbox { db, rejected } => outbox(&db, rejected),
        LocalCommand::TimeZone { db, zone } => time_zone(&db, zone.as_deref()),
        LocalCommand::Enroll { db, center, code, name } => enroll(&db, &center, &code, name.as_deref()),
    }
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

fn init(db: &DbArgs, site: &str) -> Result<ExitCode> {
    let site: SiteCode = site.parse().context("--site")?;
    let key_path = db.key_path();
    let key = Key::load_or_create(&key_path)?;
    let store = Store::create(&db.db, &key, &site, Utc::now())?;
    println!(
        "created {} for site {} (device {}); key file {}",
        db.db.display(),
        store.site(),
        store.device_id(),
        key_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn save(db: &DbArgs) -> Result<ExitCode> {
    let mut store = db.open()?;
    let stdout = std::io::stdout();
    let mut failed = 0usize;
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("cannot read line {number} of stdin"))?;
        if line.trim().is_empty() {
            continue;
        }
        let saved = serde_json::from_str::<NewEvaluation>(&line)
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
    let store = db.open()?;
    let evaluations = store.evaluations()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for e in &evaluations {
        serde_json::to_writer(&mut out, e)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    store.audit(&actor(), "exported", None, Some(&format!("{} evaluations", evaluations.len())), Utc::now())?;
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

/// Who is at the command line, for the audit log.
fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn enroll(db: &DbArgs, center: &str, code: &str, name: Option<&str>) -> Result<ExitCode> {
    let mut store = db.open()?;
    let http = radqc_sync::http_client();
    let resp = runtime()?.block_on(radqc_sync::enroll(&mut store, &http, center, code, name, Utc::now()))?;
    println!("enrolled device {} at site {} with {center}", resp.device_id, resp.site);
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
    Ok(match outcome {
        radqc_sync::Outcome::Synced { .. } => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
