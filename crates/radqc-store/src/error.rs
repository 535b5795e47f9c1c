//! Everything that can go wrong with the local store, each with a stable code for error envelopes
//! and a Chinese message for the person at the workstation.

use std::path::PathBuf;

use radqc_domain::{ErrorCode, ScoringError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("no RadQC database at {0} (create one with `radqc local init --db {0}`)")]
    NoDatabase(PathBuf),
    #[error("{0} already holds data; refusing to initialise over it")]
    AlreadyExists(PathBuf),
    #[error("{0} is not a database file")]
    NotADatabase(PathBuf),
    #[error("{0} is a plain SQLite database of another program (or an unencrypted copy), not a RadQC store")]
    ForeignDatabase(PathBuf),
    #[error("cannot open {0}: wrong key, or the file is not a RadQC store")]
    WrongKey(PathBuf),
    #[error("{path} was written by a newer RadQC (schema {found}; this version reads up to {supported}); update RadQC, the file was not changed")]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("{path} was not made by this build's migrations ({detail}); the file was not changed")]
    MigrationHistory { path: PathBuf, detail: String },
    #[error("key file {path}: {message}")]
    KeyFile { path: PathBuf, message: String },
    #[error("the OS keystore ({entry}): {message}")]
    Keystore { entry: String, message: String },
    #[error("the key file {key_file} says the store's key is in the OS keystore as {entry}, and the keystore has no such entry (removed, or this is another computer or user); no new key was made: restore the entry, or a key file from a backup, at {key_file}")]
    KeystoreEntryMissing { entry: String, key_file: PathBuf },
    #[error("the disk is full: the evaluation was NOT saved; free some space and save again (everything saved before is intact)")]
    DiskFull,
    #[error("`{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Scoring(#[from] ScoringError),
    #[error("item {item} does not apply to exam {accession}: {why}")]
    NotApplicable { item: String, accession: String, why: String },
    #[error("item {item} of exam {accession} applies only if {fact} is true, and it is not known: state `exam.{fact}` with the evaluation")]
    FactUnknown { item: String, accession: String, fact: String },
    #[error("no evaluation with id {0}")]
    UnknownEvaluation(String),
    #[error("evaluation {id} was already corrected by {by}; correct the latest revision instead")]
    AlreadyCorrected { id: String, by: String },
    #[error("outbox entry {0} does not exist or is not pending")]
    NotPending(i64),
    #[error("the grants the center published (feed item {cursor}) do not read: {message}")]
    GrantsUnreadable { cursor: i64, message: String },
    #[error("no gold-standard case {0} was assigned at this site")]
    UnknownGoldCase(String),
    #[error("the {} of gold-standard case {case_id} is not assigned to {reader}", crate::gold::task_words(*task).0)]
    NotAssigned { case_id: String, task: radqc_protocol::GoldTask, reader: String },
    #[error("the {} of gold-standard case {case_id} was already made here at {at}; a read is never changed", crate::gold::task_words(*task).0)]
    GoldAlreadyRead { case_id: String, task: radqc_protocol::GoldTask, at: String },
    #[error("gold-standard case {0} is final: no more reads are taken")]
    GoldCaseClosed(String),
    #[error("rubric version {0} is not known here (not the bundled one, nor one the center published): sync with the center first")]
    UnknownRubricVersion(String),
    #[error("evaluation {evaluation} cannot be disputed: {en}")]
    DisputeRefused { evaluation: String, en: String, zh: String },
    #[error(
        "evaluation {evaluation} could be disputed until {until} ({days} days after it was scored); that time is past"
    )]
    DisputeWindowClosed { evaluation: String, until: chrono::DateTime<chrono::Utc>, days: u32 },
    #[error("storage error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::DiskFull,
            _ => Self::Sqlite(e),
        }
    }
}

