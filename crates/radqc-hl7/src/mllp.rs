//! MLLP, the HL7 minimal lower layer protocol: each message framed as `VT message FS CR`
//! (0x0B … 0x1C 0x0D) on a TCP stream.

/// The start block.
pub const START: u8 = 0x0B;
/// The end block, followed by [`CR`].
pub const END: u8 = 0x1C;
pub const CR: u8 = 0x0D;

/// One message framed for the wire.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    out.push(START);
    out.extend_from_slice(payload);
    out.push(END);
    out.push(CR);
    out
}

/// What the decoder found that is not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame is longer than {0} bytes")]
    TooLong(usize),
}

/// Splits a byte stream into frames' payloads. Bytes outside a frame (noise before a start
/// block, a lone CR) are skipped; a frame longer than the limit is dropped whole, once.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    max: usize,
    /// Skipping the rest of a frame that was too long.
    discarding: bool,
}

impl Decoder {
    pub fn new(max: usize) -> Decoder {
        Decoder { buf: Vec::new(), max, discarding: false }
    }

    /// Takes bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame's payload, an error for a frame too long, or `None` until more
    /// bytes arrive.
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        loop {
            if self.discarding {
                match self.end_at(0) {
                    Some(end) => {
                        self.buf.drain(..end + 2);
                        self.discarding = false;
                        continue;
                    }
                    None => {
                        // Keep a trailing FS: its CR may be in the next read.
                        let keep = usize::from(self.buf.last() == Some(&END));
                        let drop = self.buf.len() - keep;
                        self.buf.drain(..drop);
                        return None;
                    }
                }
            }
            let Some(start) = self.buf.iter().position(|b| *b == START) else {
                self.buf.clear();
                return None;
            };
            if start > 0 {
                self.buf.drain(..start);
            }
            match self.end_at(1) {
                Some(end) => {
                    let payload = self.buf[1..end].to_vec();
                    self.buf.drain(..end + 2);
                    if payload.len() > self.max {
                        return Some(Err(FrameError::TooLong(self.max)));
                    }
                    return Some(Ok(payload));
                }
                None if self.buf.len() > self.max + 3 => {
                    self.discarding = true;
                    self.buf.drain(..1);
                    return Some(Err(FrameError::TooLong(self.max)));
                }
                None => return None,
            }
        }
    }

    /// Where `FS CR` is, from `from`.
    fn end_at(&self, from: usize) -> Option<usize> {
        self.buf.get(from..)?.windows(2).position(|w| w == [END, CR]).map(|i| i + from)
    }
}
