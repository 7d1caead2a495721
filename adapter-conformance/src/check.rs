//! The assertion vocabulary of the scenarios: failures are values, not panics, so the
//! runner always tears a fixture down and reports which check broke.

use std::fmt;

use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    truncate_to_millis, AdapterError, AdapterResult, Authenticator, ErrorCode, ErrorKind, Session,
    User, VerificationToken,
};

use crate::fixture::BoxError;

/// Why a scenario failed, in one readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl Failure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

impl From<AdapterError> for Failure {
    fn from(err: AdapterError) -> Self {
        Self(format!("unexpected adapter error: {err}"))
    }
}

impl From<BoxError> for Failure {
    fn from(err: BoxError) -> Self {
        Self(format!("raw read of the backend failed: {err}"))
    }
}

/// What a scenario returns.
pub type Outcome = Result<(), Failure>;

/// Fails the scenario unless the condition holds.
#[macro_export]
#[doc(hidden)]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::check::Failure::new(format!($($fmt)+)));
        }
    };
}

/// Fails the scenario unless `actual == expected`, showing both.
#[macro_export]
#[doc(hidden)]
macro_rules! ensure_eq {
    ($actual:expr, $expected:expr, $($fmt:tt)+) => {
        match (&$actual, &$expected) {
            (actual, expected) => {
                if actual != expected {
                    return Err($crate::check::Failure::new(format!(
                        "{}:\n  expected {:?}\n  got      {:?}",
                        format!($($fmt)+),
                        expected,
                        actual
                    )));
                }
            }
        }
    };
}

/// Checks that a call failed with the given kind and code.
pub fn expect_error<T: fmt::Debug>(
    result: AdapterResult<T>,
    kind: ErrorKind,
    code: ErrorCode,
    what: &str,
) -> Outcome {
    match result {
        Ok(value) => Err(Failure::new(format!(
            "{what}: expected a {kind} error ({code}), got Ok({value:?})"
        ))),
        Err(err) if err.kind() == kind && err.code() == code => Ok(()),
        Err(err) => Err(Failure::new(format!(
            "{what}: expected a {kind} error ({code}), got {} error: {err}",
            err.kind()
        ))),
    }
}

/// A value with its timestamps cut to the millisecond, the precision every backend keeps.
pub trait AtMillis {
    /// The same value, timestamps truncated to the millisecond.
    fn at_millis(&self) -> Self;
}

impl AtMillis for DateTime<Utc> {
    fn at_millis(&self) -> Self {
        truncate_to_millis(*self)
    }
}

impl AtMillis for User {
    fn at_millis(&self) -> Self {
        Self {
            email_verified: self.email_verified.map(truncate_to_millis),
            ..self.clone()
        }
    }
}

impl AtMillis for Session {
    fn at_millis(&self) -> Self {
        Self {
            expires: truncate_to_millis(self.expires),
            ..self.clone()
        }
    }
}

impl AtMillis for VerificationToken {
    fn at_millis(&self) -> Self {
        Self {
            expires: truncate_to_millis(self.expires),
            ..self.clone()
        }
    }
}

impl AtMillis for auth_core::Account {
    fn at_millis(&self) -> Self {
        self.clone()
    }
}

impl AtMillis for Authenticator {
    fn at_millis(&self) -> Self {
        self.clone()
    }
}

impl<T: AtMillis> AtMillis for Option<T> {
    fn at_millis(&self) -> Self {
        self.as_ref().map(AtMillis::at_millis)
    }
}

impl<T: AtMillis> AtMillis for Vec<T> {
    fn at_millis(&self) -> Self {
        self.iter().map(AtMillis::at_millis).collect()
    }
}

impl<A: AtMillis, B: AtMillis> AtMillis for (A, B) {
    fn at_millis(&self) -> Self {
        (self.0.at_millis(), self.1.at_millis())
    }
}

/// Fails unless the two values are equal to the millisecond.
pub fn same<T: AtMillis + PartialEq + fmt::Debug>(actual: &T, expected: &T, what: &str) -> Outcome {
    let (actual, expected) = (actual.at_millis(), expected.at_millis());
    if actual == expected {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "{what}:\n  expected {expected:?}\n  got      {actual:?}"
        )))
    }
}

/// Sorts a list by a key, so order-free results compare.
pub fn sorted_by_key<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    items.sort_by_key(key);
    items
}
