//! `radqc rubric check FILE` and `radqc rubric show`: validate a region's rubric, print one readably.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use radqc_domain::{Item, ItemKind, Rubric};

#[derive(Subcommand)]
pub enum RubricCommand {
    /// Validate a rubric file; list every problem found.
    Check { file: PathBuf },
    /// Print a rubric (the bundled one unless --rubric is given).
    Show {
        #[arg(long, value_name = "FILE")]
        rubric: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ShowFormat {
    /// A readable table, Chinese and English.
    Text,
    /// The validated rubric as JSON, as the desktop app receives it.
    Json,
}

/// Loads a rubric file, or the bundled rubric when no file is given.
pub fn load(file: Option<&Path>) -> Result<Rubric> {
    match file {
        None => Ok(Rubric::bundled().clone()),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read rubric file {}", path.display()))?;
            Ok(Rubric::from_toml_str(&text, &path.display().to_string())?)
        }
    }
}

pub fn run(command: RubricCommand) -> Result<ExitCode> {
    match command {
        RubricCommand::Check { file } => {
            let rubric = load(Some(&file))?;
            let criteria: usize = rubric.items.iter().map(|i| i.criteria.len()).sum();
            println!(
                "{}: rubric {} is valid ({} items, {criteria} criteria)",
                file.display(),
                rubric.version,
                rubric.items.len()
            );
        }
        RubricCommand::Show { rubric, format } => {
            let rubric = load(rubric.as_deref())?;
            match format {
                ShowFormat::Text => print!("{}", render_text(&rubric)),
                ShowFormat::Json => println!("{}", serde_json::to_string_pretty(&rubric)?),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render_text(rubric: &Rubric) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} / {}  (version {})", rubric.title.zh, rubric.title.en, rubric.version);
    for item in &rubric.items {
        render_item(&mut out, item);
    }
    out
}

fn render_item(out: &mut String, item: &Item) {
    let scorers: Vec<String> = item.scorer_roles.iter().map(|r| format!("{} {}", r.label_zh(), r.as_str())).collect();
    let _ = writeln!(out, "\n{}  {} / {}", item.code, item.name.zh, item.name.en);
    let kind = match item.kind {
        ItemKind::Normative => "规范类 normative: 合格 pass / 不合格 fail",
        ItemKind::Scored => "评分类 scored 1-5",
    };
    let _ = writeln!(out, "    {kind}; applies: {}", item.applies);
    let _ = writeln!(
        out,
        "    被评 scored: {} {}; 评分 scores: {}",
        item.scored_role.label_zh(),
        item.scored_role,
        scorers.join(", ")
    );
    if let Some(table) = &item.score_table {
        let cells: Vec<String> = table.iter().enumerate().map(|(u, s)| format!("u={u}→{s}")).collect();
        let _ = writeln!(out, "    不符合项数 → 分数 unmet → score: {}", cells.join("  "));
    }
    for c in &item.criteria {
        let kind = match c.kind {
            radqc_domain::CriterionKind::Severe => "严重 severe    ",
            radqc_domain::CriterionKind::Compliance => "符合 compliance",
        };
        let _ = writeln!(out, "    {:<6} {kind}  {}", c.code.as_str(), c.text.zh);
        let _ = writeln!(out, "    {:<6} {:<15}  {}", "", "", c.text.en);
    }
}
