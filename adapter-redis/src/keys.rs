//! The key layout: the one place that builds every Redis key the adapter touches.
//!
//! Every key is `<prefix><kind>:<parts>`. The prefix is validated once
//! ([`KeyLayout::new`]); the kind is a fixed word; each variable part is written as
//! `<byte length>:<bytes>` and parts are joined with `:`, so no two different tuples
//! ever give the same key, whatever bytes the parts hold:
//!
//! | tuple | key (prefix `auth:`) |
//! |---|---|
//! | provider `a:b`, account `c` | `auth:account:3:a:b:1:c` |
//! | provider `a`, account `b:c` | `auth:account:1:a:3:b:c` |
//!
//! What lasts and what expires (no sweeper needed; `delete_expired` only cleans up sooner):
//!
//! | key | bound |
//! |---|---|
//! | [`user`](KeyLayout::user), [`email`](KeyLayout::email), [`account`](KeyLayout::account), [`authenticator`](KeyLayout::authenticator), [`user_accounts`](KeyLayout::user_accounts), [`user_authenticators`](KeyLayout::user_authenticators), [`schema_version`](KeyLayout::schema_version) | lasting records and their lookup indexes, removed with the user |
//! | [`session`](KeyLayout::session), [`verification_token`](KeyLayout::verification_token) | `PEXPIREAT expires` |
//! | [`user_sessions`](KeyLayout::user_sessions) | expires no earlier than its longest-lived session, raised on every add; drops expired members on the next write to it |
//! | [`session_expiries`](KeyLayout::session_expiries), [`token_expiries`](KeyLayout::token_expiries) | expire at their highest score; drop expired entries on the next write to them |
//!
//! The upkeep runs inside the scripts that add to these sets (`src/scripts/upkeep.lua`, on
//! the server's clock), and builds the keys of other users' entries in Lua exactly as this
//! module does: `<prefix>user-sessions:<len>:<uid>` from a decoded [`session_member`].
//!
//! Nothing here is ever used as a glob pattern or as Lua source: user data only travels
//! as `KEYS`/`ARGV` of a script or as a command argument. The only glob the adapter
//! builds is [`KeyLayout::scan_pattern`], from the validated prefix alone.
//!
//! ```
//! use adapter_redis::keys::KeyLayout;
//!
//! let keys = KeyLayout::new("auth:").unwrap();
//! assert_eq!(keys.user("u1"), "auth:user:2:u1");
//! assert_ne!(keys.account("a:b", "c"), keys.account("a", "b:c"));
//! assert!(KeyLayout::new("bad prefix*").is_err());
//! ```

use std::fmt::{self, Write as _};

/// The key prefix used when none is configured.
///
/// ```
/// assert_eq!(adapter_redis::keys::KeyLayout::default().prefix(), adapter_redis::keys::DEFAULT_PREFIX);
/// ```
pub const DEFAULT_PREFIX: &str = "auth:";

/// The longest prefix accepted, in bytes.
///
/// ```
/// use adapter_redis::keys::{KeyLayout, MAX_PREFIX_LEN};
/// assert!(KeyLayout::new("x".repeat(MAX_PREFIX_LEN + 1)).is_err());
/// ```
pub const MAX_PREFIX_LEN: usize = 128;

/// The kind words, written right after the prefix. None is a prefix of another followed
/// by `:`, so kinds never collide either.
mod kind {
    pub const USER: &str = "user:";
    pub const EMAIL: &str = "email:";
    pub const ACCOUNT: &str = "account:";
    pub const SESSION: &str = "session:";
    pub const VERIFICATION_TOKEN: &str = "vtoken:";
    pub const AUTHENTICATOR: &str = "authenticator:";
    pub const USER_SESSIONS: &str = "user-sessions:";
    pub const USER_ACCOUNTS: &str = "user-accounts:";
    pub const USER_AUTHENTICATORS: &str = "user-authenticators:";
    pub const SESSION_EXPIRIES: &str = "session-expiries";
    pub const TOKEN_EXPIRIES: &str = "vtoken-expiries";
    pub const SCHEMA_VERSION: &str = "schema-version";
}

/// Why a key prefix was refused.
///
/// ```
/// let err = adapter_redis::keys::KeyLayout::new("a b").unwrap_err();
/// assert!(err.to_string().contains("may hold only"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPrefix(String);

impl fmt::Display for InvalidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidPrefix {}

