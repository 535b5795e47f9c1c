//! `radqc center …`: serve the regional center and administer it (sites, devices, staff, the
//! publications: rubric, grants, sampling rules; export, stats). Admin commands work on the
//! database directly.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand};
use radqc_center::{AppState, Db};
use radqc_protocol::{FeedKind, StaffMember};

#[derive(Args, Clone)]
pub struct CenterDb {
    /// The center's SQLite database (the embedded default).
    #[arg(long, value_name = "PATH", default_value = "center.db", conflicts_with = "database_url")]
    db: PathBuf,
    /// A PostgreSQL database instead, e.g. postgres://radqc@127.0.0.1:5432/radqc
    #[arg(long, value_name = "URL", env = "RADQC_DATABASE_URL")]
    database_url: Option<String>,
}

impl CenterDb {
    async fn open(&self) -> Result<Db> {
        Ok(match &self.database_url {
            Some(url) => Db::connect_postgres(url).await.context("cannot open the PostgreSQL database")?,
            None => Db::open_sqlite(&self.db).with_context(|| format!("cannot open {}", self.db.display()))?,
        })
    }
}

// Parsed once per run: the size of the report's variant (its filters) does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum CenterCommand {
    /// Serve the center's HTTP API.
    Serve {
        #[command(flatten)]
        db: CenterDb,
        /// Address to listen on, e.g. 127.0.0.1:8443 (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// PEM certificate chain: serve HTTPS (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Pushes served at once; more answer 503 CENTER_BUSY with Retry-After (devices retry).
        #[arg(long, default_value_t = radqc_center::http::DEFAULT_MAX_PUSHES, value_parser = clap::value_parser!(u32).range(1..=4096))]
        max_pushes: u32,
    },
    /// Sites (a hospital department or a clinic).
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Devices: enrollment codes and revocation.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// The staff roster with roles (published to the site).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Publish a rubric version to every site.
    PublishRubric {
        #[command(flatten)]
        db: CenterDb,
        file: PathBuf,
    },
    /// Publish a grants document (a JSON file like assets/grants.json: which roles score which
    /// items, see a whole site, read the region, are named on notices) to every site; checked
    /// whole first.
    PublishGrants {
        #[command(flatten)]
        db: CenterDb,
        file: PathBuf,
    },
    /// Publish sampling rules (a JSON file) to one site or, without --site, to every site.
    PublishSampling {
        #[command(flatten)]
        db: CenterDb,
        file: PathBuf,
        #[arg(long)]
        site: Option<String>,
    },
    /// Send a notice to a site's staff.
    Notice {
        #[command(flatten)]
        db: CenterDb,
        #[arg(long)]
        site: String,
        /// The staff member it is for (everyone at the site when absent).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        text: String,
    },
    /// Every stored evaluation and exam event as JSON lines, with its site and device.
    Export {
        #[command(flatten)]
        db: CenterDb,
    },
    /// The month's indicators and figures for a site, or (without --site) the whole region.
    Report {
        #[command(flatten)]
        db: CenterDb,
        #[command(flatten)]
        period: crate::report_cmd::PeriodArgs,
        /// One site (default: the whole region).
        #[arg(long)]
        site: Option<String>,
        #[command(flatten)]
        filter: crate::report_cmd::FilterArgs,
        #[arg(long, value_enum, default_value_t = crate::report_cmd::Format::Json)]
        format: crate::report_cmd::Format,
        /// Write to this file instead of stdout (required for xlsx and pdf).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pdf: crate::report_cmd::PdfArgs,
    },
    /// Monitoring notices (7.1): every failed evaluation, open until its correction is recorded.
    Notices {
        #[command(flatten)]
        db: CenterDb,
        #[arg(long)]
        site: Option<String>,
        /// Only those of this department.
        #[arg(long)]
        department: Option<String>,
        /// Only those still open.
        #[arg(long)]
        open: bool,
        /// Only open notices older than this many days.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i64).range(0..))]
        overdue_days: Option<i64>,
    },
    /// The gold standard (7.3.1): cases put in by hand or drawn, the settings, settling.
    Gold {
        #[command(subcommand)]
        command: GoldCommand,
    },
    /// Counts per site and device.
    Stats {
        #[command(flatten)]
        db: CenterDb,
    },
    /// Recomputes the report rollups from the stored exams and evaluations (they are kept
    /// current as data arrives; this is for repairs and checks).
    RebuildRollups {
        #[command(flatten)]
        db: CenterDb,
    },
}

