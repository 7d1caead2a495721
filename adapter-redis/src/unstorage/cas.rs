//! [`Cas`]: one compare-and-set of this layout, the way every change that touches more
//! than one key is made (`unstorage_cas.lua`): the keys as Rust read them, and what to
//! write if every one of them still holds that.

use auth_core::chrono::{DateTime, Utc};
use auth_core::{AdapterResult, Operation};

use crate::connection::{Attempt, Db};
use crate::error::unexpected_outcome;
use crate::scripts::{self, Reply};

/// A write of a compare-and-set: set (with an optional expiry, epoch ms) or delete.
enum Write {
    Set(String, Option<i64>),
    Del,
}

/// One compare-and-set: the keys as Rust read them, and what to write.
#[derive(Default)]
pub(super) struct Cas {
    checks: Vec<(String, Option<Vec<u8>>)>,
    writes: Vec<(String, Write)>,
}

impl Cas {
    /// `key` must still hold `value` (or still be absent).
    pub(super) fn expect(&mut self, key: &str, value: Option<&[u8]>) -> &mut Self {
        self.checks
            .push((key.to_owned(), value.map(<[u8]>::to_vec)));
        self
    }

    pub(super) fn set(&mut self, key: &str, value: String) -> &mut Self {
        self.writes.push((key.to_owned(), Write::Set(value, None)));
        self
    }

    /// Sets `key` to expire at `at_ms` (epoch milliseconds), as Auth.js tolerates.
    pub(super) fn set_until(&mut self, key: &str, value: String, at: DateTime<Utc>) -> &mut Self {
        let at_ms = at.timestamp_millis();
        self.writes
            .push((key.to_owned(), Write::Set(value, Some(at_ms))));
        self
    }

    pub(super) fn del(&mut self, key: &str) -> &mut Self {
        self.writes.push((key.to_owned(), Write::Del));
        self
    }

    /// Runs the compare-and-set: `true` when written, `false` when a key changed since it
    /// was read (read again).
    pub(super) async fn run(&self, db: &Db, op: Operation) -> AdapterResult<bool> {
        let mut invocation = scripts::UNSTORAGE_CAS.prepare_invoke();
        for (key, _) in &self.checks {
            invocation.key(key);
        }
        for (key, _) in &self.writes {
            invocation.key(key);
        }
        invocation.arg(self.checks.len()).arg(self.writes.len());
        for (_, value) in &self.checks {
            match value {
                Some(v) => invocation.arg("=").arg(v.as_slice()),
                None => invocation.arg("-").arg(""),
            };
        }
        for (_, write) in &self.writes {
            match write {
                Write::Set(value, None) => invocation.arg("SET").arg(value).arg(""),
                Write::Set(value, Some(at)) => invocation.arg("SET").arg(value).arg(*at),
                Write::Del => invocation.arg("DEL").arg("").arg(""),
            };
        }
        match db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(true),
            Reply::Retry => Ok(false),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    /// Runs the compare-and-set as one attempt of [`Db::retrying`]: done with `value` when
    /// written, else read again.
    pub(super) async fn attempt<T>(
        &self,
        db: &Db,
        op: Operation,
        value: T,
    ) -> AdapterResult<Attempt<T>> {
        Ok(if self.run(db, op).await? {
            Attempt::Done(value)
        } else {
            Attempt::Retry
        })
    }
}