/// Builds every key of one adapter from its validated prefix.
///
/// A prefix is 1 to [`MAX_PREFIX_LEN`] bytes of ASCII letters, digits and `: _ - . / { }`:
/// no whitespace and no glob characters (`* ? [ ] \`), so the prefix can never match
/// another prefix's keys in a `SCAN MATCH`. Braces are allowed so that a Redis Cluster
/// user can put every key in one hash slot with a prefix like `{auth}:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    prefix: String,
    /// Cluster mode: a user's record and index sets carry the hash tag of the user
    /// ([`user_tag`]), so they share one slot.
    clustered: bool,
}

impl Default for KeyLayout {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            clustered: false,
        }
    }
}

impl KeyLayout {
    /// A layout under `prefix`, if it is a valid prefix (see the type docs).
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert!(KeyLayout::new("{myapp}:auth:").is_ok());
    /// assert!(KeyLayout::new("").is_err());
    /// assert!(KeyLayout::new("a?b").is_err());
    /// ```
    pub fn new(prefix: impl Into<String>) -> Result<Self, InvalidPrefix> {
        let prefix = prefix.into();
        if prefix.is_empty() {
            return Err(InvalidPrefix("the key prefix must not be empty".to_owned()));
        }
        if prefix.len() > MAX_PREFIX_LEN {
            return Err(InvalidPrefix(format!(
                "the key prefix is {} bytes long; at most {MAX_PREFIX_LEN} are allowed",
                prefix.len()
            )));
        }
        if let Some(bad) = prefix.chars().find(|c| !is_prefix_char(*c)) {
            return Err(InvalidPrefix(format!(
                "the key prefix may hold only ASCII letters, digits and `:_-./{{}}`, not {bad:?}"
            )));
        }
        Ok(Self {
            prefix,
            clustered: false,
        })
    }

    /// The layout of the cluster mode under `prefix`: the same keys, except that a user's
    /// record and its three index sets ([`user`](Self::user),
    /// [`user_sessions`](Self::user_sessions), [`user_accounts`](Self::user_accounts),
    /// [`user_authenticators`](Self::user_authenticators)) start with the user's hash tag
    /// (`<prefix>{<16 hex digits>}user:…`), so they share one slot and each user lands on
    /// its own. Every other key holds one record and lands wherever its name hashes. The
    /// prefix may not hold `{` or `}`: a hash tag there would put every key in one slot.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// let keys = KeyLayout::clustered("auth:").unwrap();
    /// assert_eq!(keys.user("u1"), "auth:{08c47b07b56747f3}user:2:u1");
    /// assert_eq!(keys.session("tok"), "auth:session:3:tok");
    /// assert!(KeyLayout::clustered("{auth}:").is_err());
    /// ```
    pub fn clustered(prefix: impl Into<String>) -> Result<Self, InvalidPrefix> {
        let layout = Self::new(prefix)?;
        if layout.prefix.contains(['{', '}']) {
            return Err(InvalidPrefix(
                "in cluster mode the key prefix may not hold `{` or `}`: the adapter places \
                 keys in slots itself, and a hash tag in the prefix would put every key in one slot"
                    .to_owned(),
            ));
        }
        Ok(Self {
            clustered: true,
            ..layout
        })
    }

    /// Whether this is the cluster mode's layout ([`clustered`](Self::clustered)).
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert!(!KeyLayout::default().is_clustered());
    /// ```
    pub fn is_clustered(&self) -> bool {
        self.clustered
    }

