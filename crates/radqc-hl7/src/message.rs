//! An HL7 v2 message as text: its delimiters (from MSH-1 and MSH-2), its segments, and values
//! addressed as `SEG-field[(repetition)][.component[.subcomponent]]`, unescaped. The bytes are
//! decoded by the character set MSH-18 names (UTF-8 when it names none, or GB18030).

use std::fmt;

/// The character sets a message may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `UNICODE UTF-8` (and plain ASCII, which is UTF-8).
    Utf8,
    /// `GB 18030-2000` (and GBK / GB2312, which it contains): what many Chinese systems send.
    Gb18030,
}

impl Charset {
    /// The charset MSH-18 names: empty means UTF-8 (and ASCII is UTF-8); `None` for one not
    /// supported.
    pub fn from_msh18(name: &str) -> Option<Charset> {
        let n: String = name.trim().chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '_').collect();
        match n.to_ascii_uppercase().as_str() {
            "" | "UNICODEUTF8" | "UTF8" | "ASCII" | "UNICODE" => Some(Charset::Utf8),
            "GB180302000" | "GB18030" | "GBK" | "GB2312" | "CP936" => Some(Charset::Gb18030),
            _ => None,
        }
    }

    /// The name an answer carries in its MSH-18.
    pub fn msh18(self) -> &'static str {
        match self {
            Charset::Utf8 => "UNICODE UTF-8",
            Charset::Gb18030 => "GB 18030-2000",
        }
    }

    /// Text in this charset.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
        }
    }

    fn decode(self, bytes: &[u8]) -> Result<String, ParseError> {
        match self {
            Charset::Utf8 => String::from_utf8(bytes.to_vec())
                .map_err(|e| ParseError::Encoding { charset: self, at: e.utf8_error().valid_up_to() }),
            Charset::Gb18030 => {
                let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
                if had_errors {
                    let at = text.find('\u{FFFD}').unwrap_or(0);
                    return Err(ParseError::Encoding { charset: self, at });
                }
                Ok(text.into_owned())
            }
        }
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msh18())
    }
}

/// Why bytes are not an HL7 v2 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message does not start with an MSH segment")]
    NoMsh,
    #[error("MSH-1/MSH-2 (the delimiters) are missing or invalid")]
    Delimiters,
    #[error("MSH-18 names the character set `{0}`, which is not supported (UNICODE UTF-8 or GB 18030-2000)")]
    Charset(String),
    #[error(
        "MSH-18 names {0}, but the header decoded in it no longer does: a multi-byte character swallowed a delimiter"
    )]
    CharsetMismatch(Charset),
    #[error("the bytes are not valid {charset} (at byte {at})")]
    Encoding { charset: Charset, at: usize },
    #[error("segment {number} has an invalid segment id `{id}`")]
    SegmentId { number: usize, id: String },
    #[error("the message is longer than {0} bytes")]
    TooLong(usize),
}

/// The separators of a message, from MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: Option<char>,
    pub subcomponent: char,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters { field: '|', component: '^', repetition: '~', escape: Some('\\'), subcomponent: '&' }
    }
}

impl Delimiters {
    /// MSH-2 as written.
    pub fn encoding_characters(&self) -> String {
        let mut s = String::new();
        s.push(self.component);
        s.push(self.repetition);
        if let Some(e) = self.escape {
            s.push(e);
        }
        s.push(self.subcomponent);
        s
    }

    /// `text` with every delimiter escaped, for a value written into a message.
    pub fn escape(&self, text: &str) -> String {
        let e = self.escape.unwrap_or('\\');
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            let code = if c == self.field {
                Some('F')
            } else if c == self.component {
                Some('S')
            } else if c == self.subcomponent {
                Some('T')
            } else if c == self.repetition {
                Some('R')
            } else if c == e {
                Some('E')
            } else {
                None
            };
            match code {
                Some(code) => {
                    out.push(e);
                    out.push(code);
                    out.push(e);
                }
                None if c == '\r' || c == '\n' => {
                    out.push(e);
                    out.push_str(".br");
                    out.push(e);
                }
                None => out.push(c),
            }
        }
        out
    }

    /// A raw value with its escape sequences resolved: `\F\ \S\ \T\ \R\ \E\`, `\.br\` (a line
    /// break), `\Xhh…\` (bytes in the message's charset); highlighting (`\H\`, `\N\`) is dropped,
    /// and an unknown or unterminated sequence is kept as written.
    pub fn unescape(&self, raw: &str, charset: Charset) -> String {
        let Some(e) = self.escape else { return raw.to_owned() };
        if !raw.contains(e) {
            return raw.to_owned();
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(start) = rest.find(e) {
            out.push_str(&rest[..start]);
            let after = &rest[start + e.len_utf8()..];
            let Some(end) = after.find(e) else {
                out.push_str(&rest[start..]);
                return out;
            };
            let seq = &after[..end];
            match seq {
                "F" => out.push(self.field),
                "S" => out.push(self.component),
                "T" => out.push(self.subcomponent),
                "R" => out.push(self.repetition),
                "E" => out.push(e),
                ".br" => out.push('\n'),
                "H" | "N" => {}
                _ if seq.len() > 1 && seq.starts_with('X') && seq.len() % 2 == 1 => {
                    match hex::decode(&seq[1..]).ok().and_then(|b| charset.decode(&b).ok()) {
                        Some(text) => out.push_str(&text),
                        None => {
                            out.push(e);
                            out.push_str(seq);
                            out.push(e);
                        }
                    }
                }
                _ => {
                    out.push(e);
                    out.push_str(seq);
                    out.push(e);
                }
            }
            rest = &after[end + e.len_utf8()..];
        }
        out.push_str(rest);
        out
    }
}

