//! The keys of `@auth/unstorage-adapter` as unstorage's Redis driver stores them, and the
//! way unstorage writes and reads plain string values (`destr`).
//!
//! Each function mirrors the JavaScript it names (unstorage 1.17, destr 2), so a key or a
//! pointer written here is the one Node writes and reads.

/// The adapter's key prefixes (`defaultOptions` of `@auth/unstorage-adapter`).
pub(crate) const USER: &str = "user:";
pub(crate) const EMAIL: &str = "user:email:";
pub(crate) const ACCOUNT: &str = "user:account:";
pub(crate) const ACCOUNT_BY_USER: &str = "user:account:by-user-id:";
pub(crate) const SESSION: &str = "user:session:";
pub(crate) const SESSION_BY_USER: &str = "user:session:by-user-id:";
pub(crate) const TOKEN: &str = "user:token:";
pub(crate) const AUTHENTICATOR: &str = "authenticator:";
pub(crate) const AUTHENTICATOR_BY_USER: &str = "authenticator:by-user-id:";

/// unstorage's `normalizeKey` (storage level): everything from the first `?` on is
/// dropped, `/` and `\` become `:`, runs of `:` collapse into one, and a `:` at either end
/// goes.
pub(crate) fn normalize(key: &str) -> String {
    let key = key.split('?').next().unwrap_or_default();
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        let c = if c == '/' || c == '\\' { ':' } else { c };
        if c == ':' && out.ends_with(':') {
            continue;
        }
        out.push(c);
    }
    let out = out.strip_prefix(':').unwrap_or(&out);
    out.strip_suffix(':').unwrap_or(out).to_owned()
}

/// The driver's own `normalizeKey`: `:`, `/` and `\` become `:`, and one of them at each
/// end goes.
fn driver_normalize(key: &str) -> String {
    let key = key.replace(['/', '\\'], ":");
    let key = key.strip_prefix(':').unwrap_or(&key);
    key.strip_suffix(':').unwrap_or(key).to_owned()
}

/// The Redis key of `storage_key` under the driver's `base`: `joinKeys(base, key)`, with
/// the base's trailing `:` dropped first as the driver does.
pub(crate) fn redis_key(driver_base: &str, storage_key: &str) -> String {
    let base = driver_normalize(driver_base.strip_suffix(':').unwrap_or(driver_base));
    let key = driver_normalize(&normalize(storage_key));
    match (base.is_empty(), key.is_empty()) {
        (true, _) => key,
        (false, true) => base,
        (false, false) => format!("{base}:{key}"),
    }
}

/// Whether destr (what unstorage's `getItem` runs on every value) gives `value` back
/// unchanged. When it would not (`"1e3"`, `"null"`, `"{…}"`, a quoted string), a string is
/// stored JSON-quoted instead, which destr turns back into the string.
fn destr_keeps(value: &str) -> bool {
    if value.starts_with('"') && value.ends_with('"') {
        return false;
    }
    let trimmed = value.trim();
    if trimmed.chars().count() <= 9
        && matches!(
            trimmed.to_lowercase().as_str(),
            "true" | "false" | "undefined" | "null" | "nan" | "infinity" | "-infinity"
        )
    {
        return false;
    }
    !looks_like_json(value)
}

/// destr's `JsonSigRx`: `^\s*["[{]` or a whole number of 1–16 digits with an optional
/// fraction of 1–17 digits and exponent.
fn looks_like_json(value: &str) -> bool {
    let start = value.trim_start();
    if start.starts_with(['"', '[', '{']) {
        return true;
    }
    let s = start.trim_end();
    let s = s.strip_prefix('-').unwrap_or(s);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let int = digits(s);
    if !(1..=16).contains(&int) {
        return false;
    }
    let mut rest = &s[int..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = digits(frac);
        if !(1..=17).contains(&n) {
            return false;
        }
        rest = &frac[n..];
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let n = digits(exp);
        if n == 0 {
            return false;
        }
        rest = &exp[n..];
    }
    rest.is_empty()
}

/// A plain string (a user id, a record key) as stored by `setItem`: as is, like Node,
/// unless destr would read it back as something else.
pub(crate) fn encode_pointer(value: &str) -> String {
    if destr_keeps(value) {
        value.to_owned()
    } else {
        serde_json::Value::String(value.to_owned()).to_string()
    }
}

/// A plain string as `getItem` reads it: destr's handling of quoted strings, else as is.
pub(crate) fn decode_pointer(raw: &str) -> String {
    if raw.starts_with('"') && raw.ends_with('"') && !raw.contains('\\') {
        return raw
            .get(1..raw.len().saturating_sub(1))
            .unwrap_or_default()
            .to_owned();
    }
    if raw.trim_start().starts_with('"') {
        if let Ok(s) = serde_json::from_str::<String>(raw) {
            return s;
        }
    }
    raw.to_owned()
}

