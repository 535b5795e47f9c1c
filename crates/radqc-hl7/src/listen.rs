//! The MLLP listener's loop, shared by `radqc hl7 listen` and the desktop app: a thread per
//! connection, each frame's payload handed to the caller's `answer` (which stores it before it
//! returns the ACK), the ACK framed back in order. The only I/O of this crate: sockets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use crate::ack::{ack, ErrorCondition, Refusal, Responder};
use crate::message::MAX_MESSAGE;
use crate::mllp;

/// What answers a message: its payload in, the ACK's bytes out, once the message is stored.
pub type Answer = dyn Fn(&[u8]) -> Vec<u8> + Send + Sync;

/// Accepts connections on `listener` until it fails, each served on its own thread.
pub fn serve_forever(listener: TcpListener, responder: Responder, answer: Arc<Answer>) {
    let responder = Arc::new(responder);
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let answer = Arc::clone(&answer);
                let responder = Arc::clone(&responder);
                std::thread::spawn(move || {
                    let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
                    if let Err(e) = serve(stream, &responder, &*answer) {
                        eprintln!("radqc hl7: connection {peer}: {e}");
                    }
                });
            }
            Err(e) => eprintln!("radqc hl7: accept: {e}"),
        }
    }
}

/// One connection: frames in, each answered, in order, until the peer closes it.
pub fn serve(mut stream: TcpStream, responder: &Responder, answer: &Answer) -> std::io::Result<()> {
    stream.set_nodelay(true).ok();
    let mut decoder = mllp::Decoder::new(MAX_MESSAGE);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        decoder.push(&buf[..n]);
        while let Some(frame) = decoder.next_frame() {
            let bytes = match frame {
                Ok(payload) => answer(&payload),
                Err(e) => {
                    let refusal = Refusal::reject(ErrorCondition::SegmentSequence, e.to_string());
                    ack(None, &[], Some(&refusal), responder, chrono::Utc::now(), &answer_id())
                }
            };
            stream.write_all(&mllp::frame(&bytes))?;
        }
    }
}

/// An answer's own MSH-10: unique without a clock's help.
pub fn answer_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS gives random bytes");
    hex::encode(b)
}
