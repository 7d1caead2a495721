//! The server-side Lua scripts, one per atomic change, and the replies they give.
//!
//! Each script lives in `src/scripts/<name>.lua` and is compiled into the crate with
//! `include_str!`. [`redis::Script`] calls it by its SHA1 (`EVALSHA`) and loads it on a
//! `NOSCRIPT` reply, so a restarted or flushed server costs one extra round trip; `migrate()`
//! loads all of them up front. User data only ever reaches a script as `KEYS`/`ARGV`, never
//! as source text.
//!
//! What several scripts share is written once, in fragments of local functions that
//! `scripts!` prepends to the scripts that name them
//! (`CREATE_SESSION => "create_session.lua" after "upkeep.lua" "guards.lua"`):
//! - `upkeep.lua`, in every script that adds to an index of sessions or tokens: on every
//!   such write it drops index entries whose record has expired (on the server's clock,
//!   `TIME`, the clock `PXAT` runs on) and keeps each index set expiring with its last
//!   member, so no index grows without a sweeper;
//! - `guards.lua`: the checks before a write (the record is still the one Rust read; the
//!   owner exists and the key is free);
//! - `sweep.lua`: `delete_expired`'s pass over an expiry sorted set.
//!
//! Scripts report outcomes as status replies (`OK`, `NOT_FOUND`, `CONFLICT`,
//! `CONFLICT_EMAIL`, `RETRY`), records as bulk strings, counts as integers (or an array of
//! them) and absence as nil; [`Reply`] is that vocabulary on the Rust side.

use std::sync::LazyLock;

use redis::{Script, Value};

/// The source of a script: its file, after the shared fragments it names (if any), in order.
macro_rules! source {
    ($file:literal) => {
        include_str!(concat!("scripts/", $file))
    };
    ($file:literal after $($fragment:literal)+) => {
        concat!(
            $(include_str!(concat!("scripts/", $fragment)), "\n",)+
            include_str!(concat!("scripts/", $file))
        )
    };
}