/// The keys of one adapter configuration: storage keys (what Node's adapter names, and
/// what its pointer values hold) and the Redis keys they land on.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    base_key_prefix: String,
    driver_base: String,
}

impl Keys {
    pub(crate) fn new(base_key_prefix: &str, driver_base: &str) -> Self {
        Self {
            base_key_prefix: base_key_prefix.to_owned(),
            driver_base: driver_base.to_owned(),
        }
    }

    /// The storage key of `kind` (one of the prefixes above) and `rest`.
    pub(crate) fn storage(&self, kind: &str, rest: &str) -> String {
        format!("{}{kind}{rest}", self.base_key_prefix)
    }

    /// The Redis key of a storage key (e.g. one read from a by-user-id pointer).
    pub(crate) fn redis(&self, storage_key: &str) -> String {
        redis_key(&self.driver_base, storage_key)
    }

    /// The driver base as it starts every Redis key (`""` or `"<base>:"`), for the session
    /// script, which builds the user key itself.
    pub(crate) fn driver_prefix(&self) -> String {
        let base = redis_key(&self.driver_base, "");
        if base.is_empty() {
            base
        } else {
            format!("{base}:")
        }
    }

    pub(crate) fn user(&self, id: &str) -> String {
        self.redis(&self.storage(USER, id))
    }

    pub(crate) fn email(&self, email: &str) -> String {
        self.redis(&self.storage(EMAIL, email))
    }

    pub(crate) fn account_storage(&self, provider: &str, provider_account_id: &str) -> String {
        self.storage(ACCOUNT, &format!("{provider}:{provider_account_id}"))
    }

    pub(crate) fn account(&self, provider: &str, provider_account_id: &str) -> String {
        self.redis(&self.account_storage(provider, provider_account_id))
    }

    pub(crate) fn account_by_user(&self, user_id: &str) -> String {
        self.redis(&self.storage(ACCOUNT_BY_USER, user_id))
    }

    pub(crate) fn session_storage(&self, token: &str) -> String {
        self.storage(SESSION, token)
    }

    pub(crate) fn session(&self, token: &str) -> String {
        self.redis(&self.session_storage(token))
    }

    pub(crate) fn session_by_user(&self, user_id: &str) -> String {
        self.redis(&self.storage(SESSION_BY_USER, user_id))
    }

    pub(crate) fn token(&self, identifier: &str, token: &str) -> String {
        self.redis(&self.storage(TOKEN, &format!("{identifier}:{token}")))
    }

    pub(crate) fn authenticator(&self, credential_id: &str) -> String {
        self.redis(&self.storage(AUTHENTICATOR, credential_id))
    }

    pub(crate) fn authenticators_by_user(&self, user_id: &str) -> String {
        self.redis(&self.storage(AUTHENTICATOR_BY_USER, user_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalize_as_unstorage_does() {
        assert_eq!(normalize("user:a/b\\c"), "user:a:b:c");
        assert_eq!(normalize("::user::x::"), "user:x");
        assert_eq!(normalize("user:a?b:c"), "user:a");
        assert_eq!(normalize(""), "");
        assert_eq!(redis_key("", "p1:user:u1"), "p1:user:u1");
        assert_eq!(redis_key("app:", "user:u1"), "app:user:u1");
        assert_eq!(redis_key("app", "user:u1"), "app:user:u1");
        assert_eq!(redis_key(":", "user:u1"), "user:u1");
        let keys = Keys::new("p1:", "");
        assert_eq!(keys.account("github", "12"), "p1:user:account:github:12");
        assert_eq!(keys.account_by_user("u1"), "p1:user:account:by-user-id:u1");
        assert_eq!(keys.token("a@b.c", "t"), "p1:user:token:a@b.c:t");
        assert_eq!(keys.driver_prefix(), "");
        assert_eq!(Keys::new("", "base:").driver_prefix(), "base:");
    }

    #[test]
    fn pointers_survive_destr() {
        for plain in [
            "u1",
            "0190b3a4-7c1e-7000-8000-000000000000",
            "p1:user:session:x",
            "12a",
            "a\"b\\",
        ] {
            assert_eq!(encode_pointer(plain), plain);
            assert_eq!(decode_pointer(plain), plain);
        }
        for odd in [
            "123", "-1.5e3", "null", " TRUE ", "{x}", "[1]", "\"q\"", "\"",
        ] {
            let stored = encode_pointer(odd);
            assert_ne!(stored, odd, "{odd:?} must be quoted");
            assert_eq!(decode_pointer(&stored), odd, "{odd:?}");
        }
    }
}