    /// The prefix every key starts with.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::new("app:").unwrap().prefix(), "app:");
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A user record: `<prefix>user:<id>`.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().user("u1"), "auth:user:2:u1");
    /// ```
    pub fn user(&self, id: &str) -> String {
        self.user_key(kind::USER, id)
    }

    /// The email claim: `<prefix>email:<email key>` → user id. The email key is what the
    /// policy layer passes to the store ([`normalize_email`](auth_core::normalize_email) of
    /// the email).
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().email("ada@x.io"), "auth:email:8:ada@x.io");
    /// ```
    pub fn email(&self, email_key: &str) -> String {
        self.key(kind::EMAIL, &[email_key])
    }

    /// An account record: `<prefix>account:<provider>:<provider_account_id>`.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().account("github", "42"), "auth:account:6:github:2:42");
    /// ```
    pub fn account(&self, provider: &str, provider_account_id: &str) -> String {
        self.key(kind::ACCOUNT, &[provider, provider_account_id])
    }

    /// A session record: `<prefix>session:<token>`.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().session("tok"), "auth:session:3:tok");
    /// ```
    pub fn session(&self, session_token: &str) -> String {
        self.key(kind::SESSION, &[session_token])
    }

    /// A verification token record: `<prefix>vtoken:<identifier>:<token>`.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().verification_token("a@x", "t"), "auth:vtoken:3:a@x:1:t");
    /// ```
    pub fn verification_token(&self, identifier: &str, token: &str) -> String {
        self.key(kind::VERIFICATION_TOKEN, &[identifier, token])
    }

    /// An authenticator record: `<prefix>authenticator:<credential id>`.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().authenticator("c1"), "auth:authenticator:2:c1");
    /// ```
    pub fn authenticator(&self, credential_id: &str) -> String {
        self.key(kind::AUTHENTICATOR, &[credential_id])
    }

    /// The set of a user's session tokens. It expires no earlier than the latest of its
    /// sessions (each add only ever raises its `PEXPIREAT`), and each write to it drops the
    /// members whose session has expired: after the user's last session, nothing of it is
    /// left. A set without expiry (written by an earlier version) gets one on its next add.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().user_sessions("u1"), "auth:user-sessions:2:u1");
    /// ```
    pub fn user_sessions(&self, user_id: &str) -> String {
        self.user_key(kind::USER_SESSIONS, user_id)
    }

    /// The set of a user's accounts; members are [`account_member`]s.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().user_accounts("u1"), "auth:user-accounts:2:u1");
    /// ```
    pub fn user_accounts(&self, user_id: &str) -> String {
        self.user_key(kind::USER_ACCOUNTS, user_id)
    }

    /// The set of a user's credential ids.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().user_authenticators("u1"), "auth:user-authenticators:2:u1");
    /// ```
    pub fn user_authenticators(&self, user_id: &str) -> String {
        self.user_key(kind::USER_AUTHENTICATORS, user_id)
    }

    /// The sorted set of every session's expiry (score: epoch ms; member:
    /// [`session_member`]). Each write that adds to it first drops up to 1,000 entries that
    /// have expired (with their [`user_sessions`](Self::user_sessions) members), and it
    /// expires at its highest score; `delete_expired` sweeps it too.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().session_expiries(), "auth:session-expiries");
    /// ```
    pub fn session_expiries(&self) -> String {
        format!("{}{}", self.prefix, kind::SESSION_EXPIRIES)
    }

    /// The sorted set of every verification token's expiry (score: epoch ms; member:
    /// [`token_member`]). Each write that adds to it first drops every entry that has
    /// expired, and it expires at its highest score; `delete_expired` sweeps it too.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().token_expiries(), "auth:vtoken-expiries");
    /// ```
    pub fn token_expiries(&self) -> String {
        format!("{}{}", self.prefix, kind::TOKEN_EXPIRIES)
    }

    /// The layout version written by `migrate()`.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::default().schema_version(), "auth:schema-version");
    /// ```
    pub fn schema_version(&self) -> String {
        format!("{}{}", self.prefix, kind::SCHEMA_VERSION)
    }

    /// The `SCAN MATCH` pattern of every key under this prefix.
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// assert_eq!(KeyLayout::new("{t}:").unwrap().scan_pattern(), "{t}:*");
    /// ```
    pub fn scan_pattern(&self) -> String {
        format!("{}*", glob_escape(&self.prefix))
    }

    /// The account key rebuilt from a member of [`user_accounts`](Self::user_accounts).
    ///
    /// ```
    /// use adapter_redis::keys::KeyLayout;
    /// let keys = KeyLayout::default();
    /// assert_eq!(keys.account_from_member("6:github:2:42"), keys.account("github", "42"));
    /// ```
    pub fn account_from_member(&self, member: &str) -> String {
        format!("{}{}{}", self.prefix, kind::ACCOUNT, member)
    }

    /// A key of the user's group: tagged with [`user_tag`] in cluster mode.
    fn user_key(&self, kind: &str, user_id: &str) -> String {
        if !self.clustered {
            return self.key(kind, &[user_id]);
        }
        let mut key =
            String::with_capacity(self.prefix.len() + 18 + kind.len() + user_id.len() + 8);
        key.push_str(&self.prefix);
        key.push('{');
        key.push_str(&user_tag(user_id));
        key.push('}');
        key.push_str(kind);
        push_parts(&mut key, &[user_id]);
        key
    }

    fn key(&self, kind: &str, parts: &[&str]) -> String {
        let mut key = String::with_capacity(
            self.prefix.len() + kind.len() + parts.iter().map(|p| p.len() + 8).sum::<usize>(),
        );
        key.push_str(&self.prefix);
        key.push_str(kind);
        push_parts(&mut key, parts);
        key
    }
}

