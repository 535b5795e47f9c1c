//! HL7 v2 as a hospital's RIS or integration platform (集成平台) sends it: MLLP framing
//! (`mllp`), the message with its delimiters and character set (`message`: UTF-8 or GB18030,
//! by MSH-18), the answer (`ack`: AA once stored, AE or AR with the reason in MSA-3 and ERR),
//! and what a message says about exams (`extract`), by a field mapping that is data
//! (`mapping`, `assets/hl7/mapping.json`: IHE Radiology Scheduled Workflow by default); and a
//! worklist spreadsheet's bytes as rows of text (`worklist`), the RIS's other way out.
//!
//! Architecture Invariant: no file and no store here: `listen` owns the sockets and hands each
//! frame to the caller, which stores it before it answers (`radqc hl7 listen`, the desktop app).
//! A message either reads whole or is refused with the field to blame; nothing is read half.

pub mod ack;
pub mod extract;
pub mod listen;
pub mod mapping;
pub mod message;
pub mod mllp;
pub mod worklist;

pub use ack::{ack, AckCode, ErrorCondition, Refusal, Responder};
pub use extract::{extract, ExamFacts, Inbound, PatientFacts, ReportFacts, ResultStatus};
pub use mapping::{Kind, Mapping, MappingError, DEFAULT_MAPPING};
pub use message::{Charset, Delimiters, Message, ParseError, Path};

/// Reads one frame's payload: the message and what it says, or the refusal to answer with (`AR`
/// for bytes that are not a message this listener takes, `AE` for wrong content). The parsed
/// message is returned with a refusal too, so the answer can use its delimiters. `unnamed` is
/// the charset of a message whose MSH-18 names none.
pub fn read(
    bytes: &[u8],
    unnamed: Charset,
    mapping: &Mapping,
    zone: radqc_domain::SiteZone,
) -> (Option<Message>, Result<Inbound, Refusal>) {
    match Message::parse_with(bytes, unnamed) {
        Err(e) => {
            let condition = match e {
                ParseError::Charset(_) | ParseError::CharsetMismatch(_) | ParseError::Encoding { .. } => {
                    ErrorCondition::DataTypeError
                }
                _ => ErrorCondition::SegmentSequence,
            };
            (None, Err(Refusal::reject(condition, e.to_string())))
        }
        Ok(m) => {
            let read = extract(&m, mapping, zone);
            (Some(m), read)
        }
    }
}
