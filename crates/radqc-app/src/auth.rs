//! Who may sign in: a person's secret checked against a directory, offline by default (the
//! verifiers the center published in the site's roster, or one the person chose here), wrong
//! attempts that lock the person at this workstation, a forced change of a secret an
//! administrator set or that expired, and the session's lock after idle time.
//!
//! Architecture Invariant: every sign-in, wrong secret, lock-out, change, lock and unlock is in
//! the store's audit log, and no secret is kept or logged: only argon2id verifiers.

use chrono::{DateTime, Duration, Utc};
use radqc_domain::credential::{self, SecretPolicy};
use radqc_protocol::{StaffCredential, StaffMember};
use radqc_store::{Failure, Store};

use crate::session::roster_body;
use crate::{App, AppError, ErrorCode};

/// The seam for a hospital's own directory (LDAP / AD): it says whether a person's secret is
/// right, and takes a new one. The roster's verifiers are the default ([`RosterDirectory`]);
/// lock-out, the audit log and the session's lock stay the app's whatever the directory.
pub trait Directory: Send {
    /// Checks `secret` for `member` at `now`.
    fn verify(
        &self,
        store: &Store,
        member: &StaffMember,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, AppError>;
    /// Sets `member`'s new secret (already checked against the policy and their old one).
    fn change(
        &self,
        store: &mut Store,
        member: &StaffMember,
        new_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError>;
}

/// What a directory says of a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Right; `must_change` when the person must choose a new one before going on.
    Right {
        must_change: Option<ChangeWhy>,
    },
    Wrong,
    /// The person has no secret yet: an administrator sets one at the center.
    NoSecret,
}

/// Why a secret must be changed at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeWhy {
    /// An administrator set it (a first sign-in, or a reset).
    SetByAdministrator,
    /// Older than the region's `expiry_days`.
    Expired,
}

/// The verifier in force for a person: one chosen here that the center has not superseded, else
/// the roster's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    pub verifier: String,
    /// The center's version this secret is (a local one: the version it replaced).
    pub version: i64,
    pub must_change: bool,
    pub set_at: DateTime<Utc>,
}

/// The default directory: the verifiers the center published, checked offline (in the demo,
/// the demo department's, whose secret is [`crate::DEMO_SECRET`]).
pub struct RosterDirectory {
    pub demo: bool,
}

impl RosterDirectory {
    pub fn in_force(
        store: &Store,
        code: &str,
        published: Option<&StaffCredential>,
    ) -> Result<Option<InForce>, AppError> {
        let local = store.local_secret(code)?;
        Ok(match (local, published) {
            // Chosen here from the version the center still publishes (or before the center's
            // roster carried any): the person's newest.
            (Some(l), p) if p.is_none_or(|p| l.based_on >= p.version) => {
                Some(InForce { verifier: l.verifier, version: l.based_on, must_change: false, set_at: l.changed_at })
            }
            (_, Some(p)) => Some(InForce {
                verifier: p.verifier.clone(),
                version: p.version,
                must_change: p.must_change,
                set_at: p.set_at,
            }),
            // Unreachable by the first arm (a local one with no published one is in force); kept
            // explicit for the compiler.
            (Some(_), None) | (None, None) => None,
        })
    }
}

impl App {
    /// The region's secret policy (published with the roster; the default before any).
    pub fn secret_policy(&self) -> Result<SecretPolicy, AppError> {
        Ok(roster_body(&self.store, self.config.demo)?.and_then(|b| b.policy).unwrap_or_default())
    }

