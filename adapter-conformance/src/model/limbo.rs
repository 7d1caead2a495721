//! Expired records the contract leaves open. Nothing expired is ever returned, but whether
//! an expired session or token still *exists* differs by store, and the contract allows
//! each: Redis and TTL indexes drop them by themselves, SQL keeps them until
//! `delete_expired`, and `delete_sessions` "may" remove the expired ones of a user. Where an
//! answer depends on that, either answer is right; this module says when, and brings the
//! model to the adapter's side so the sequence goes on from the same state.

use std::collections::HashMap;

use auth_core::memory::MemoryAdapter;
use auth_core::{Adapter, ErrorKind};

use super::ops::{self, Answer, Keys, Op};
use super::rules::Rules;

/// Expired sessions the model no longer holds but the adapter may (a `delete_sessions` is
/// allowed to leave them), by token, with their owner.
#[derive(Debug, Default)]
pub(crate) struct Limbo {
    sessions: HashMap<String, String>,
}

impl Limbo {
    /// Notes, before `op` runs on the model, what it may leave on the adapter.
    pub(crate) fn before(&mut self, op: Op, model: &MemoryAdapter, keys: &Keys) {
        if let Op::DeleteSessions { user } = op {
            let owner = keys.user(user);
            for session in model.snapshot().sessions.values() {
                if session.user_id == owner && session.expires <= keys.base {
                    self.sessions
                        .insert(session.session_token.clone(), owner.clone());
                }
            }
        }
    }

    /// Forgets what `op` has surely removed from the adapter too.
    pub(crate) fn after(&mut self, op: Op, actual: &Answer, keys: &Keys) {
        match op {
            Op::DeleteSession { session } => {
                self.sessions.remove(&keys.session(session));
            }
            // A create that succeeded on the adapter found the token free.
            Op::CreateSession { session, .. } if matches!(actual, Answer::Session(Some(_))) => {
                self.sessions.remove(&keys.session(session));
            }
            Op::DeleteUser { user } => {
                let owner = keys.user(user);
                self.sessions.retain(|_, of| *of != owner);
            }
            Op::DeleteExpired => self.sessions.clear(),
            _ => {}
        }
    }

    /// Whether the adapter's `actual` answer to `op` is right where the model answered
    /// `expected`, because of an expired record one of them may hold and the other not;
    /// if so, the model is brought to the adapter's state.
    pub(crate) async fn explains(
        &self,
        op: Op,
        expected: &Answer,
        actual: &Answer,
        model: &MemoryAdapter,
        keys: &Keys,
        rules: &Rules,
    ) -> bool {
        let conflict = |answer: &Answer| matches!(answer, Answer::Failed(_, ErrorKind::Conflict));
        match op {
            Op::CreateSession { session, .. } => {
                let token = keys.session(session);
                let expired_in_model = model
                    .snapshot()
                    .sessions
                    .get(&token)
                    .is_some_and(|s| s.expires <= keys.base);
                if conflict(expected)
                    && matches!(actual, Answer::Session(Some(_)))
                    && expired_in_model
                {
                    // The adapter's store had dropped the expired session: so does the model.
                    let _ = model.delete_session(&token).await;
                    return ops::apply(model, op, keys, rules).await == *actual;
                }
                if !(conflict(actual) && self.sessions.contains_key(&token)) {
                    return false;
                }
                match expected {
                    // The adapter kept the expired session: the model's new one is undone.
                    Answer::Session(Some(_)) => {
                        let _ = model.delete_session(&token).await;
                        true
                    }
                    // The owner is missing too: either failure is right.
                    Answer::Failed(_, ErrorKind::NotFound) => true,
                    _ => false,
                }
            }
            Op::CreateVerificationToken { token, .. } => {
                let (identifier, secret) = keys.token(token);
                let expired_in_model = model
                    .snapshot()
                    .verification_tokens
                    .get(&(identifier.clone(), secret.clone()))
                    .is_some_and(|t| t.expires <= keys.base);
                if conflict(expected)
                    && matches!(actual, Answer::Token(Some(_)))
                    && expired_in_model
                {
                    // Using an expired token removes it (and gives None).
                    let _ = model.use_verification_token(&identifier, &secret).await;
                    return ops::apply(model, op, keys, rules).await == *actual;
                }
                false
            }
            Op::DeleteSession { session } => match (expected, actual) {
                (Answer::Session(Some(s)), Answer::Session(None)) => s.expires <= keys.base,
                (Answer::Session(None), Answer::Session(Some(s))) => {
                    s.expires <= keys.base && self.sessions.contains_key(&keys.session(session))
                }
                _ => false,
            },
            Op::DeleteExpired => match (expected, actual) {
                (Answer::Expired(model_counts), Answer::Expired(counts)) => {
                    let lingering = self.sessions.len() as u64;
                    counts.sessions <= model_counts.sessions + lingering
                        && counts.verification_tokens <= model_counts.verification_tokens
                }
                _ => false,
            },
            _ => false,
        }
    }
}