/// The hash tag of a user in cluster mode: FNV-1a (64 bits) of the user id, as 16 hex
/// digits. A hash rather than the id itself, because an id may hold `}` (which would end
/// the tag early) and may be long; two ids with one tag merely share a slot. Part of the
/// stored layout: it never changes.
///
/// ```
/// assert_eq!(adapter_redis::keys::user_tag("u1"), "08c47b07b56747f3");
/// assert_ne!(adapter_redis::keys::user_tag("u2"), adapter_redis::keys::user_tag("u1"));
/// ```
pub fn user_tag(user_id: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = user_id.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    format!("{hash:016x}")
}

fn is_prefix_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.' | '/' | '{' | '}')
}

fn push_parts(out: &mut String, parts: &[&str]) {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        // Written in place: a key is built on every call, the hot path included.
        let _ = write!(out, "{}:", part.len());
        out.push_str(part);
    }
}

/// Length-prefixes and joins parts: `["a:b", "c"]` → `3:a:b:1:c`. The inverse is
/// [`decode_parts`].
///
/// ```
/// assert_eq!(adapter_redis::keys::encode_parts(&["a:b", "c"]), "3:a:b:1:c");
/// ```
pub fn encode_parts(parts: &[&str]) -> String {
    let mut out = String::new();
    push_parts(&mut out, parts);
    out
}

/// Splits what [`encode_parts`] wrote back into its parts; `None` if it is malformed.
///
/// ```
/// use adapter_redis::keys::{decode_parts, encode_parts};
/// let encoded = encode_parts(&["1:2", "", "🦀"]);
/// assert_eq!(decode_parts(&encoded), Some(vec!["1:2".to_owned(), String::new(), "🦀".to_owned()]));
/// assert_eq!(decode_parts("5:ab"), None);
/// ```
pub fn decode_parts(encoded: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut rest = encoded;
    loop {
        let (len, after) = rest.split_once(':')?;
        if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let len: usize = len.parse().ok()?;
        let part = after.get(..len)?;
        parts.push(part.to_owned());
        let tail = &after[len..];
        if tail.is_empty() {
            return Some(parts);
        }
        rest = tail.strip_prefix(':')?;
    }
}

/// The member of [`KeyLayout::user_accounts`] for an account: its key without prefix and
/// kind.
///
/// ```
/// assert_eq!(adapter_redis::keys::account_member("github", "42"), "6:github:2:42");
/// ```
pub fn account_member(provider: &str, provider_account_id: &str) -> String {
    encode_parts(&[provider, provider_account_id])
}

/// The member of [`KeyLayout::session_expiries`] for a session: owner and token.
/// `upkeep.lua` decodes it in Lua (as [`decode_parts`] does) to reach the owner's
/// [`KeyLayout::user_sessions`].
///
/// ```
/// assert_eq!(adapter_redis::keys::session_member("u1", "tok"), "2:u1:3:tok");
/// ```
pub fn session_member(user_id: &str, session_token: &str) -> String {
    encode_parts(&[user_id, session_token])
}

/// The member of [`KeyLayout::token_expiries`] for a verification token.
///
/// ```
/// assert_eq!(adapter_redis::keys::token_member("a@x", "t"), "3:a@x:1:t");
/// ```
pub fn token_member(identifier: &str, token: &str) -> String {
    encode_parts(&[identifier, token])
}

