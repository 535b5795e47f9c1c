//! The one catalogue of error codes: every stable code an error envelope carries, the center's
//! HTTP answers and push rejections, the sync client's, the store's, the scoring engine's, the
//! app's (IPC and the gate API) and the shell's. Each code is listed once, with its text and, for
//! a code answered over HTTP, its status; callers name an [`ErrorCode`], never the text.
//! It lives in the domain because the engine's `ScoringError::code` returns one; the protocol and
//! the app re-export it, and the UI's `ERROR_CODES` is generated from [`ErrorCode::ALL`].

/// `None`, or `Some(status)` when the entry gives one.
macro_rules! status_of {
    () => {
        None
    };
    ($status:literal) => {
        Some($status)
    };
}

macro_rules! error_codes {
    ($($variant:ident => $code:literal $(@ $status:literal)?,)*) => {
        /// A stable error code. Clients branch on these, never on a message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            /// Every code, each once.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];

            /// The code as it travels (`SCREAMING_SNAKE_CASE`).
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code),* }
            }

            /// The HTTP status the code is answered with, for a code that is an HTTP answer (the
            /// center's and the gate API's); `None` for a push entry's rejection reason, a local
            /// error, or `HTTP_ERROR` (a failure of the HTTP layer itself, its status its own).
            pub const fn status(self) -> Option<u16> {
                match self { $(Self::$variant => status_of!($($status)?)),* }
            }
        }
    };
}