impl StoreError {
    /// A stable machine code: the UI and the CLI's callers branch on it, never on the text.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoDatabase(_) => ErrorCode::NoDatabase,
            Self::AlreadyExists(_) => ErrorCode::DatabaseExists,
            Self::NotADatabase(_) => ErrorCode::NotADatabase,
            Self::ForeignDatabase(_) => ErrorCode::ForeignDatabase,
            Self::WrongKey(_) => ErrorCode::WrongKey,
            Self::NewerSchema { .. } => ErrorCode::NewerSchema,
            Self::MigrationHistory { .. } => ErrorCode::MigrationHistory,
            Self::KeyFile { .. } => ErrorCode::KeyFile,
            Self::Keystore { .. } => ErrorCode::Keystore,
            Self::KeystoreEntryMissing { .. } => ErrorCode::KeystoreEntryMissing,
            Self::DiskFull => ErrorCode::DiskFull,
            Self::Invalid { .. } => ErrorCode::InvalidInput,
            Self::Scoring(e) => e.code(),
            Self::NotApplicable { .. } => ErrorCode::ItemNotApplicable,
            Self::FactUnknown { .. } => ErrorCode::FactUnknown,
            Self::UnknownEvaluation(_) => ErrorCode::UnknownEvaluation,
            Self::AlreadyCorrected { .. } => ErrorCode::AlreadyCorrected,
            Self::NotPending(_) => ErrorCode::NotPending,
            Self::GrantsUnreadable { .. } => ErrorCode::GrantsUnreadable,
            Self::UnknownGoldCase(_) => ErrorCode::UnknownGoldCase,
            Self::NotAssigned { .. } => ErrorCode::NotAssigned,
            Self::GoldAlreadyRead { .. } => ErrorCode::GoldAlreadyRead,
            Self::GoldCaseClosed(_) => ErrorCode::GoldCaseClosed,
            Self::UnknownRubricVersion(_) => ErrorCode::UnknownRubricVersion,
            Self::DisputeRefused { .. } => ErrorCode::DisputeRefused,
            Self::DisputeWindowClosed { .. } => ErrorCode::DisputeWindowClosed,
            Self::Sqlite(_) => ErrorCode::Storage,
        }
    }

    /// The message in Chinese, for the person at the workstation.
    pub fn message_zh(&self) -> String {
        match self {
            Self::NoDatabase(p) => format!("未找到质控数据库：{}", p.display()),
            Self::AlreadyExists(p) => format!("{} 已有数据，不能重新初始化", p.display()),
            Self::NotADatabase(p) => format!("{} 不是数据库文件", p.display()),
            Self::ForeignDatabase(p) => {
                format!("{} 是其他程序的数据库（或未加密的副本），不是 RadQC 质控库", p.display())
            }
            Self::WrongKey(p) => format!("无法打开 {}：密钥错误，或不是 RadQC 质控库", p.display()),
            Self::NewerSchema { found, supported, .. } => {
                format!(
                    "数据库由更新版本的 RadQC 写入（版本 {found}，本程序最高支持 {supported}），请升级；文件未被改动"
                )
            }
            Self::MigrationHistory { path, detail } => format!(
                "数据库 {} 的结构升级记录与本程序不一致（{detail}），不能打开；文件未被改动，请联系管理员",
                path.display()
            ),
            Self::KeyFile { path, message } => format!("密钥文件 {}：{message}", path.display()),
            Self::Keystore { entry, message } => format!("系统密钥库（{entry}）：{message}"),
            Self::KeystoreEntryMissing { entry, key_file } => format!(
                "密钥文件 {} 表明本库的密钥在系统密钥库的 {entry} 中，但密钥库里没有这一项（已被删除，或这是另一台电脑或另一个用户）；没有生成新密钥。请恢复该项，或把备份的密钥文件放回 {}",
                key_file.display(),
                key_file.display()
            ),
            Self::DiskFull => "磁盘已满：本次评分未保存。请释放磁盘空间后重新保存（之前保存的评分完好无损）".to_owned(),
            Self::Invalid { field, message } => format!("输入有误（{field}）：{message}"),
            Self::Scoring(e) => format!("评分项填写有误：{e}"),
            Self::NotApplicable { item, accession, why } => format!("质控项目 {item} 不适用于检查 {accession}：{why}"),
            Self::FactUnknown { item, accession, fact } => {
                let what = if fact == "film_printed" { "是否打印胶片" } else { "是否做了三维重建" };
                format!("检查 {accession} {what}未知，不能评 {item} 项；请注明后再评")
            }
            Self::UnknownEvaluation(id) => format!("找不到评分记录 {id}"),
            Self::AlreadyCorrected { id, by } => {
                format!("评分 {id} 已被 {by} 更正，请更正最新的版本")
            }
            Self::NotPending(seq) => format!("待同步队列中没有第 {seq} 条待发送记录"),
            Self::GrantsUnreadable { cursor, message } => {
                format!("中心发布的角色授权（第 {cursor} 条）无法读取：{message}；请联系区域中心")
            }
            Self::UnknownGoldCase(id) => format!("本站没有收到金标准病例 {id} 的分配"),
            Self::NotAssigned { case_id, task, .. } => {
                format!("金标准病例 {case_id} 的{}没有分配给您", crate::gold::task_words(*task).1)
            }
            Self::GoldAlreadyRead { case_id, task, at } => {
                format!("金标准病例 {case_id} 的{}已于 {at} 完成，不能再次评读", crate::gold::task_words(*task).1)
            }
            Self::GoldCaseClosed(id) => format!("金标准病例 {id} 已有最终结果，不再接受评读"),
            Self::UnknownRubricVersion(v) => {
                format!("本机没有评分标准版本 {v}（不是内置版本，也不是中心发布的版本）：请先与中心同步")
            }
            Self::DisputeRefused { evaluation, zh, .. } => format!("评分 {evaluation} 不能申诉：{zh}"),
            Self::DisputeWindowClosed { evaluation, until, days } => format!(
                "评分 {evaluation} 的申诉期（评分后 {days} 天，至 {}）已过",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
            Self::Sqlite(e) => format!("存储错误：{e}"),
        }
    }
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid { field: field.to_owned(), message: message.into() }
}
