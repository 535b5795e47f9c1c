//! The installation's gate token: 32 random bytes as hexadecimal in `gate.token` in the app's
//! data folder, made at first start and readable by the OS user only. The gate API trusts a
//! request's `signer` only when the request carries it (`Authorization: Bearer <token>`): the
//! RIS authenticated the doctor, and only a client running as the same OS user can read it.
//!
//! The file is made whole or not at all (a staged file created with mode 0600, synced, linked
//! into place) and never overwritten. A token file that cannot be read, is not 64 hexadecimal
//! characters, or that other users may read (group or other permission bits) is an error naming
//! the file: a token others could read may already be known to them, so it is neither silently
//! replaced nor its mode silently narrowed; deleting the file makes a new one at the next start.

use std::path::Path;

use crate::{AppError, ErrorCode};

/// The token file's name in the app's data folder.
pub const GATE_TOKEN_FILE: &str = "gate.token";

/// The gate token, compared in constant time.
#[derive(Clone)]
pub struct GateToken(String);

impl std::fmt::Debug for GateToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GateToken(…)")
    }
}

fn err(path: &Path, zh: &str, en: String) -> AppError {
    AppError::new(
        ErrorCode::GateTokenFile,
        format!("签名接口令牌文件 {} {zh}", path.display()),
        format!("the gate token file {}: {en}", path.display()),
    )
}

impl GateToken {
    /// Uses the token file at `path`, making it when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<GateToken, AppError> {
        match std::fs::symlink_metadata(path) {
            Ok(_) => {
                radqc_store::remove_leftover_stage(path);
                Self::load(path)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(err(path, "无法读取", format!("cannot be read: {e}"))),
        }
    }

    /// Reads an existing token file, refusing one that others may read.
    pub fn load(path: &Path) -> Result<GateToken, AppError> {
        let text = std::fs::read_to_string(path).map_err(|e| err(path, "无法读取", format!("cannot be read: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| err(path, "无法读取", format!("cannot be read: {e}")))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(err(
                    path,
                    &format!("权限为 {:o}，其他用户可读；请删除该文件（下次启动生成新令牌）", mode & 0o777),
                    format!(
                        "has mode {:o}: other users may read it, so it may be known to them; delete it \
                         (a new token is made at the next start) or, if nobody else could have read it, `chmod 600` it",
                        mode & 0o777
                    ),
                ));
            }
        }
        let token = text.strip_suffix('\n').unwrap_or(&text);
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err(
                path,
                "格式不对（应为 64 个十六进制字符）",
                "is not well-formed: it must hold 64 hexadecimal characters".into(),
            ));
        }
        Ok(GateToken(token.to_ascii_lowercase()))
    }

    /// Makes a new token file; refuses to replace one that is there.
    fn create(path: &Path) -> Result<GateToken, AppError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| err(path, "无法生成", format!("no randomness for a token: {e}")))?;
        let token = hex::encode(bytes);
        match radqc_store::create_private_file(path, &format!("{token}\n")) {
            Ok(()) => Ok(GateToken(token)),
            // Two first starts at once: the first one's token stands.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(err(path, "无法写入", format!("cannot be written: {e}"))),
        }
    }

    /// Whether a request's `Authorization` header carries this token (`Bearer <token>`). The
    /// comparison takes the same time wherever the first difference is.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else { return false };
        let Some((scheme, given)) = value.trim().split_once(' ') else { return false };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let (given, ours) = (given.trim().as_bytes(), self.0.as_bytes());
        if given.len() != ours.len() {
            return false;
        }
        let diff = given.iter().zip(ours).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}
