//! Signing in at this workstation: a secret a person chose here (its verifier, kept until the
//! center's roster carries it, and sent to the center by the sync client), and wrong attempts
//! with the lock they lead to. Every change is audited in the same transaction.
//!
//! Only verifiers are kept (`radqc_domain::credential`), never a secret.

use chrono::{DateTime, Duration, Utc};
use radqc_domain::credential::SecretPolicy;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::StoreError;
use crate::store::{parse_ts, ts, Store};

/// A secret a person chose at this workstation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSecret {
    pub staff: String,
    pub verifier: String,
    /// The version of the center's secret it replaced.
    pub based_on: i64,
    pub changed_at: DateTime<Utc>,
    /// When the center took it (it then publishes it as version `based_on + 1`).
    pub sent_at: Option<DateTime<Utc>>,
}

/// What a wrong attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Attempts left before the lock.
    Left(u32),
    /// The person is locked at this workstation until then.
    Locked(DateTime<Utc>),
}

impl Store {
    /// The secret a person chose here, if one is kept.
    pub fn local_secret(&self, staff: &str) -> Result<Option<LocalSecret>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT staff, verifier, based_on, changed_at, sent_at FROM local_secrets WHERE staff = ?1",
                [staff],
                local_secret_row,
            )
            .optional()?;
        Ok(row)
    }

    /// The secrets chosen here that the center has not taken yet.
    pub fn unsent_secrets(&self) -> Result<Vec<LocalSecret>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT staff, verifier, based_on, changed_at, sent_at FROM local_secrets WHERE sent_at IS NULL ORDER BY staff",
        )?;
        let rows = stmt.query_map([], local_secret_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps a secret a person chose here (its verifier), replacing one chosen before, audited.
    pub fn record_local_secret(
        &mut self,
        staff: &str,
        verifier: &str,
        based_on: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO local_secrets (staff, verifier, based_on, changed_at, sent_at) VALUES (?1, ?2, ?3, ?4, NULL)
             ON CONFLICT (staff) DO UPDATE SET verifier = excluded.verifier, based_on = excluded.based_on,
             changed_at = excluded.changed_at, sent_at = NULL",
            params![staff, verifier, based_on, ts(now)],
        )?;
        Self::log(&tx, staff, "secret_changed", Some(staff), Some(&format!("based on version {based_on}")), now)?;
        tx.commit()?;
        Ok(())
    }

    /// The center took the secret chosen here (the same verifier: a newer one chosen meanwhile
    /// stays unsent).
    pub fn mark_secret_sent(&mut self, staff: &str, verifier: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE local_secrets SET sent_at = ?3 WHERE staff = ?1 AND verifier = ?2",
            params![staff, verifier, ts(now)],
        )?;
        if n > 0 {
            Self::log(&tx, "sync", "secret_sent", Some(staff), None, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The center's secret changed since (an administrator reset it): the one chosen here is
    /// dropped, and the center's applies.
    pub fn drop_local_secret(&mut self, staff: &str, verifier: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let n = tx.execute("DELETE FROM local_secrets WHERE staff = ?1 AND verifier = ?2", params![staff, verifier])?;
        if n > 0 {
            Self::log(&tx, "sync", "secret_superseded", Some(staff), Some("the center's secret is newer"), now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Until when a person is locked at this workstation, if they are at `now`.
    pub fn locked_until(&self, staff: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let until: Option<Option<String>> = self
            .conn
            .query_row("SELECT locked_until FROM sign_in_attempts WHERE staff = ?1", [staff], |r| r.get(0))
            .optional()?;
        let until = match until.flatten() {
            Some(t) => Some(parse_ts(&t)?),
            None => None,
        };
        Ok(until.filter(|t| *t > now))
    }

    /// A wrong secret: counted, and at the policy's `max_attempts` in a row the person is locked
    /// for `lockout_minutes` (the count starts again after). Audited as `sign_in_failed`, and
    /// `locked_out` when it locks.
    pub fn record_sign_in_failure(
        &mut self,
        staff: &str,
        policy: &SecretPolicy,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Failure, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let failures: i64 = tx
            .query_row("SELECT failures FROM sign_in_attempts WHERE staff = ?1", [staff], |r| r.get(0))
            .optional()?
            .unwrap_or(0)
            + 1;
        Self::log(&tx, staff, "sign_in_failed", Some(staff), Some(why), now)?;
        let outcome = if failures >= i64::from(policy.max_attempts) {
            let until = now + Duration::minutes(i64::from(policy.lockout_minutes));
            tx.execute(
                "INSERT INTO sign_in_attempts (staff, failures, locked_until) VALUES (?1, 0, ?2)
                 ON CONFLICT (staff) DO UPDATE SET failures = 0, locked_until = excluded.locked_until",
                params![staff, ts(until)],
            )?;
            let detail = format!("{failures} wrong attempts; locked until {}", ts(until));
            Self::log(&tx, staff, "locked_out", Some(staff), Some(&detail), now)?;
            Failure::Locked(until)
        } else {
            tx.execute(
                "INSERT INTO sign_in_attempts (staff, failures, locked_until) VALUES (?1, ?2, NULL)
                 ON CONFLICT (staff) DO UPDATE SET failures = excluded.failures",
                params![staff, failures],
            )?;
            Failure::Left(policy.max_attempts.saturating_sub(failures as u32))
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// A right secret: the count of wrong ones starts again. Audited as `action` (`signed_in`,
    /// `session_unlocked`).
    pub fn record_sign_in(&mut self, staff: &str, action: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM sign_in_attempts WHERE staff = ?1", [staff])?;
        Self::log(&tx, staff, action, Some(staff), None, now)?;
        tx.commit()?;
        Ok(())
    }
}

fn local_secret_row(r: &rusqlite::Row) -> rusqlite::Result<LocalSecret> {
    Ok(LocalSecret {
        staff: r.get(0)?,
        verifier: r.get(1)?,
        based_on: r.get(2)?,
        changed_at: parse_ts(&r.get::<_, String>(3)?)?,
        sent_at: r.get::<_, Option<String>>(4)?.map(|t| parse_ts(&t)).transpose()?,
    })
}
