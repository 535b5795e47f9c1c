//! `radqc hl7 …`: the hospital's RIS connected over HL7 v2 / MLLP. `listen` keeps each message
//! in the local store before answering it (`AA` only for a message on disk, `AE`/`AR` with the
//! reason); `mapping` prints the field mapping in force (the default, or a hospital's file,
//! checked).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use chrono::Utc;
use clap::Subcommand;
use radqc_hl7::{Charset, ErrorCondition, Mapping, Refusal, Responder};
use radqc_store::Hl7Intake;

use crate::local_cmd::DbArgs;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CharsetArg {
    Utf8,
    Gb18030,
}

#[derive(Subcommand)]
pub enum Hl7Command {
    /// Take HL7 v2 messages over MLLP (orders, status, results, patient updates and merges) into
    /// the store; each is on disk before its ACK. Prints `listening on ADDR` once bound.
    Listen {
        #[command(flatten)]
        db: DbArgs,
        /// Address and port (2575 is HL7's registered port).
        #[arg(long, default_value = "127.0.0.1:2575")]
        listen: String,
        /// The hospital's field mapping (JSON; `"extends": "default"` to name only what differs).
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// The character set of a message whose MSH-18 names none.
        #[arg(long, value_enum, default_value = "utf8")]
        charset: CharsetArg,
        /// MSH-4 of the answers (the receiving facility); default: the store's site.
        #[arg(long)]
        facility: Option<String>,
    },
    /// Print the messages the store kept (sender, control id, type, answer, how often seen) as
    /// JSON lines, without their content.
    Messages {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the staff codes the RIS named on exams that are not in the site's roster (the
    /// roster the center published last), by role, with how many exams name each: for the QC
    /// officer to map; they are kept as sent, never dropped nor made into people.
    Staff {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Map a staff code the RIS sends to a member of the site's roster: the exams naming the code
    /// name the member from now on (the messages keep the code as sent) and go to the center
    /// again. Prints how many exams changed.
    MapStaff {
        #[command(flatten)]
        db: DbArgs,
        /// The code as the RIS sends it (as `radqc hl7 staff` lists it).
        code: String,
        /// The roster member's code.
        staff: String,
        /// Who maps it (the QC officer's staff code), for the audit log.
        #[arg(long)]
        by: String,
    },
    /// Print the staff codes mapped so far as JSON lines.
    Aliases {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the field mapping in force as JSON (the default, or FILE after checking it).
    Mapping {
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

pub fn run(command: Hl7Command) -> Result<ExitCode> {
    match command {
        Hl7Command::Messages { db } => {
            let store = db.open()?;
            let mut out = std::io::stdout().lock();
            for m in store.hl7_messages().map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))? {
                writeln!(out, "{}", serde_json::to_string(&m)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Hl7Command::Staff { db } => {
            let store = db.open()?;
            let roster = roster_codes(&store)?;
            let mut out = std::io::stdout().lock();
            for (role, code, exams) in
                store.unknown_staff(&roster).map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?
            {
                writeln!(out, "{}", serde_json::json!({"role": role, "code": code, "exams": exams}))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Hl7Command::MapStaff { db, code, staff, by } => {
            let mut store = db.open()?;
            let roster = roster_codes(&store)?;
            anyhow::ensure!(
                !roster.is_empty(),
                "the site has no roster yet: sync with the center first (`radqc sync --once`), then map"
            );
            let changed = store
                .map_staff(&code, &staff, &roster, &by, Utc::now())
                .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
            println!("{}", serde_json::json!({"code": code.trim(), "staff": staff, "exams_changed": changed}));
            Ok(ExitCode::SUCCESS)
        }
        Hl7Command::Aliases { db } => {
            let store = db.open()?;
            let mut out = std::io::stdout().lock();
            for a in store.staff_aliases().map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))? {
                writeln!(out, "{}", serde_json::to_string(&a)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Hl7Command::Mapping { file } => {
            let mapping = load_mapping(file.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&mapping)?);
            Ok(ExitCode::SUCCESS)
        }
        Hl7Command::Listen { db, listen, mapping, charset, facility } => {
            let mapping = load_mapping(mapping.as_deref())?;
            let store = db.open()?;
            store.time_zone().map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
            let responder = Responder {
                application: "RADQC".to_owned(),
                facility: facility.unwrap_or_else(|| store.site().to_string()),
            };
            let charset = match charset {
                CharsetArg::Utf8 => Charset::Utf8,
                CharsetArg::Gb18030 => Charset::Gb18030,
            };
            let listener = TcpListener::bind(&listen).with_context(|| format!("cannot listen on {listen}"))?;
            println!("listening on {}", listener.local_addr()?);
            std::io::stdout().flush()?;
            let intake = Hl7Intake { mapping, unnamed: charset, responder: responder.clone() };
            let store = Mutex::new(store);
            let answer = move |payload: &[u8]| -> Vec<u8> {
                match store.lock() {
                    Ok(mut store) => store.answer_hl7(payload, &intake, Utc::now()),
                    // A thread panicked holding the store: refuse, the sender keeps the message.
                    Err(_) => {
                        let refusal =
                            Refusal::error(ErrorCondition::ApplicationInternalError, None, "the store is unavailable");
                        radqc_hl7::ack(
                            None,
                            payload,
                            Some(&refusal),
                            &intake.responder,
                            Utc::now(),
                            &radqc_hl7::listen::answer_id(),
                        )
                    }
                }
            };
            radqc_hl7::listen::serve_forever(listener, responder, Arc::new(answer));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The codes of the site's roster as the center published it last (none before the first sync).
fn roster_codes(store: &radqc_store::Store) -> Result<Vec<String>> {
    let site = store.site().to_string();
    let published =
        store.feed_items(radqc_protocol::FeedKind::Roster).map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
    Ok(published
        .iter()
        .rev()
        .find(|i| i.site.as_deref() == Some(site.as_str()))
        .map(|i| serde_json::from_value::<radqc_protocol::RosterBody>(i.body.clone()))
        .transpose()
        .context("the roster the center published does not read")?
        .map(|b| b.staff.into_iter().filter(|m| m.site == site).map(|m| m.code).collect())
        .unwrap_or_default())
}

fn load_mapping(file: Option<&Path>) -> Result<Mapping> {
    match file {
        None => Ok(Mapping::bundled()),
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Mapping::from_json(&text, &path.display().to_string())?)
        }
    }
}