#[derive(Subcommand)]
pub enum GoldCommand {
    /// Put an evaluation into the gold standard by hand: two senior readers are assigned.
    Add {
        #[command(flatten)]
        db: CenterDb,
        /// The evaluation's id.
        #[arg(long)]
        evaluation: String,
    },
    /// Put a random share of a period's current evaluations into the gold standard (keyed by
    /// --seed: the same seed draws the same evaluations).
    Draw {
        #[command(flatten)]
        db: CenterDb,
        /// First month, YYYY-MM.
        #[arg(long)]
        from: String,
        /// Last month, YYYY-MM (default: --from).
        #[arg(long)]
        to: Option<String>,
        /// The share drawn, in (0, 1].
        #[arg(long)]
        share: f64,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        modality: Option<String>,
        #[arg(long)]
        item: Option<String>,
        /// Only failed evaluations.
        #[arg(long)]
        failed_only: bool,
        #[arg(long)]
        max: Option<u32>,
        #[arg(long)]
        seed: Option<String>,
    },
    /// Every case as JSON lines, whole (readers, reads, original, result).
    List {
        #[command(flatten)]
        db: CenterDb,
        /// Only cases in this state: reading, adjudicating, final.
        #[arg(long)]
        state: Option<String>,
    },
    /// One case, whole.
    Show {
        #[command(flatten)]
        db: CenterDb,
        id: String,
    },
    /// Show or set the region's settings (published to every site).
    Settings {
        #[command(flatten)]
        db: CenterDb,
        /// Days after a failed evaluation during which the person scored may dispute it.
        #[arg(long)]
        dispute_days: Option<u32>,
        /// Whether readers see the exam's staff (the person scored): yes or no (default no: blind).
        #[arg(long, value_parser = clap::builder::BoolishValueParser::new())]
        show_names: Option<bool>,
    },
    /// Finish decided cases (push their gold results) and assign readers to tasks left waiting.
    Settle {
        #[command(flatten)]
        db: CenterDb,
    },
}

#[derive(Subcommand)]
pub enum SiteCommand {
    Add {
        #[command(flatten)]
        db: CenterDb,
        code: String,
        #[arg(long)]
        name: String,
        /// The site's time zone (its months and days), an IANA name.
        #[arg(long, default_value = "Asia/Shanghai")]
        time_zone: String,
    },
    /// Set a site's time zone (an IANA name, e.g. Asia/Urumqi): the region's reports count its
    /// months in it from now on (the rollups are rebuilt), and the site receives it with its
    /// roster at its next sync.
    TimeZone {
        #[command(flatten)]
        db: CenterDb,
        code: String,
        zone: String,
    },
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Make a one-time enrollment code for a site; prints the code, or with --tls-cert the
    /// enrollment string `CODE#sha256/…` (the code and the pin of the center's key) to give the
    /// clinic whole.
    Enroll {
        #[command(flatten)]
        db: CenterDb,
        #[arg(long)]
        site: String,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 72)]
        hours: i64,
        /// The certificate the center serves HTTPS with (its --tls-cert file), or a CA
        /// certificate it sends in its chain: the pin is of the first certificate's key.
        #[arg(long, value_name = "PEM")]
        tls_cert: Option<PathBuf>,
    },
    /// Revoke a device's token: its sync stops until it enrolls again.
    Revoke {
        #[command(flatten)]
        db: CenterDb,
        device: String,
    },
}

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Add or update a staff member.
    Add {
        #[command(flatten)]
        db: CenterDb,
        #[arg(long)]
        site: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// A role (repeat for several): technologist, reporting_doctor, auditing_doctor,
        /// qc_officer, department_head, senior_radiologist, center_admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        inactive: bool,
    },
    /// Set or reset a staff member's secret (password or PIN), read from standard input (one
    /// line) or --secret-file; only its argon2id verifier is kept and published to the site. The
    /// person chooses their own at their next sign-in unless --permanent.
    Password {
        #[command(flatten)]
        db: CenterDb,
        #[arg(long)]
        site: String,
        #[arg(long)]
        code: String,
        /// A file whose first line is the secret (else standard input).
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
        /// Do not ask the person to change it at their next sign-in.
        #[arg(long)]
        permanent: bool,
    },
    /// Set the region's secret policy (published with every site's roster); with no option,
    /// print it.
    Policy {
        #[command(flatten)]
        db: CenterDb,
        /// The fewest characters a secret has (4-64).
        #[arg(long)]
        min_length: Option<u32>,
        /// Allow secrets of digits only (PINs): true or false.
        #[arg(long)]
        allow_digits_only: Option<bool>,
        /// Days a secret is good for (0: no expiry).
        #[arg(long)]
        expiry_days: Option<u32>,
        /// Wrong secrets in a row that lock a person at a workstation.
        #[arg(long)]
        max_attempts: Option<u32>,
        /// Minutes the lock lasts.
        #[arg(long)]
        lockout_minutes: Option<u32>,
    },
    /// Issue an API token for a staff member (reads by role); prints it once.
    Token {
        #[command(flatten)]
        db: CenterDb,
        #[arg(long)]
        site: String,
        #[arg(long)]
        code: String,
    },
}