    fn member(&self, code: &str) -> Result<StaffMember, AppError> {
        self.roster()?.into_iter().find(|m| m.code == code).ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownStaff,
                format!("名册中没有工号 {code}"),
                format!("no staff member {code} in the roster"),
            )
        })
    }

    /// Checks a person's secret, counting a wrong one (and locking them out at the policy's
    /// count).
    fn check_secret(&mut self, member: &StaffMember, secret: &str, now: DateTime<Utc>) -> Result<Verdict, AppError> {
        let policy = self.secret_policy()?;
        if let Some(until) = self.store.locked_until(&member.code, now)? {
            self.store.audit(&member.code, "sign_in_refused", Some(&member.code), Some("locked out"), now)?;
            return Err(locked_out(until, now));
        }
        let verdict = self.directory.verify(&self.store, member, secret, now)?;
        match verdict {
            Verdict::Wrong => match self.store.record_sign_in_failure(&member.code, &policy, "wrong secret", now)? {
                Failure::Locked(until) => Err(locked_out(until, now)),
                Failure::Left(left) => Err(AppError::new(
                    ErrorCode::SignInFailed,
                    format!("工号或密码错误，还可尝试 {left} 次"),
                    format!("wrong staff code or secret; {left} attempts left"),
                )),
            },
            Verdict::NoSecret => {
                self.store.audit(&member.code, "sign_in_failed", Some(&member.code), Some("no secret set"), now)?;
                Err(AppError::new(
                    ErrorCode::NoSecret,
                    "尚未设置密码：请联系区域中心管理员设置初始密码",
                    "no secret is set for this person yet: ask the center's administrator for one",
                ))
            }
            right => Ok(right),
        }
    }

    /// Signs a person in with their secret. A secret that must be changed first (set by an
    /// administrator, or expired) is refused with `SECRET_CHANGE_REQUIRED`: the person signs in
    /// with `change_secret`.
    pub fn sign_in(&mut self, code: &str, secret: &str, now: DateTime<Utc>) -> Result<StaffMember, AppError> {
        let member = match self.member(code) {
            Ok(m) => m,
            Err(e) => {
                self.store.audit("app", "sign_in_failed", Some(code), Some("unknown staff code"), now)?;
                return Err(e);
            }
        };
        match self.check_secret(&member, secret, now)? {
            Verdict::Right { must_change: Some(why) } => {
                self.store.audit(
                    &member.code,
                    "sign_in_change_required",
                    Some(&member.code),
                    Some(why.as_str()),
                    now,
                )?;
                Err(change_required(why))
            }
            _ => {
                self.store.record_sign_in(&member.code, "signed_in", now)?;
                self.user = Some(member.clone());
                self.locked = false;
                self.last_activity = now;
                Ok(member)
            }
        }
    }

    /// Changes a person's secret (their current one proves it is them) and signs them in. The new
    /// one must meet the region's policy and differ from the current one.
    pub fn change_secret(
        &mut self,
        code: &str,
        current: &str,
        new_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<StaffMember, AppError> {
        let member = self.member(code)?;
        self.check_secret(&member, current, now)?;
        let policy = self.secret_policy()?;
        policy.check_new(&member.code, new_secret).map_err(|e| AppError::new(ErrorCode::WeakSecret, e.zh, e.en))?;
        if new_secret == current {
            return Err(AppError::new(
                ErrorCode::WeakSecret,
                "新密码不能与原密码相同",
                "the new secret is the current one",
            ));
        }
        self.directory.change(&mut self.store, &member, new_secret, now)?;
        self.store.record_sign_in(&member.code, "signed_in", now)?;
        self.user = Some(member.clone());
        self.locked = false;
        self.last_activity = now;
        Ok(member)
    }

    /// The person is still there (a key or the mouse in the window): the idle time starts again.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        if !self.locked {
            self.last_activity = self.last_activity.max(now);
        }
    }

    /// Locks the session when it was idle for the configured time; true when it locked now.
    pub fn lock_if_idle(&mut self, now: DateTime<Utc>) -> Result<bool, AppError> {
        let idle = Duration::from_std(self.config.idle_lock).unwrap_or(Duration::MAX);
        if self.user.is_some() && !self.locked && now - self.last_activity >= idle {
            self.lock("idle", now)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Locks the session to a prompt for the same person's secret (`why`: idle, the OS session
    /// locked, or the person's own choice). Held signatures keep waiting.
    pub fn lock(&mut self, why: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        if let (Some(user), false) = (&self.user, self.locked) {
            self.store.audit(&user.code, "session_locked", Some(&user.code), Some(why), now)?;
            self.locked = true;
        }
        Ok(())
    }

    /// Opens a locked session with the same person's secret.
    pub fn unlock(&mut self, secret: &str, now: DateTime<Utc>) -> Result<StaffMember, AppError> {
        let member =
            self.user.clone().ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "请先登录", "sign in first"))?;
        if !self.locked {
            return Ok(member);
        }
        // A secret that must change now still opens the session it was right for.
        self.check_secret(&member, secret, now)?;
        self.store.record_sign_in(&member.code, "session_unlocked", now)?;
        self.locked = false;
        self.last_activity = now;
        Ok(member)
    }

    pub fn locked(&self) -> bool {
        self.locked
    }
}

