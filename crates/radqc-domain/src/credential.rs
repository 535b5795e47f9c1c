//! People's secrets (a password or a PIN): the region's policy for them, their verifiers
//! (argon2id, as PHC strings), and checking a secret against a verifier. No I/O: the salt comes
//! in from the caller, the time too.
//!
//! A verifier is what the center keeps and publishes in a site's roster, so that the site signs
//! people in offline: never the secret, and only in a form that is slow to attack (argon2id with
//! at least [`MIN_PARAMS`], checked on every verifier read, so that a hostile device or a forged
//! feed cannot hand a cheap one in).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// The cost of a new verifier: OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). Measured
/// with `cargo bench -p radqc-domain --bench credential` on this 2-core machine: about 19 ms per
/// verification quiet, 23 ms with the other core busy (a SHA-256 of the same input: 85 ns), far
/// under the 300 ms a person may wait; 64 MiB × 3 measured 185 ms and is the next step up.
pub const PARAMS: Argon2Cost = Argon2Cost { memory_kib: 19 * 1024, iterations: 2, lanes: 1 };

/// The least cost a verifier may have to be accepted: OWASP's cheapest equivalent setting (7 MiB,
/// 5 passes): at least its memory and, over all, at least its memory × passes (OWASP's settings
/// trade one for the other).
pub const MIN_PARAMS: Argon2Cost = Argon2Cost { memory_kib: 7 * 1024, iterations: 5, lanes: 1 };

/// The longest secret accepted (argon2 takes any length; a person does not type more).
pub const MAX_SECRET_CHARS: usize = 128;

/// An argon2id cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

/// What is wrong with a verifier or a secret, in words for a person (Chinese, English).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct CredentialError {
    pub zh: String,
    pub en: String,
}

impl CredentialError {
    fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        CredentialError { zh: zh.into(), en: en.into() }
    }
}

/// The region's rules for secrets, published with every site's roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SecretPolicy {
    /// The fewest characters a secret has.
    pub min_length: u32,
    /// Whether a secret of digits only (a PIN) is allowed.
    pub allow_digits_only: bool,
    /// Days a secret is good for after it was set; 0: it does not expire.
    pub expiry_days: u32,
    /// Wrong secrets in a row that lock the person at the workstation.
    pub max_attempts: u32,
    /// Minutes the lock lasts.
    pub lockout_minutes: u32,
}

impl Default for SecretPolicy {
    fn default() -> Self {
        SecretPolicy { min_length: 8, allow_digits_only: false, expiry_days: 90, max_attempts: 5, lockout_minutes: 15 }
    }
}

impl SecretPolicy {
    /// The policy's own sense: a lock needs attempts and minutes, a length at least 4.
    pub fn validate(&self) -> Result<(), CredentialError> {
        if !(4..=64).contains(&self.min_length) {
            return Err(CredentialError::new("最短长度须为 4 到 64", "min_length must be 4 to 64"));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(CredentialError::new("尝试次数须为 1 到 100", "max_attempts must be 1 to 100"));
        }
        if !(1..=24 * 60).contains(&self.lockout_minutes) {
            return Err(CredentialError::new("锁定时长须为 1 到 1440 分钟", "lockout_minutes must be 1 to 1440"));
        }
        if self.expiry_days > 3650 {
            return Err(CredentialError::new("有效期最多 3650 天", "expiry_days must be at most 3650"));
        }
        Ok(())
    }

    /// Whether `secret` may be set as `staff`'s new secret.
    pub fn check_new(&self, staff: &str, secret: &str) -> Result<(), CredentialError> {
        let chars = secret.chars().count();
        if chars < self.min_length as usize {
            return Err(CredentialError::new(
                format!("密码至少 {} 位", self.min_length),
                format!("a secret has at least {} characters", self.min_length),
            ));
        }
        if chars > MAX_SECRET_CHARS {
            return Err(CredentialError::new(
                format!("密码最多 {MAX_SECRET_CHARS} 位"),
                format!("a secret has at most {MAX_SECRET_CHARS} characters"),
            ));
        }
        if secret.chars().any(char::is_control) {
            return Err(CredentialError::new("密码不能含控制字符", "a secret has no control characters"));
        }
        if !self.allow_digits_only && secret.chars().all(|c| c.is_ascii_digit()) {
            return Err(CredentialError::new(
                "本区域不允许纯数字密码，请加入字母",
                "this region does not allow a secret of digits only: add letters",
            ));
        }
        let first = secret.chars().next();
        if secret.chars().all(|c| Some(c) == first) {
            return Err(CredentialError::new("密码不能由同一个字符组成", "a secret is not one character repeated"));
        }
        if secret.eq_ignore_ascii_case(staff) {
            return Err(CredentialError::new("密码不能与工号相同", "a secret is not the staff code"));
        }
        Ok(())
    }

    /// Whether a secret set at `set_at` has expired at `now`.
    pub fn expired(&self, set_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.expiry_days > 0 && now >= set_at + Duration::days(i64::from(self.expiry_days))
    }
}

fn argon2(cost: Argon2Cost) -> Argon2<'static> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new verifier of `secret` with the given 16 random bytes of salt, at [`PARAMS`].
pub fn make_verifier(secret: &str, salt: &[u8; 16]) -> String {
    make_verifier_with(secret, salt, PARAMS)
}

