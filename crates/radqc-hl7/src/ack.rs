//! The answer to a message (original acknowledgment mode): `AA` once it is stored, `AE` for
//! an error in its content, `AR` for one that is refused whole (not HL7, a charset or message
//! type not taken); MSA-3 and ERR say why, in the message's own charset and delimiters.

use chrono::{DateTime, Utc};

use crate::message::{control_id_of, Charset, Delimiters, Message};

/// MSA-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// Application accept: stored, applied or to be applied.
    Accept,
    /// Application error: the content is wrong (a required field missing, a bad value).
    Error,
    /// Application reject: not taken at all (not HL7, an unsupported type, charset or version).
    Reject,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// HL7 table 0357, the error codes ERR-3 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCondition {
    SegmentSequence,
    RequiredFieldMissing,
    DataTypeError,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedProcessingId,
    UnknownKeyIdentifier,
    ApplicationInternalError,
}

impl ErrorCondition {
    /// The code and its table text.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            ErrorCondition::SegmentSequence => ("100", "Segment sequence error"),
            ErrorCondition::RequiredFieldMissing => ("101", "Required field missing"),
            ErrorCondition::DataTypeError => ("102", "Data type error"),
            ErrorCondition::TableValueNotFound => ("103", "Table value not found"),
            ErrorCondition::UnsupportedMessageType => ("200", "Unsupported message type"),
            ErrorCondition::UnsupportedEventCode => ("201", "Unsupported event code"),
            ErrorCondition::UnsupportedProcessingId => ("202", "Unsupported processing id"),
            ErrorCondition::UnknownKeyIdentifier => ("204", "Unknown key identifier"),
            ErrorCondition::ApplicationInternalError => ("207", "Application internal error"),
        }
    }
}

/// Why a message is not accepted: the answer's code, the table's condition, where (a field
/// path such as `OBR-18`, when one is to blame), and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: AckCode,
    pub condition: ErrorCondition,
    pub location: Option<String>,
    pub reason: String,
}

impl Refusal {
    pub fn error(condition: ErrorCondition, location: Option<&str>, reason: impl Into<String>) -> Refusal {
        Refusal { code: AckCode::Error, condition, location: location.map(str::to_owned), reason: reason.into() }
    }
    pub fn reject(condition: ErrorCondition, reason: impl Into<String>) -> Refusal {
        Refusal { code: AckCode::Reject, condition, location: None, reason: reason.into() }
    }
}

/// Who answers (MSH-3 and MSH-4 of the answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    pub application: String,
    pub facility: String,
}

/// The answer to `message` (or to bytes that did not parse, `raw`), as bytes in the message's
/// charset. `refusal` is `None` for `AA`. `control_id` is the answer's own MSH-10.
pub fn ack(
    message: Option<&Message>,
    raw: &[u8],
    refusal: Option<&Refusal>,
    who: &Responder,
    now: DateTime<Utc>,
    control_id: &str,
) -> Vec<u8> {
    let d = message.map(|m| m.delimiters).unwrap_or_default();
    let charset = message.map(|m| m.charset).unwrap_or(Charset::Utf8);
    let field = |m: &Message, n: usize| m.header(n).unwrap_or_default();
    let (to_app, to_facility, trigger, version, processing) = match message {
        Some(m) => (field(m, 3), field(m, 4), m.message_type().1, field(m, 12), field(m, 11)),
        None => (String::new(), String::new(), String::new(), String::new(), String::new()),
    };
    let version = if version.is_empty() { "2.5".to_owned() } else { version };
    let processing = if processing.is_empty() { "P".to_owned() } else { processing };
    let their_id = message.and_then(Message::control_id).or_else(|| control_id_of(raw)).unwrap_or_default();
    let e = |s: &str| d.escape(s);
    let f = d.field;
    let c = d.component;
    let mut out = String::new();
    out.push_str(&format!(
        "MSH{f}{enc}{f}{app}{f}{fac}{f}{to_app}{f}{to_fac}{f}{time}{f}{f}ACK{c}{trigger}{c}ACK{f}{id}{f}{processing}{f}{version}{f}{f}{f}{f}{f}{f}{charset}\r",
        enc = d.encoding_characters(),
        app = e(&who.application),
        fac = e(&who.facility),
        to_app = e(&to_app),
        to_fac = e(&to_facility),
        time = now.format("%Y%m%d%H%M%S%z"),
        trigger = e(&trigger),
        id = e(control_id),
        processing = e(&processing),
        version = e(&version),
        charset = charset.msh18(),
    ));
    let code = refusal.map_or(AckCode::Accept, |r| r.code);
    let text = refusal.map_or(String::new(), |r| r.reason.clone());
    out.push_str(&format!("MSA{f}{}{f}{}{f}{}\r", code.as_str(), e(&their_id), e(&truncate(&text, 80))));
    if let Some(r) = refusal {
        let (code, name) = r.condition.code();
        let location = r.location.as_deref().map(|l| location_of(l, &d)).unwrap_or_default();
        // ERR-2 the location, ERR-3 the condition (table 0357), ERR-4 severity E, ERR-8 the text.
        out.push_str(&format!(
            "ERR{f}{f}{location}{f}{code}{c}{name}{c}HL70357{f}E{f}{f}{f}{f}{text}\r",
            text = e(&truncate(&r.reason, 250)),
        ));
    }
    charset.encode(&out)
}

/// `OBR-18` as an ERR-2 location (ERL: segment^sequence^field).
fn location_of(path: &str, d: &Delimiters) -> String {
    match path.split_once('-') {
        Some((seg, field)) => {
            let field: String = field.chars().take_while(|c| c.is_ascii_digit()).collect();
            format!("{seg}{c}1{c}{field}", c = d.component)
        }
        None => d.escape(path),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
