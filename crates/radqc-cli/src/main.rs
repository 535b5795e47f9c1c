//! `radqc`: the headless command line of RadQC. Each subcommand lives in its own module.

mod center_cmd;
mod gate_cmd;
mod hl7_cmd;
mod local_cmd;
mod precheck_cmd;
mod report_cmd;
mod rubric_cmd;
mod score_cmd;
mod worklist;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "radqc", version, about = "RadQC 影像质控: imaging and report quality control")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score evaluations read as JSON from stdin (one object or an array); print the results as JSON.
    Score {
        /// Score with this rubric file instead of the bundled one.
        #[arg(long, value_name = "FILE")]
        rubric: Option<PathBuf>,
    },
    /// Check or show a rubric.
    Rubric {
        #[command(subcommand)]
        command: rubric_cmd::RubricCommand,
    },
    /// The local store: create it, save evaluations into it, export them, inspect the outbox.
    Local {
        #[command(subcommand)]
        command: local_cmd::LocalCommand,
    },
    /// The regional center: serve it, manage sites, devices and staff, publish, export.
    Center {
        #[command(subcommand)]
        command: center_cmd::CenterCommand,
    },
    /// Ask the RadQC app before committing a signature (for workstations that can only run a
    /// command): reads `{"exam": {...}, "signer": "D1"}` on stdin, waits for the answer, exits 0
    /// for go, 3 for blocked, 4 when the app quit while holding it, 5 without the gate token.
    Gate {
        /// The app's gate port on this machine.
        #[arg(long, default_value_t = 47801)]
        port: u16,
        /// What to answer when the app is not running: allow (default: reporting must never
        /// stop because QC is down) or block.
        #[arg(long, value_enum, default_value_t = gate_cmd::WhenDown::Allow)]
        when_app_down: gate_cmd::WhenDown,
        /// The app's gate token (the app makes it at first start, readable by this OS user only).
        /// Default: `gate.token` in the desktop app's data folder (on Linux
        /// `~/.local/share/cn.radqc.desktop`); pass the app's `--data-dir` folder's when it has one.
        #[arg(long, env = "RADQC_GATE_TOKEN_FILE")]
        token_file: Option<std::path::PathBuf>,
    },
    /// The hospital's RIS over HL7 v2 / MLLP: listen (each message stored before its ACK), and the
    /// field mapping in force.
    Hl7 {
        #[command(subcommand)]
        command: hl7_cmd::Hl7Command,
    },
    /// Check report texts (Chinese radiology reports) for side errors, organs of the other sex or
    /// removed, a follow-up without comparison, an empty impression and a positive finding the
    /// impression misses. Reads one report per line as JSON (`modality`, `exam_item`,
    /// `patient_sex` M/F, `patient_age`, `history`, `is_followup`, `prior_available`, `findings`,
    /// `impression`); prints `{"proposals": [...]}` per line.
    Precheck {
        /// Use this lexicon file instead of the bundled `assets/precheck.toml`.
        #[arg(long, value_name = "FILE")]
        lexicon: Option<PathBuf>,
    },
    /// The standard's indicators and figures (5.1, figures 2-7, 6.5) for a period.
    Report(report_cmd::ReportArgs),
    /// Sync a local store with the center it is enrolled with.
    Sync {
        /// Run one pass (with retries on network errors) and exit.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        db: local_cmd::DbArgs,
        /// Attempts on network errors and 5xx before giving up.
        #[arg(long, default_value_t = 3)]
        attempts: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Score { rubric } => score_cmd::run(rubric.as_deref()),
        Command::Rubric { command } => rubric_cmd::run(command),
        Command::Local { command } => local_cmd::run(command),
        Command::Center { command } => center_cmd::run(command),
        Command::Gate { port, when_app_down, token_file } => gate_cmd::run(port, when_app_down, token_file),
        Command::Hl7 { command } => hl7_cmd::run(command),
        Command::Report(args) => report_cmd::run(args),
        Command::Precheck { lexicon } => precheck_cmd::run(lexicon.as_deref()),
        Command::Sync { once, db, attempts } => local_cmd::sync(once, &db, attempts),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("radqc: {e:#}");
            ExitCode::FAILURE
        }
    }
}
