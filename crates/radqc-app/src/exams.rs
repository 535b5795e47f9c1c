//! The exams and their evaluations as the UI lists them: the search of the centralized queues
//! (a blind review sees no staff) and one exam's detail; the signed-in person's own scores are
//! `gold.rs`'s (`App::my_scores`), with what the gold standard did to them.

use radqc_domain::SiteCode;
use radqc_protocol::{EvaluationRecord, ExamRecord};
use radqc_store::ExamFilter;
use serde::{Deserialize, Serialize};

use crate::{App, AppError, ErrorCode};

/// An exam as the UI shows it; blind reviews get no staff.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamView {
    #[serde(flatten)]
    pub exam: ExamRecord,
}

impl ExamView {
    pub(crate) fn new(mut exam: ExamRecord, blind: bool) -> ExamView {
        exam.patient_hash = None;
        exam.patient_name = None;
        if blind {
            exam.staff = Default::default();
        }
        ExamView { exam }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FindExams {
    #[serde(flatten)]
    pub filter: ExamFilter,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub blind: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamDetail {
    pub exam: ExamView,
    pub evaluations: Vec<EvaluationRecord>,
}

impl App {
    pub(crate) fn exam(&self, site: Option<&SiteCode>, accession: &str) -> Result<ExamRecord, AppError> {
        self.store.exam(site, accession)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownExam,
                format!("找不到检查号 {accession}"),
                format!("no exam with accession {accession}"),
            )
        })
    }

    /// The site's exams for the centralized queues: for a signed-in person.
    pub fn find_exams(&self, query: &FindExams) -> Result<Vec<ExamView>, AppError> {
        self.user()?;
        Ok(self.store.find_exams(&query.filter)?.into_iter().map(|e| ExamView::new(e, query.blind)).collect())
    }

    /// One exam and its evaluations, for a signed-in person: all of them for the roles that see
    /// the site's scores, otherwise only those the person gave or received (least privilege:
    /// a technologist does not read the doctors' scores through an exam).
    pub fn exam_detail(&self, accession: &str, blind: bool) -> Result<ExamDetail, AppError> {
        let user = self.user()?;
        let exam = self.exam(None, accession)?;
        let mut evaluations = self.store.evaluations_of(None, accession)?;
        if self.may_see_site_scores().is_err() {
            evaluations.retain(|e| {
                e.reviewer.as_str() == user.code || e.scored_person.as_ref().is_some_and(|p| p.as_str() == user.code)
            });
        }
        if blind {
            for e in &mut evaluations {
                e.scored_person = None;
            }
        }
        Ok(ExamDetail { exam: ExamView::new(exam, blind), evaluations })
    }
}
