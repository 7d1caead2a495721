//! Secrets: how they are made ([`generate_token`]) and how they are printed (never).

use std::fmt;

/// A fresh session or email token: 256 bits from the operating system's CSPRNG, as 43
/// characters of unpadded base64url (safe in a cookie, a URL and every backend's key).
///
/// ```
/// let token = auth_core::generate_token();
/// assert_eq!(token.len(), 43);
/// assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
/// assert_ne!(token, auth_core::generate_token());
/// ```
///
/// # Panics
/// When the operating system has no random source to give, which `getrandom` treats as
/// fatal too: there is no safe token without one.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    if let Err(err) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random source failed: {err}");
    }
    base64url(&bytes)
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// Shows a secret as its length only, for hand-written `Debug` impls.
///
/// ```
/// use auth_core::Redacted;
/// assert_eq!(format!("{:?}", Redacted("hunter22")), "<redacted: 8 bytes>");
/// ```
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl<'a> Redacted<'a> {
    /// An optional secret: `None`, or `Some(<redacted: N bytes>)`.
    pub fn opt(value: &'a Option<String>) -> Option<Redacted<'a>> {
        value.as_deref().map(Redacted)
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted: {} bytes>", self.0.len())
    }
}

/// A connection URL fit for logs and `Debug`: the password (and any query string, which
/// can carry one) is replaced by `***`.
///
/// ```
/// use auth_core::redact_url;
/// assert_eq!(redact_url("postgres://app:hunter2@db:5432/auth"), "postgres://app:***@db:5432/auth");
/// assert_eq!(redact_url("redis://:pw@127.0.0.1:6379"), "redis://:***@127.0.0.1:6379");
/// assert_eq!(redact_url("mongodb://u:p@h/db?authSource=admin"), "mongodb://u:***@h/db?***");
/// assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
/// ```
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?***"),
        None => (url, ""),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        return format!("{base}{query}");
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