macro_rules! scripts {
    ($($(#[$doc:meta])* $name:ident => $file:literal $(after $($fragment:literal)+)?;)*) => {
        $(
            $(#[$doc])*
            pub(crate) static $name: LazyLock<Script> =
                LazyLock::new(|| Script::new(source!($file $(after $($fragment)+)?)));
        )*

        /// The source the server runs of a script of this module (the file after its
        /// fragments), for `EVAL` when a node does not have it cached.
        pub(crate) fn source_of(script: &Script) -> &'static str {
            $(
                if std::ptr::eq(script, &*$name) {
                    return source!($file $(after $($fragment)+)?);
                }
            )*
            ""
        }

        /// Every script as `(file name, source, script)`, for `migrate()` to load them all.
        /// The source is what the server runs: the file after its fragments.
        pub(crate) fn all() -> Vec<(&'static str, &'static str, &'static Script)> {
            vec![$(($file, source!($file $(after $($fragment)+)?), &*$name),)*]
        }
    };
}

scripts! {
    /// Claims the id and the email key together.
    CREATE_USER => "create_user.lua";
    /// Replaces a user and moves its email claim (compare-and-set).
    UPDATE_USER => "update_user.lua";
    /// Removes a user with everything it owns.
    DELETE_USER => "delete_user.lua" after "guards.lua";
    /// link_account / create_authenticator: the owner must exist, the key must be free.
    INSERT_OWNED => "insert_owned.lua" after "guards.lua";
    /// unlink_account / delete_session / delete_authenticator: a record and its index entries.
    REMOVE_OWNED => "remove_owned.lua" after "guards.lua";
    /// Compare-and-set of one record.
    REPLACE_RECORD => "replace_record.lua" after "guards.lua";
    /// Drops index entries that no longer point at a record of the user.
    PRUNE_INDEX => "prune_index.lua";
    /// Stores a session with its expiry and index entries, and keeps the indexes bounded.
    CREATE_SESSION => "create_session.lua" after "upkeep.lua" "guards.lua";
    /// Reads a live session and its user in one round trip.
    GET_SESSION_AND_USER => "get_session_and_user.lua";
    /// Changes a live session's expiry and/or owner, and keeps the indexes bounded.
    UPDATE_SESSION => "update_session.lua" after "upkeep.lua" "guards.lua";
    /// Removes every session of a user, counting the live ones.
    DELETE_SESSIONS => "delete_sessions.lua";
    /// Sweeps expired sessions.
    SWEEP_SESSIONS => "sweep_sessions.lua" after "upkeep.lua" "sweep.lua";
    /// Stores a verification token with its expiry, and keeps the expiry set bounded.
    CREATE_VERIFICATION_TOKEN => "create_verification_token.lua" after "upkeep.lua";
    /// Takes a verification token.
    USE_VERIFICATION_TOKEN => "use_verification_token.lua";
    /// Sweeps expired verification tokens.
    SWEEP_TOKENS => "sweep_tokens.lua" after "upkeep.lua" "sweep.lua";
    /// Auth.js unstorage layout: every multi-key change, as one compare-and-set.
    UNSTORAGE_CAS => "unstorage_cas.lua";
    /// Auth.js unstorage layout: a session and its user in one round trip.
    UNSTORAGE_SESSION_AND_USER => "unstorage_session_and_user.lua";
    /// Cluster mode: writes a pending record if its key is free.
    CLUSTER_INSERT => "cluster/insert.lua";
    /// Cluster mode: compare-and-set of one key.
    CLUSTER_SWAP => "cluster/swap.lua";
    /// Cluster mode: makes a confirmed record durable.
    CLUSTER_SETTLE => "cluster/settle.lua";
    /// Cluster mode: removes a record if it is the one meant.
    CLUSTER_DELETE_IF => "cluster/delete_if.lua";
    /// Cluster mode: lists a record in its owner's index, if the owner exists.
    CLUSTER_INDEX_ADD => "cluster/index_add.lua";
    /// Cluster mode: the owner of a record, if its index lists the record.
    CLUSTER_OWNER_READ => "cluster/owner_read.lua";
    /// Cluster mode: removes a user and its indexes, returning what they listed.
    CLUSTER_TAKE_USER => "cluster/take_user.lua";
    /// Cluster mode: empties a user's sessions index, returning its tokens.
    CLUSTER_TAKE_INDEX => "cluster/take_index.lua";
}

/// What a script answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The change was made.
    Ok,
    /// Nothing there (nil).
    Absent,
    /// A record the change needs does not exist.
    NotFound,
    /// A unique key is taken.
    Conflict,
    /// The email is taken by another user.
    ConflictEmail,
    /// What Rust read changed before the script ran: read again and retry.
    Retry,
    /// One record.
    Record(Vec<u8>),
    /// Several records.
    Records(Vec<Vec<u8>>),
    /// A count.
    Count(i64),
    /// Several counts.
    Counts(Vec<i64>),
}

impl Reply {
    /// Reads a script's reply; `Err` names what was unexpected.
    pub(crate) fn parse(value: Value) -> Result<Self, String> {
        match value {
            Value::Nil => Ok(Self::Absent),
            Value::Okay => Ok(Self::Ok),
            Value::SimpleString(status) => match status.as_str() {
                "OK" => Ok(Self::Ok),
                "NOT_FOUND" => Ok(Self::NotFound),
                "CONFLICT" => Ok(Self::Conflict),
                "CONFLICT_EMAIL" => Ok(Self::ConflictEmail),
                "RETRY" => Ok(Self::Retry),
                other => Err(format!("unexpected script status {other:?}")),
            },
            Value::BulkString(bytes) => Ok(Self::Record(bytes)),
            Value::Int(n) => Ok(Self::Count(n)),
            Value::Array(items) if matches!(items.first(), Some(Value::Int(_))) => items
                .into_iter()
                .map(|item| match item {
                    Value::Int(n) => Ok(n),
                    other => Err(format!(
                        "unexpected {} in a script's array of counts",
                        type_name(&other)
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Counts),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::BulkString(bytes) => Ok(bytes),
                    other => Err(format!(
                        "unexpected {} in a script's array reply",
                        type_name(&other)
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Records),
            other => Err(format!("unexpected {} script reply", type_name(&other))),
        }
    }

    /// The variant's name, for error messages (never the record, which may hold a secret).
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Absent => "nil",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::ConflictEmail => "CONFLICT_EMAIL",
            Self::Retry => "RETRY",
            Self::Record(_) => "a record",
            Self::Records(_) => "records",
            Self::Count(_) => "a count",
            Self::Counts(_) => "counts",
        }
    }
}

/// The type of a reply, never its content.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::BulkString(_) => "bulk string",
        Value::Array(_) => "array",
        Value::SimpleString(_) => "status",
        Value::Okay => "OK",
        Value::Map(_) => "map",
        Value::Set(_) => "set",
        Value::Double(_) => "double",
        Value::Boolean(_) => "boolean",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_compiles_in_and_has_a_distinct_hash() {
        let scripts = all();
        assert_eq!(scripts.len(), 25);
        let hashes: std::collections::HashSet<_> = scripts
            .iter()
            .map(|(_, _, s)| s.get_hash().to_owned())
            .collect();
        assert_eq!(hashes.len(), scripts.len());
    }

    #[test]
    fn the_fragments_are_prepended_where_named() {
        let upkeep = include_str!("scripts/upkeep.lua");
        let with: Vec<_> = all()
            .into_iter()
            .filter(|(_, source, _)| source.starts_with(upkeep))
            .map(|(file, _, _)| file)
            .collect();
        assert_eq!(
            with,
            [
                "create_session.lua",
                "update_session.lua",
                "sweep_sessions.lua",
                "create_verification_token.lua",
                "sweep_tokens.lua"
            ]
        );
        let guarded = |fragment: &str| -> Vec<_> {
            all()
                .into_iter()
                .filter(|(_, source, _)| source.contains(fragment))
                .map(|(file, _, _)| file)
                .collect()
        };
        assert_eq!(
            guarded(include_str!("scripts/guards.lua")),
            [
                "delete_user.lua",
                "insert_owned.lua",
                "remove_owned.lua",
                "replace_record.lua",
                "create_session.lua",
                "update_session.lua"
            ]
        );
        assert_eq!(
            guarded(include_str!("scripts/sweep.lua")),
            ["sweep_sessions.lua", "sweep_tokens.lua"]
        );
        // The other scripts run their file as is.
        assert_eq!(
            all()[0].1,
            include_str!("scripts/create_user.lua"),
            "create_user has no fragment"
        );
    }

    #[test]
    fn replies_parse() {
        assert_eq!(Reply::parse(Value::Nil), Ok(Reply::Absent));
        assert_eq!(Reply::parse(Value::Okay), Ok(Reply::Ok));
        assert_eq!(
            Reply::parse(Value::SimpleString("RETRY".into())),
            Ok(Reply::Retry)
        );
        assert_eq!(Reply::parse(Value::Int(3)), Ok(Reply::Count(3)));
        assert_eq!(
            Reply::parse(Value::Array(vec![
                Value::BulkString(b"a".to_vec()),
                Value::BulkString(b"b".to_vec())
            ])),
            Ok(Reply::Records(vec![b"a".to_vec(), b"b".to_vec()]))
        );
        assert!(Reply::parse(Value::SimpleString("WHAT".into())).is_err());
        assert!(Reply::parse(Value::Array(vec![Value::Nil])).is_err());
        assert_eq!(
            Reply::parse(Value::Array(vec![Value::Int(2), Value::Int(1)])),
            Ok(Reply::Counts(vec![2, 1]))
        );
        assert!(Reply::parse(Value::Array(vec![Value::Int(2), Value::Nil])).is_err());
    }
}
