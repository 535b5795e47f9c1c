//! The report as files people open, one function per format, without I/O: CSV (`csv`), an XLSX
//! workbook laid out as the standard's figures (`xlsx`), and the PDF monthly report (re-exported
//! from `radqc-pdf`; the caller finds the font). The CLI writes them to files; the center serves
//! them over HTTP.

mod csv;
mod xlsx;

pub use csv::csv;
pub use radqc_pdf as pdf;
pub use rust_xlsxwriter::XlsxError;
pub use xlsx::workbook as xlsx;