error_codes! {
    // The local store (`StoreError::code`).
    NoDatabase => "NO_DATABASE",
    DatabaseExists => "DATABASE_EXISTS",
    NotADatabase => "NOT_A_DATABASE",
    ForeignDatabase => "FOREIGN_DATABASE",
    WrongKey => "WRONG_KEY",
    NewerSchema => "NEWER_SCHEMA",
    // The store's and (503) the center's refusal of another migration history.
    MigrationHistory => "MIGRATION_HISTORY" @ 503,
    KeyFile => "KEY_FILE",
    // The OS keystore holding a store's key did not answer, refused, or gave no key.
    Keystore => "KEYSTORE",
    // The keystore entry a store's key file names is gone (no new key is ever made for it).
    KeystoreEntryMissing => "KEYSTORE_ENTRY_MISSING",
    DiskFull => "DISK_FULL",
    InvalidInput => "INVALID_INPUT",
    ItemNotApplicable => "ITEM_NOT_APPLICABLE",
    FactUnknown => "FACT_UNKNOWN",
    // The store's, a push entry's, and (404) a gold-standard case asked for an evaluation.
    UnknownEvaluation => "UNKNOWN_EVALUATION" @ 404,
    AlreadyCorrected => "ALREADY_CORRECTED",
    NotPending => "NOT_PENDING",
    Storage => "STORAGE",
    // The scoring engine (`ScoringError::code`).
    CriterionOfOtherItem => "CRITERION_OF_OTHER_ITEM",
    UnknownCriterion => "UNKNOWN_CRITERION",
    DuplicateCriterion => "DUPLICATE_CRITERION",
    FoundAndNotApplicable => "FOUND_AND_NOT_APPLICABLE",
    // The application layer (IPC).
    DataDir => "DATA_DIR",
    RosterUnreadable => "ROSTER_UNREADABLE",
    // The grants document the center published does not read (the app, the CLI).
    GrantsUnreadable => "GRANTS_UNREADABLE",
    // The gate API: a signer who is not in the site's roster is refused, never guessed.
    UnknownSigner => "UNKNOWN_SIGNER" @ 422,
    // The app's unknown signer, and (404) the center's unknown staff member.
    UnknownStaff => "UNKNOWN_STAFF" @ 404,
    NotSignedIn => "NOT_SIGNED_IN",
    UnknownExam => "UNKNOWN_EXAM",
    EmptyPanel => "EMPTY_PANEL",
    NotPermitted => "NOT_PERMITTED",
    UnknownGate => "UNKNOWN_GATE",
    // The app's gate token file (`gate.token`) cannot be made, read, or is open to others.
    GateTokenFile => "GATE_TOKEN_FILE",
    // The app's unknown notice, and a push entry closing a notice the center does not hold.
    UnknownNotice => "UNKNOWN_NOTICE",
    // Sign-in (the app's): a wrong secret, a person locked out at this workstation, a secret to
    // choose first (set by an administrator, or expired), a person without a secret yet, and a
    // session locked after idle time.
    SignInFailed => "SIGN_IN_FAILED",
    LockedOut => "LOCKED_OUT",
    SecretChangeRequired => "SECRET_CHANGE_REQUIRED",
    NoSecret => "NO_SECRET",
    SessionLocked => "SESSION_LOCKED",
    // A new secret the region's policy refuses (the app's, and the center's 400).
    WeakSecret => "WEAK_SECRET" @ 400,
    // A verifier that is not argon2id of the region's minimum cost (a device's, or published).
    InvalidVerifier => "INVALID_VERIFIER" @ 400,
    // The shell.
    EnrollFailed => "ENROLL_FAILED",
    Autostart => "AUTOSTART",
    // The UI's own, for an IPC rejection that is not an envelope (the shell missing).
    UiUnexpectedIpcError => "UI_UNEXPECTED_IPC_ERROR",
    // The sync client.
    Network => "NETWORK",
    ForkLoop => "FORK_LOOP",
    InvalidSite => "INVALID_SITE",
    // Enrollment with a known center (`radqc_sync::pin`): a center URL that is not http(s); HTTPS
    // without the pin of the center's key; a pin that does not read (or two that differ, or one
    // for plain HTTP); a center whose key is not the pinned one (an impostor, or a new key); plain
    // HTTP over the network without `--insecure-http`.
    CenterUrl => "CENTER_URL",
    CenterPinRequired => "CENTER_PIN_REQUIRED",
    CenterPinInvalid => "CENTER_PIN_INVALID",
    CenterPinMismatch => "CENTER_PIN_MISMATCH",
    InsecureHttp => "INSECURE_HTTP",
    // HTTP, the center's and the gate API's.
    InvalidRequest => "INVALID_REQUEST" @ 400,
    InvalidBody => "INVALID_BODY" @ 400,
    InvalidQuery => "INVALID_QUERY" @ 400,
    Unauthenticated => "UNAUTHENTICATED" @ 401,
    TokenRevoked => "TOKEN_REVOKED" @ 401,
    // The gate API: a request without the installation's gate token (or with another).
    GateUnauthenticated => "GATE_UNAUTHENTICATED" @ 401,
    Forbidden => "FORBIDDEN" @ 403,
    NotFound => "NOT_FOUND" @ 404,
    MethodNotAllowed => "METHOD_NOT_ALLOWED" @ 405,
    LengthRequired => "LENGTH_REQUIRED" @ 411,
    PayloadTooLarge => "PAYLOAD_TOO_LARGE" @ 413,
    TooLarge => "TOO_LARGE" @ 413,
    UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE" @ 415,
    InternalError => "INTERNAL_ERROR" @ 500,
    StorageUnavailable => "STORAGE_UNAVAILABLE" @ 503,
    CenterBusy => "CENTER_BUSY" @ 503,
    HttpError => "HTTP_ERROR",
    // The center's administration and reads.
    InvalidRole => "INVALID_ROLE" @ 400,
    InvalidStaff => "INVALID_STAFF" @ 400,
    InvalidRubric => "INVALID_RUBRIC" @ 400,
    InvalidGrants => "INVALID_GRANTS" @ 400,
    UnknownSite => "UNKNOWN_SITE" @ 404,
    UnknownDevice => "UNKNOWN_DEVICE" @ 404,
    UnknownFeed => "UNKNOWN_FEED" @ 404,
    SiteExists => "SITE_EXISTS" @ 409,
    DeviceExists => "DEVICE_EXISTS" @ 409,
    DeviceAtOtherSite => "DEVICE_AT_OTHER_SITE" @ 409,
    NoPdfFont => "NO_PDF_FONT" @ 503,
    // A push refused whole.
    UnsupportedSchema => "UNSUPPORTED_SCHEMA" @ 400,
    BatchTooLarge => "BATCH_TOO_LARGE" @ 400,
    BadBatch => "BAD_BATCH" @ 400,
    SequenceGap => "SEQUENCE_GAP" @ 409,
    // A push entry's rejection reason (`EntryResult`), not an HTTP answer.
    SequenceReused => "SEQUENCE_REUSED",
    IdConflict => "ID_CONFLICT",
    InvalidPayload => "INVALID_PAYLOAD",
    SiteMismatch => "SITE_MISMATCH",
    // A push entry's, and (409) a gold-standard case asked for a corrected evaluation.
    AlreadySuperseded => "ALREADY_SUPERSEDED" @ 409,
    UnknownRubricVersion => "UNKNOWN_RUBRIC_VERSION",
    InvalidFindings => "INVALID_FINDINGS",
    ScoreMismatch => "SCORE_MISMATCH",
    // The gold standard (7.3.1): a case the center does not hold (a push entry's reason, the
    // app's, and 404 at the center), a read by someone the case did not assign that task, a
    // second read of a task already read, a case already final or cancelled, an evaluation
    // already in a case, too few senior readers to assign, a dispute the rules refuse (not the
    // person scored, a passed or corrected evaluation) or sent after the region's window, and a
    // random draw that does not read.
    UnknownGoldCase => "UNKNOWN_GOLD_CASE" @ 404,
    NotAssigned => "NOT_ASSIGNED",
    GoldAlreadyRead => "GOLD_ALREADY_READ",
    GoldCaseClosed => "GOLD_CASE_CLOSED" @ 409,
    GoldCaseExists => "GOLD_CASE_EXISTS" @ 409,
    NoGoldReaders => "NO_GOLD_READERS" @ 409,
    DisputeRefused => "DISPUTE_REFUSED",
    DisputeWindowClosed => "DISPUTE_WINDOW_CLOSED",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| format!("`{s}` is not an error code"))
    }
}

impl PartialEq<ErrorCode> for str {
    fn eq(&self, code: &ErrorCode) -> bool {
        self == code.as_str()
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, text: &&str) -> bool {
        self.as_str() == *text
    }
}

impl PartialEq<ErrorCode> for String {
    fn eq(&self, code: &ErrorCode) -> bool {
        self == code.as_str()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_listed_once_in_screaming_snake_case() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} is listed twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{s} is not SCREAMING_SNAKE_CASE"
            );
            assert_eq!(s.parse::<ErrorCode>(), Ok(*c));
        }
        assert!("SEQUENCE_GAPS".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn http_answers_have_an_error_status() {
        for c in ErrorCode::ALL {
            if let Some(status) = c.status() {
                assert!((400..600).contains(&status), "{c}: {status}");
            }
        }
        assert_eq!(ErrorCode::SequenceGap.status(), Some(409));
        assert_eq!(ErrorCode::SiteMismatch.status(), None);
        let wire = String::from("DISK_FULL");
        assert!(
            wire == ErrorCode::DiskFull && *"DISK_FULL" == ErrorCode::DiskFull && ErrorCode::DiskFull == "DISK_FULL"
        );
    }
}