/// One segment: its id and its fields as written (unescaped only when read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    /// `fields[n]` is SEG-n (for MSH, MSH-1 is the field separator and `fields[2]` is MSH-2).
    fields: Vec<String>,
}

/// Where a value is: `PID-3`, `PID-3.1`, `OBR-32.1.1`, `PID-3(2).1` (repetitions from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub segment: String,
    pub field: usize,
    pub repetition: usize,
    pub component: usize,
    pub subcomponent: usize,
}

impl std::str::FromStr for Path {
    type Err = String;
    fn from_str(s: &str) -> Result<Path, String> {
        let bad = || format!("`{s}` is not a field path like PID-3 or OBR-32.1.1");
        let (segment, rest) = s.split_once('-').ok_or_else(bad)?;
        if segment.len() != 3 || !segment.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err(bad());
        }
        let mut parts = rest.split('.');
        let field_part = parts.next().ok_or_else(bad)?;
        let (field, repetition) = match field_part.split_once('(') {
            Some((f, r)) => (f, r.strip_suffix(')').ok_or_else(bad)?),
            None => (field_part, "1"),
        };
        let number = |t: &str| t.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(bad);
        let field = number(field)?;
        let repetition = number(repetition)?;
        let component = parts.next().map(number).transpose()?.unwrap_or(1);
        let subcomponent = parts.next().map(number).transpose()?.unwrap_or(1);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Path { segment: segment.to_owned(), field, repetition, component, subcomponent })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.segment, self.field)?;
        if self.repetition != 1 {
            write!(f, "({})", self.repetition)?;
        }
        write!(f, ".{}.{}", self.component, self.subcomponent)
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub delimiters: Delimiters,
    pub charset: Charset,
    pub segments: Vec<Segment>,
}

/// The longest message taken (a radiology report with its segments is a few kilobytes).
pub const MAX_MESSAGE: usize = 1 << 20;

