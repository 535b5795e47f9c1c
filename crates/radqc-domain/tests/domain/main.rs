//! Integration tests of the domain crate: the bundled rubric, rubric validation, the scoring engine,
//! reports and the gold standard's agreement figures.

mod agreement;
mod grants;
mod report;
mod rubric_file;
mod sampling;
mod scoring_props;
mod scoring_table;