/// A secret from a file's first line or standard input's, without its line ending; never echoed.
fn read_secret(file: Option<&std::path::Path>) -> Result<String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the secret from standard input")?;
            line
        }
    };
    let secret = text.lines().next().unwrap_or("").to_owned();
    anyhow::ensure!(!secret.is_empty(), "no secret given (one line on standard input, or --secret-file)");
    Ok(secret)
}

/// The pin of a PEM certificate file's first certificate.
fn pin_of(path: &std::path::Path) -> Result<radqc_sync::Pin> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    radqc_sync::Pin::of_pem(&pem).with_context(|| format!("{} has no certificate to pin", path.display()))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

pub fn run(command: CenterCommand) -> Result<ExitCode> {
    runtime()?.block_on(run_async(command))
}

async fn run_async(command: CenterCommand) -> Result<ExitCode> {
    match command {
        CenterCommand::Serve { db, listen, tls_cert, tls_key, max_pushes } => {
            let db = db.open().await?;
            let state = AppState::new(db).await?.with_max_pushes(max_pushes as usize);
            // Cases a stopped center decided but did not finish are finished now.
            let rubrics = radqc_center::http::published_rubric_set(&state.db).await?;
            let grants = state.grants().await?;
            radqc_center::gold::settle(&state.db, &rubrics, &grants, Utc::now()).await?;
            let listener =
                std::net::TcpListener::bind(&listen).with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            let tls = tls_cert.zip(tls_key).map(|(cert_pem, key_pem)| radqc_center::Tls { cert_pem, key_pem });
            let scheme = if tls.is_some() { "https" } else { "http" };
            let pin = tls.as_ref().map(|t| pin_of(&t.cert_pem)).transpose()?;
            // The first line tells scripts and tests where the center listens.
            println!("listening on {scheme}://{addr}");
            if let Some(pin) = pin {
                eprintln!("center key pin {pin} (clinics enroll with it: radqc center device enroll --tls-cert)");
            }
            std::io::stdout().flush()?;
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            radqc_center::serve(listener, state, tls, shutdown).await?;
        }
        CenterCommand::Site { command: SiteCommand::Add { db, code, name, time_zone } } => {
            code.parse::<radqc_domain::SiteCode>()?;
            let zone: radqc_domain::SiteZone = time_zone.parse().context("--time-zone")?;
            let db = db.open().await?;
            db.add_site(&code, &name, Utc::now()).await?;
            // The site learns its zone from its first sync on (published with its roster).
            radqc_center::set_site_zone(&db, &code, zone).await?;
            println!("added site {code} ({zone})");
        }
        CenterCommand::Site { command: SiteCommand::TimeZone { db, code, zone } } => {
            let zone: radqc_domain::SiteZone = zone.parse().context("ZONE")?;
            radqc_center::set_site_zone(&db.open().await?, &code, zone).await?;
            println!("site {code} is in {zone}; rollups rebuilt and the zone published with the roster");
        }
        CenterCommand::Device { command: DeviceCommand::Enroll { db, site, hours, tls_cert } } => {
            anyhow::ensure!((1..=24 * 90).contains(&hours), "--hours must be 1 to 2160");
            // The pin first: a certificate that does not read makes no code.
            let pin = tls_cert.as_deref().map(pin_of).transpose()?;
            let code = radqc_center::http::new_enrollment_code(&db.open().await?, &site, hours).await?;
            match pin {
                Some(pin) => {
                    println!("{code}#{pin}");
                    eprintln!(
                        "一次性注册码 {code}，中心证书指纹 {pin}：请把整行交给站点（radqc local enroll --code '{code}#{pin}'）。\n\
                         one-time code {code}, center key pin {pin}: give the clinic the whole line."
                    );
                }
                None => println!("{code}"),
            }
        }
        CenterCommand::Device { command: DeviceCommand::Revoke { db, device } } => {
            db.open().await?.revoke_device(&device).await?;
            println!("revoked device {device}");
        }
        CenterCommand::Staff { command: StaffCommand::Add { db, site, code, name, roles, inactive } } => {
            let member = StaffMember { site, code, name, roles, active: !inactive };
            radqc_center::put_staff(&db.open().await?, &member).await?;
            println!("saved staff {} at site {} and published the roster", member.code, member.site);
        }
        CenterCommand::Staff { command: StaffCommand::Password { db, site, code, secret_file, permanent } } => {
            let secret = read_secret(secret_file.as_deref())?;
            let db = db.open().await?;
            let version =
                radqc_center::staff_secrets::set_secret(&db, &site, &code, &secret, !permanent, "cli", Utc::now())
                    .await?;
            let then = if permanent { "" } else { "; to be changed at the next sign-in" };
            println!("set the secret of {code} at site {site} (version {version}{then}) and published the roster");
        }
        CenterCommand::Staff {
            command:
                StaffCommand::Policy { db, min_length, allow_digits_only, expiry_days, max_attempts, lockout_minutes },
        } => {
            let db = db.open().await?;
            let mut policy = radqc_center::staff_secrets::policy(&db).await?;
            let changes = [min_length, expiry_days, max_attempts, lockout_minutes].iter().any(Option::is_some)
                || allow_digits_only.is_some();
            if changes {
                policy.min_length = min_length.unwrap_or(policy.min_length);
                policy.allow_digits_only = allow_digits_only.unwrap_or(policy.allow_digits_only);
                policy.expiry_days = expiry_days.unwrap_or(policy.expiry_days);
                policy.max_attempts = max_attempts.unwrap_or(policy.max_attempts);
                policy.lockout_minutes = lockout_minutes.unwrap_or(policy.lockout_minutes);
                radqc_center::staff_secrets::set_policy(&db, policy).await?;
            }
            println!("{}", serde_json::to_string(&policy)?);
        }
        CenterCommand::Staff { command: StaffCommand::Token { db, site, code } } => {
            let token = radqc_center::secret::new_token();
            db.open().await?.issue_person_token(&site, &code, &radqc_center::secret::hash(&token), Utc::now()).await?;
            println!("{token}");
        }
        CenterCommand::PublishRubric { db, file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (version, cursor) =
                radqc_center::publish_rubric(&db.open().await?, &text, &file.display().to_string()).await?;
            println!("published rubric {version} (feed cursor {cursor})");
        }
        CenterCommand::PublishGrants { db, file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (version, cursor) =
                radqc_center::publish_grants(&db.open().await?, &text, &file.display().to_string()).await?;
            println!("published grants {version} (feed cursor {cursor})");
        }
        CenterCommand::PublishSampling { db, file, site } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let body: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let cursor = db.open().await?.publish(FeedKind::Sampling, site.as_deref(), &body, Utc::now()).await?;
            println!("published sampling rules (feed cursor {cursor})");
        }
        CenterCommand::Notice { db, site, to, text } => {
            anyhow::ensure!(!text.trim().is_empty(), "--text is empty");
            let body = serde_json::json!({ "to": to, "text": text });
            let cursor = db.open().await?.publish(FeedKind::Notices, Some(&site), &body, Utc::now()).await?;
            println!("sent notice (feed cursor {cursor})");
        }
        CenterCommand::Export { db } => {
            let lines = db.open().await?.export().await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for line in lines {
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        CenterCommand::Report { db, period, site, filter, format, output, pdf } => {
            // Checked and laid out against the rubric versions the region published, as the API's.
            let db = db.open().await?;
            let rubrics = radqc_center::http::published_rubric_set(&db).await?;
            let (period, filter) = filter.parse(&period, site.clone(), &rubrics.all())?;
            let report = radqc_center::http::build_report(&db, rubrics.latest(), period, filter, None).await?;
            let scope = site.as_ref().map_or_else(|| "全区域 Region".to_owned(), |s| format!("站点 Site {s}"));
            crate::report_cmd::emit(&report, rubrics.latest(), format, output.as_deref(), &scope, &pdf)?;
        }
        CenterCommand::Notices { db, site, department, open, overdue_days } => {
            let db = db.open().await?;
            let (list, zones) = (db.notices(site.as_deref()).await?, db.site_zones().await?);
            let now = Utc::now();
            for n in radqc_center::http::select_notices(list, open, overdue_days, department.as_deref(), now, &zones) {
                println!("{}", serde_json::to_string(&n)?);
            }
        }
        CenterCommand::Gold { command } => gold(command).await?,
        CenterCommand::Stats { db } => {
            for s in db.open().await?.stats().await? {
                println!("{}", serde_json::to_string(&s)?);
            }
        }
        CenterCommand::RebuildRollups { db } => {
            let exams = db.open().await?.rebuild_rollups().await?;
            eprintln!("rollups rebuilt from {exams} exams");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn gold(command: GoldCommand) -> Result<()> {
    use radqc_center::{gold, gold_http};
    let print = |v: &radqc_protocol::GoldCaseView| -> Result<()> {
        println!("{}", serde_json::to_string(v)?);
        Ok(())
    };
    match command {
        GoldCommand::Add { db, evaluation } => {
            let state = AppState::new(db.open().await?).await?;
            let grants = state.grants().await?;
            let case = gold_http::add_case(&state.db, &evaluation, &grants, None).await?;
            print(&gold::full_view(&case))?;
        }
        GoldCommand::Draw { db, from, to, share, site, modality, item, failed_only, max, seed } => {
            let state = AppState::new(db.open().await?).await?;
            let grants = state.grants().await?;
            let to = to.unwrap_or_else(|| from.clone());
            let req = radqc_protocol::GoldDrawRequest { from, to, share, site, modality, item, failed_only, max, seed };
            let drawn = gold_http::run_draw(&state.db, &req, &grants).await?;
            eprintln!(
                "seed {}: {} evaluations considered, {} cases made, {} already in a case",
                drawn.seed,
                drawn.considered,
                drawn.cases.len(),
                drawn.already_in_case
            );
            for c in &drawn.cases {
                print(&gold::full_view(c))?;
            }
        }
        GoldCommand::List { db, state } => {
            let state = state
                .map(|s| match s.as_str() {
                    "reading" => Ok(radqc_protocol::GoldState::Reading),
                    "adjudicating" => Ok(radqc_protocol::GoldState::Adjudicating),
                    "final" => Ok(radqc_protocol::GoldState::Final),
                    other => Err(anyhow::anyhow!("--state: `{other}` (use reading, adjudicating or final)")),
                })
                .transpose()?;
            for c in db.open().await?.gold_cases(None).await? {
                let v = gold::full_view(&c);
                if state.is_none_or(|s| s == v.state) {
                    print(&v)?;
                }
            }
        }
        GoldCommand::Show { db, id } => {
            let case = db.open().await?.gold_case(&id).await?;
            let case = case.ok_or_else(|| anyhow::anyhow!("no gold-standard case {id} (UNKNOWN_GOLD_CASE)"))?;
            print(&gold::full_view(&case))?;
        }
        GoldCommand::Settings { db, dispute_days, show_names } => {
            let db = db.open().await?;
            let mut settings = gold::parse_settings(db.setting(gold::SETTINGS_NAME).await?.as_deref())?;
            if dispute_days.is_some() || show_names.is_some() {
                settings.dispute_days = dispute_days.unwrap_or(settings.dispute_days);
                settings.show_names = show_names.unwrap_or(settings.show_names);
                gold_http::set_settings(&db, &settings).await?;
            }
            println!("{}", serde_json::to_string(&settings)?);
        }
        GoldCommand::Settle { db } => {
            let state = AppState::new(db.open().await?).await?;
            let grants = state.grants().await?;
            let rubrics = radqc_center::http::published_rubric_set(&state.db).await?;
            let settled = gold::settle(&state.db, &rubrics, &grants, Utc::now()).await?;
            println!("{}", serde_json::to_string(&settled)?);
        }
    }
    Ok(())
}