impl Message {
    /// Parses the bytes of one message (an MLLP frame's payload). Segments end with CR (LF and
    /// CR LF are taken too); empty lines are skipped.
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        Message::parse_with(bytes, Charset::Utf8)
    }

    /// As [`Message::parse`], with the charset of a message whose MSH-18 is empty (a RIS that
    /// sends GB18030 without saying so: the listener's `--charset`).
    pub fn parse_with(bytes: &[u8], unnamed: Charset) -> Result<Message, ParseError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(ParseError::TooLong(MAX_MESSAGE));
        }
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).ok_or(ParseError::Empty)?;
        let bytes = &bytes[start..];
        if !bytes.starts_with(b"MSH") {
            return Err(ParseError::NoMsh);
        }
        // The delimiters and MSH-18 are ASCII: read them off the bytes before decoding.
        let field = *bytes.get(3).ok_or(ParseError::Delimiters)?;
        if !field.is_ascii_punctuation() {
            return Err(ParseError::Delimiters);
        }
        let msh_end = bytes.iter().position(|b| *b == b'\r' || *b == b'\n').unwrap_or(bytes.len());
        let msh = &bytes[..msh_end];
        let raw_fields: Vec<&[u8]> = msh.split(|b| *b == field).collect();
        let enc = raw_fields.get(1).copied().unwrap_or_default();
        if enc.len() < 2 || enc.len() > 4 || !enc.iter().all(|b| b.is_ascii_punctuation() && *b != field) {
            return Err(ParseError::Delimiters);
        }
        let at = |i: usize| enc.get(i).map(|b| *b as char);
        let delimiters = match enc.len() {
            2 => Delimiters {
                field: field as char,
                component: enc[0] as char,
                repetition: enc[1] as char,
                escape: None,
                subcomponent: '&',
            },
            3 => Delimiters {
                field: field as char,
                component: enc[0] as char,
                repetition: enc[1] as char,
                escape: at(2),
                subcomponent: '&',
            },
            _ => Delimiters {
                field: field as char,
                component: enc[0] as char,
                repetition: enc[1] as char,
                escape: at(2),
                subcomponent: enc[3] as char,
            },
        };
        // MSH-18 is the 18th field: index 17 of the split (MSH-1 is the separator itself).
        let msh18 = raw_fields.get(17).map(|f| String::from_utf8_lossy(f).into_owned()).unwrap_or_default();
        let first = msh18.split(delimiters.repetition).next().unwrap_or("");
        let charset_of = |name: &str| {
            if name.trim().is_empty() {
                Some(unnamed)
            } else {
                Charset::from_msh18(name)
            }
        };
        let named = charset_of(first).ok_or_else(|| ParseError::Charset(first.trim().to_owned()))?;
        // A GB18030 character may end in a delimiter's byte (0x7C is `|`), so MSH-18 read off
        // the bytes is checked again in the decoded text: a message whose decoded MSH-18 does
        // not name the charset it was decoded in is refused, never read with shifted fields.
        let decoded_msh18 = |text: &str| -> String {
            let line = text.split(['\r', '\n']).next().unwrap_or("");
            let f = line.split(delimiters.field).nth(17).unwrap_or("");
            f.split(delimiters.repetition).next().unwrap_or("").to_owned()
        };
        let text = named.decode(bytes)?;
        let charset = named;
        if charset_of(&decoded_msh18(&text)) != Some(named) {
            return Err(ParseError::CharsetMismatch(named));
        }
        let mut segments = Vec::new();
        for (number, line) in text.split(['\r', '\n']).filter(|l| !l.trim().is_empty()).enumerate() {
            let mut fields: Vec<String> = line.split(delimiters.field).map(str::to_owned).collect();
            let id = fields[0].clone();
            if id.len() != 3 || !id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                return Err(ParseError::SegmentId { number: number + 1, id: id.chars().take(16).collect() });
            }
            if id == "MSH" {
                // fields[1] is MSH-1, the separator itself; the rest move up by one.
                fields.insert(1, delimiters.field.to_string());
            }
            segments.push(Segment { id, fields });
        }
        if segments.first().is_none_or(|s| s.id != "MSH") {
            return Err(ParseError::NoMsh);
        }
        Ok(Message { delimiters, charset, segments })
    }

    /// The MSH segment.
    pub fn msh(&self) -> &Segment {
        &self.segments[0]
    }

    /// The value at `path` in the first segment of its id, unescaped; `None` when empty.
    pub fn get(&self, path: &Path) -> Option<String> {
        self.segments.iter().find(|s| s.id == path.segment).and_then(|s| self.value(s, path))
    }

    /// The value at `path` in `segment`, unescaped; `None` when empty (or `""`, HL7's null).
    pub fn value(&self, segment: &Segment, path: &Path) -> Option<String> {
        let raw = segment.raw(path, &self.delimiters)?;
        let v = self.delimiters.unescape(raw, self.charset);
        let v = v.trim();
        (!v.is_empty() && v != "\"\"").then(|| v.to_owned())
    }

    /// MSH-n as text.
    pub fn header(&self, field: usize) -> Option<String> {
        let path = Path { segment: "MSH".into(), field, repetition: 1, component: 1, subcomponent: 1 };
        if field <= 2 {
            return self.msh().fields.get(field).cloned();
        }
        self.value(self.msh(), &path)
    }

    /// The message type and trigger event, e.g. `("ORM", "O01")` (MSH-9.1, MSH-9.2).
    pub fn message_type(&self) -> (String, String) {
        let part = |c: usize| {
            let path = Path { segment: "MSH".into(), field: 9, repetition: 1, component: c, subcomponent: 1 };
            self.value(self.msh(), &path).unwrap_or_default()
        };
        (part(1), part(2))
    }

    /// MSH-10, the message control id.
    pub fn control_id(&self) -> Option<String> {
        self.header(10)
    }
}

impl Segment {
    /// The raw text at `path` (delimiters still escaped); `None` when absent.
    pub fn raw<'a>(&'a self, path: &Path, d: &Delimiters) -> Option<&'a str> {
        let field = self.fields.get(path.field)?;
        if self.id == "MSH" && path.field <= 2 {
            return Some(field);
        }
        let repetition = field.split(d.repetition).nth(path.repetition - 1)?;
        let component = repetition.split(d.component).nth(path.component - 1)?;
        component.split(d.subcomponent).nth(path.subcomponent - 1)
    }

    /// Repetition `r` (from 1) of field `n`, raw, components and all.
    pub fn raw_field_repetition<'a>(&'a self, n: usize, r: usize, d: &Delimiters) -> Option<&'a str> {
        self.fields.get(n)?.split(d.repetition).nth(r.checked_sub(1)?)
    }

    /// How many repetitions field `n` has (0 when empty).
    pub fn repetitions(&self, n: usize, d: &Delimiters) -> usize {
        match self.fields.get(n) {
            Some(f) if !f.is_empty() => f.split(d.repetition).count(),
            _ => 0,
        }
    }
}

/// The first bytes' MSH-10, read without parsing the rest: what an answer to a message that
/// does not parse can still name.
pub fn control_id_of(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let bytes = &bytes[start..];
    if !bytes.starts_with(b"MSH") || bytes.len() < 4 {
        return None;
    }
    let field = bytes[3];
    let end = bytes.iter().position(|b| *b == b'\r' || *b == b'\n').unwrap_or(bytes.len());
    let id = bytes[..end].split(|b| *b == field).nth(9)?;
    let id = String::from_utf8_lossy(id);
    let id = id.split('^').next().unwrap_or("").trim();
    (!id.is_empty() && id.len() <= 199 && id.chars().all(|c| !c.is_control())).then(|| id.to_owned())
}