/// A new verifier at another cost (benchmarks; tests of the minimum).
pub fn make_verifier_with(secret: &str, salt: &[u8; 16], cost: Argon2Cost) -> String {
    let salt = SaltString::encode_b64(salt).expect("16 bytes make a salt");
    argon2(cost).hash_password(secret.as_bytes(), &salt).expect("argon2id hashes any secret").to_string()
}

/// Checks that `verifier` is an argon2id PHC string of at least [`MIN_PARAMS`], with a salt of
/// at least 16 bytes: what the center accepts from a device and a site accepts from a feed.
pub fn check_verifier(verifier: &str) -> Result<(), CredentialError> {
    parse(verifier).map(|_| ())
}

fn parse(verifier: &str) -> Result<PasswordHash<'_>, CredentialError> {
    let bad =
        |why: &str| CredentialError::new(format!("密码校验值无效：{why}"), format!("not a usable verifier: {why}"));
    let hash = PasswordHash::new(verifier).map_err(|e| bad(&e.to_string()))?;
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return Err(bad("not argon2id"));
    }
    let params = Params::try_from(&hash).map_err(|e| bad(&e.to_string()))?;
    let work = u64::from(params.m_cost()) * u64::from(params.t_cost());
    let least = u64::from(MIN_PARAMS.memory_kib) * u64::from(MIN_PARAMS.iterations);
    if params.m_cost() < MIN_PARAMS.memory_kib || work < least {
        return Err(bad("weaker than the minimum cost"));
    }
    if params.m_cost() > 1024 * 1024 || params.t_cost() > 64 || params.p_cost() > 16 {
        return Err(bad("costlier than a workstation can check"));
    }
    let salt_len = hash.salt.map_or(0, |s| s.len());
    if salt_len < 22 {
        return Err(bad("salt shorter than 16 bytes"));
    }
    if hash.hash.is_none_or(|h| h.len() < 16) {
        return Err(bad("no hash"));
    }
    Ok(hash)
}

/// Whether `secret` is the one `verifier` was made of. A verifier that is not usable is an error,
/// never a match.
pub fn verify(verifier: &str, secret: &str) -> Result<bool, CredentialError> {
    let hash = parse(verifier)?;
    if secret.chars().count() > MAX_SECRET_CHARS {
        return Ok(false);
    }
    // The verifier's own cost and salt are used; argon2's comparison is constant-time.
    Ok(Argon2::default().verify_password(secret.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Cost = MIN_PARAMS;

    #[test]
    fn a_verifier_matches_its_secret_only() {
        let v = make_verifier_with("correct horse", &[7; 16], CHEAP);
        assert!(v.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{v}");
        assert!(!v.contains("correct horse"));
        assert_eq!(verify(&v, "correct horse"), Ok(true));
        assert_eq!(verify(&v, "correct hors"), Ok(false));
        assert_eq!(verify(&v, ""), Ok(false));
        // Another salt, another verifier.
        assert_ne!(v, make_verifier_with("correct horse", &[8; 16], CHEAP));
    }

    #[test]
    fn weak_or_foreign_verifiers_are_refused() {
        let weak = make_verifier_with("pw123456", &[1; 16], Argon2Cost { memory_kib: 1024, iterations: 1, lanes: 1 });
        assert!(check_verifier(&weak).unwrap_err().en.contains("minimum"));
        // Enough memory but too few passes for it.
        let short =
            make_verifier_with("pw123456", &[1; 16], Argon2Cost { memory_kib: 19 * 1024, iterations: 1, lanes: 1 });
        assert!(check_verifier(&short).is_err());
        assert!(check_verifier(&make_verifier("pw123456", &[1; 16])).is_ok());
        assert!(verify(&weak, "pw123456").is_err());
        for bad in ["", "pw123456", "$argon2i$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaA", "$5$rounds=5000$x$y"] {
            assert!(check_verifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_policy_names_what_is_wrong() {
        let p = SecretPolicy::default();
        assert!(p.check_new("D001", "Abc12345").is_ok());
        assert!(p.check_new("D001", "Abc1").unwrap_err().en.contains("at least 8"));
        assert!(p.check_new("D001", "12345678").unwrap_err().en.contains("digits only"));
        assert!(p.check_new("D001", "aaaaaaaa").unwrap_err().en.contains("repeated"));
        assert!(p.check_new("ABCDEFGH", "abcdefgh").unwrap_err().en.contains("staff code"));
        assert!(p.check_new("D001", "abc\u{0}defgh").is_err());
        let pin = SecretPolicy { min_length: 6, allow_digits_only: true, ..p };
        assert!(pin.check_new("D001", "204863").is_ok());
        assert!(SecretPolicy { max_attempts: 0, ..p }.validate().is_err());
        assert!(p.validate().is_ok());
    }

    #[test]
    fn a_secret_expires_after_the_policys_days() {
        let p = SecretPolicy { expiry_days: 90, ..SecretPolicy::default() };
        let set: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(!p.expired(set, set + Duration::days(89)));
        assert!(p.expired(set, set + Duration::days(90)));
        assert!(!SecretPolicy { expiry_days: 0, ..p }.expired(set, set + Duration::days(9999)));
    }
}