/// Escapes the glob characters of Redis `MATCH` patterns (`* ? [ ] \`) so the text matches
/// only itself. Validated prefixes hold none; this is the second line of defence.
///
/// ```
/// assert_eq!(adapter_redis::keys::glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
/// ```
pub fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> KeyLayout {
        KeyLayout::new("auth:").unwrap()
    }

    #[test]
    fn the_colliding_pairs_are_different_keys() {
        let keys = layout();
        assert_eq!(keys.account("a:b", "c"), "auth:account:3:a:b:1:c");
        assert_eq!(keys.account("a", "b:c"), "auth:account:1:a:3:b:c");
        assert_ne!(keys.account("a:b", "c"), keys.account("a", "b:c"));
        assert_ne!(keys.account("", "1:x"), keys.account("1:x", ""));
        assert_ne!(
            keys.verification_token("a:b", "c"),
            keys.verification_token("a", "b:c")
        );
        assert_ne!(session_member("a:b", "c"), session_member("a", "b:c"));
    }

    #[test]
    fn kinds_do_not_collide() {
        let keys = layout();
        let all = [
            keys.user("x"),
            keys.email("x"),
            keys.session("x"),
            keys.authenticator("x"),
            keys.user_sessions("x"),
            keys.user_accounts("x"),
            keys.user_authenticators("x"),
            keys.account("x", "x"),
            keys.verification_token("x", "x"),
            keys.session_expiries(),
            keys.token_expiries(),
            keys.schema_version(),
        ];
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        // A user id that looks like another kind's tail stays a user key.
        assert_ne!(keys.user("1:x"), keys.user_sessions("x"));
        assert!(all.iter().all(|k| k.starts_with("auth:")));
    }

    #[test]
    fn hostile_parts_are_plain_bytes() {
        let keys = layout();
        for hostile in [
            "*",
            "?[a-z]",
            "]]..redis.call('DEL', KEYS[1])..[[",
            "{}",
            "a\0b",
        ] {
            let key = keys.session(hostile);
            assert_eq!(key, format!("auth:session:{}:{hostile}", hostile.len()));
        }
        // Byte lengths, not char counts.
        assert_eq!(keys.user("🦀"), "auth:user:4:🦀");
    }

    #[test]
    fn parts_round_trip() {
        for parts in [
            vec!["a:b", "c"],
            vec!["", ""],
            vec!["12:34", "::", "🦀🔐"],
            vec!["x"],
        ] {
            let encoded = encode_parts(&parts);
            let decoded = decode_parts(&encoded).unwrap();
            assert_eq!(decoded, parts);
        }
        for bad in ["", "x", "1:", "2:a", "1:ab", "1:a:", ":a", "-1:a", "1:a1:b"] {
            assert_eq!(decode_parts(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn members_rebuild_keys() {
        let keys = layout();
        assert_eq!(
            keys.account_from_member(&account_member("a:b", "c")),
            keys.account("a:b", "c")
        );
    }

    #[test]
    fn prefix_is_validated() {
        assert!(KeyLayout::new("auth:").is_ok());
        assert!(KeyLayout::new("{tenant-1}:auth/v1.").is_ok());
        for bad in ["", "a b", "a*", "a?", "a[b]", "a\\", "é", "a\n"] {
            assert!(KeyLayout::new(bad).is_err(), "{bad:?}");
        }
        assert!(KeyLayout::new("x".repeat(MAX_PREFIX_LEN)).is_ok());
        assert!(KeyLayout::new("x".repeat(MAX_PREFIX_LEN + 1)).is_err());
        assert_eq!(KeyLayout::default().prefix(), DEFAULT_PREFIX);
    }

    #[test]
    fn scan_pattern_covers_only_the_prefix() {
        assert_eq!(layout().scan_pattern(), "auth:*");
        assert_eq!(glob_escape("*?[]\\"), "\\*\\?\\[\\]\\\\");
    }

    #[test]
    fn in_cluster_mode_a_users_keys_share_one_slot_whatever_the_id() {
        use redis::cluster_routing::Slot;
        let keys = KeyLayout::clustered("auth:").unwrap();
        let mut slots = std::collections::HashSet::new();
        for id in ["u1", "a}b{c", "{x}", "}", "{", "🦀", "", &"x".repeat(255)] {
            let group = [
                keys.user(id),
                keys.user_sessions(id),
                keys.user_accounts(id),
                keys.user_authenticators(id),
            ];
            let slot = Slot::for_key(&group[0]);
            assert!(
                group.iter().all(|k| Slot::for_key(k) == slot),
                "{id:?}: {group:?}"
            );
            slots.insert(format!("{slot:?}"));
            // The single-server layout is unchanged.
            assert_eq!(
                KeyLayout::new("auth:").unwrap().user(id),
                format!("auth:user:{}:{id}", id.len())
            );
        }
        assert!(
            slots.len() >= 6,
            "different users land on different slots: {slots:?}"
        );
        assert!(KeyLayout::clustered("a{b").is_err());
        assert!(KeyLayout::clustered("a}b").is_err());
    }
}