impl ChangeWhy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetByAdministrator => "set_by_administrator",
            Self::Expired => "expired",
        }
    }
}

fn change_required(why: ChangeWhy) -> AppError {
    match why {
        ChangeWhy::SetByAdministrator => AppError::new(
            ErrorCode::SecretChangeRequired,
            "这是管理员设置的初始密码：请设置您自己的新密码",
            "this secret was set by an administrator: choose your own",
        ),
        ChangeWhy::Expired => AppError::new(
            ErrorCode::SecretChangeRequired,
            "密码已过期：请设置新密码",
            "your secret has expired: choose a new one",
        ),
    }
}

fn locked_out(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let minutes = ((until - now).num_seconds() + 59) / 60;
    AppError::new(
        ErrorCode::LockedOut,
        format!("密码错误次数过多，已在本工作站锁定，请 {minutes} 分钟后再试"),
        format!("too many wrong secrets: locked at this workstation for {minutes} more minutes"),
    )
}

impl Directory for RosterDirectory {
    fn verify(
        &self,
        store: &Store,
        member: &StaffMember,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, AppError> {
        let body = roster_body(store, self.demo)?;
        let published = body.as_ref().and_then(|b| b.credentials.iter().find(|c| c.code == member.code));
        let Some(in_force) = Self::in_force(store, &member.code, published)? else {
            return Ok(Verdict::NoSecret);
        };
        let right = credential::verify(&in_force.verifier, secret).map_err(|e| {
            AppError::new(
                ErrorCode::InvalidVerifier,
                format!("{}：请联系区域中心管理员重设密码", e.zh),
                format!("{}: ask the center's administrator to set the secret again", e.en),
            )
        })?;
        if !right {
            return Ok(Verdict::Wrong);
        }
        let policy = body.and_then(|b| b.policy).unwrap_or_default();
        let must_change = if in_force.must_change {
            Some(ChangeWhy::SetByAdministrator)
        } else if policy.expired(in_force.set_at, now) {
            Some(ChangeWhy::Expired)
        } else {
            None
        };
        Ok(Verdict::Right { must_change })
    }

    fn change(
        &self,
        store: &mut Store,
        member: &StaffMember,
        new_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let body = roster_body(store, self.demo)?;
        let published = body.as_ref().and_then(|b| b.credentials.iter().find(|c| c.code == member.code));
        let based_on = Self::in_force(store, &member.code, published)?.map_or(0, |f| f.version);
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| {
            AppError::new(ErrorCode::InternalError, format!("系统随机数不可用：{e}"), format!("no OS randomness: {e}"))
        })?;
        let verifier = credential::make_verifier(new_secret, &salt);
        // Kept here at once (the person signs in with it offline) and sent by the next sync.
        store.record_local_secret(&member.code, &verifier, based_on, now)?;
        Ok(())
    }
}
