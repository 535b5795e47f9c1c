//! Tokens and enrollment codes: random, shown once, stored only as SHA-256 hashes.

use sha2::{Digest, Sha256};

/// A device or person token: `rq_` and 64 hex characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    format!("rq_{}", hex::encode(bytes))
}

/// A one-time enrollment code a person can read out and type: 12 letters and digits from an
/// alphabet without look-alikes, grouped by four (`K7QM-3XPA-9TWE`).
pub fn new_enrollment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The stored form of a secret. Codes are compared without dashes, spaces or case.
pub fn hash(secret: &str) -> String {
    let normal: String = secret.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let normal = if normal.starts_with("rq_") { normal } else { normal.to_ascii_uppercase() };
    hex::encode(Sha256::digest(normal.as_bytes()))
}
