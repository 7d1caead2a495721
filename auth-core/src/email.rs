//! The one definition of email equality that every backend shares, and the one identity an
//! app signs in with.

/// The lookup key of an email address: trimmed, then Unicode lowercase.
///
/// Every adapter computes this in Rust and indexes on it, so `Ada@Example.COM` and
/// `ada@example.com` are one user on every backend; the stored `email` keeps the
/// caller's spelling.
///
/// The key does not compose Unicode (NFC): the Auth.js layouts compute the same key in SQL
/// (`lower(trim(email))`), which cannot compose on MariaDB or SQLite, and a key that
/// differed between layouts would split one user in two. Addresses that users type go
/// through `email_identity` (feature `email-identity`) first, which composes them, so
/// `café` typed in NFC and in NFD is one account.
///
/// ```
/// assert_eq!(auth_core::normalize_email("  Ada@Example.COM "), "ada@example.com");
/// assert_eq!(auth_core::normalize_email("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
/// ```
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The longest identity [`email_identity`] accepts: the 254 bytes of an SMTP path.
#[cfg(feature = "email-identity")]
pub const MAX_IDENTITY_BYTES: usize = 254;

/// Why [`email_identity`] refused an address.
#[cfg(feature = "email-identity")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidEmail {
    /// Nothing but whitespace.
    #[error("the address is empty")]
    Empty,
    /// Longer than [`MAX_IDENTITY_BYTES`].
    #[error("the address is longer than {MAX_IDENTITY_BYTES} bytes")]
    TooLong,
    /// Not one `local@domain` with text on both sides, or an empty part (`a..b`, `.a`,
    /// `x.io.`).
    #[error("the address is not one local@domain with no empty part")]
    NotOneAddress,
    /// A character that separates, quotes or hides text: whitespace, a control or format
    /// character (CR, LF, zero-width, bidi), or one of `" , ; : < > ( ) [ ] \`.
    #[error("the address holds {0:?}, which has no place in one plain address")]
    ForbiddenCharacter(char),
    /// A non-ASCII character whose lowercase is ASCII (the Kelvin sign U+212A folds to
    /// `k`, `İ` U+0130 to `i` and a dot): it would look like one address and be keyed as
    /// another.
    #[error("the address holds {0:?}, a look-alike of an ASCII letter")]
    LookAlike(char),
}

/// The identity an app signs a user in with, from the address the user typed: the one
/// string that is the verification token's identifier, the mail's recipient and the user
/// lookup key.
///
/// The rule:
///
/// 1. Surrounding whitespace is trimmed; nothing left is [`InvalidEmail::Empty`].
/// 2. The text is composed (Unicode NFC), so a letter typed as one code point or as a
///    base and a combining mark is one address.
/// 3. A non-ASCII character whose lowercase is ASCII, as typed or once composed, is refused
///    ([`InvalidEmail::LookAlike`]). The Kelvin sign `K` (U+212A) lowercases to `k`: an
///    attacker asking a link for `Kate@x.io` spelled with it would otherwise have it mailed
///    to their own spelling (which their mail server may well deliver) while the account
///    lookup found `kate@x.io`. Refusing, rather than mailing the folded address, also
///    tells the typist why nothing arrived.
/// 4. The text is folded with [`normalize_email`] (lowercase) and composed again: this is
///    the identity, and the address the link is mailed to, so the mailbox that receives
///    the link is the one whose account it opens.
/// 5. It must be exactly one address: one `@` with text on both sides, no whitespace,
///    control or format character, none of `" , ; : < > ( ) [ ] \` (a list or a
///    display name), no empty dot-separated part, at most [`MAX_IDENTITY_BYTES`].
///
/// It checks shape, not deliverability: the mailer finds out whether the domain exists.
///
/// ```
/// use auth_core::{email_identity, InvalidEmail};
///
/// assert_eq!(email_identity(" Ada@Example.COM ").unwrap(), "ada@example.com");
/// // NFC and NFD spellings are one identity.
/// assert_eq!(email_identity("cafe\u{301}@x.io").unwrap(), email_identity("caf\u{e9}@x.io").unwrap());
/// // The Kelvin sign looks like K and folds to k: refused.
/// assert_eq!(email_identity("\u{212a}ate@x.io"), Err(InvalidEmail::LookAlike('\u{212a}')));
/// // One address, not a list, a header injection or a display name.
/// assert!(email_identity("a@x.io,evil@evil.example").is_err());
/// assert!(email_identity("a@x.io\r\nBcc: evil@evil.example").is_err());
/// assert!(email_identity("Ada <ada@x.io>").is_err());
/// assert_eq!(email_identity("@"), Err(InvalidEmail::NotOneAddress));
/// ```
#[cfg(feature = "email-identity")]
pub fn email_identity(typed: &str) -> Result<String, InvalidEmail> {
    use unicode_normalization::UnicodeNormalization;

    let trimmed = typed.trim();
    if trimmed.is_empty() {
        return Err(InvalidEmail::Empty);
    }
    if let Some(c) = trimmed.chars().find(|&c| forbidden(c)) {
        return Err(InvalidEmail::ForbiddenCharacter(c));
    }
    let composed: String = trimmed.nfc().collect();
    // Before composing too: NFC itself turns the Kelvin sign into `K`.
    if let Some(c) = trimmed
        .chars()
        .chain(composed.chars())
        .find(|c| !c.is_ascii() && c.to_lowercase().any(|l| l.is_ascii()))
    {
        return Err(InvalidEmail::LookAlike(c));
    }
    let identity: String = normalize_email(&composed).nfc().collect();
    if identity.len() > MAX_IDENTITY_BYTES {
        return Err(InvalidEmail::TooLong);
    }
    let Some((local, domain)) = identity.split_once('@') else {
        return Err(InvalidEmail::NotOneAddress);
    };
    let parts_present = |part: &str| !part.is_empty() && part.split('.').all(|p| !p.is_empty());
    if domain.contains('@') || !parts_present(local) || !parts_present(domain) {
        return Err(InvalidEmail::NotOneAddress);
    }
    Ok(identity)
}

/// Characters that turn one address into several, a header, a display name or hidden text.
#[cfg(feature = "email-identity")]
fn forbidden(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '"' | ',' | ';' | ':' | '<' | '>' | '(' | ')' | '[' | ']' | '\\')
        // Format characters (general category Cf): soft hyphen, zero-width and bidi controls.
        || matches!(c,
            '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

#[cfg(all(test, feature = "email-identity"))]
mod tests {
    use super::*;

    #[test]
    fn one_identity_for_every_spelling_of_one_address() {
        for typed in ["Kate@X.io", " kate@x.io", "KATE@x.IO\t"] {
            assert_eq!(
                email_identity(typed).as_deref(),
                Ok("kate@x.io"),
                "{typed:?}"
            );
        }
        let nfd = "E\u{301}lodie@exemple.fr";
        assert_eq!(email_identity(nfd).as_deref(), Ok("\u{e9}lodie@exemple.fr"));
        // Apostrophes, plus and dots inside parts are ordinary addresses.
        assert!(email_identity("o'brien+tag@mail.example.co.uk").is_ok());
    }

    #[test]
    fn look_alikes_of_ascii_letters_are_refused() {
        for (typed, c) in [
            ("\u{212a}ate@x.io", '\u{212a}'),
            ("kate@\u{212a}.io", '\u{212a}'),
            ("\u{130}nci@x.io", '\u{130}'),
        ] {
            assert_eq!(
                email_identity(typed),
                Err(InvalidEmail::LookAlike(c)),
                "{typed:?}"
            );
        }
        // The Ångström sign composes to Å, an ordinary letter of another script.
        assert_eq!(
            email_identity("\u{212b}sa@x.se").as_deref(),
            Ok("\u{e5}sa@x.se")
        );
    }

    #[test]
    fn anything_but_one_plain_address_is_refused() {
        for typed in [
            "@",
            "a@",
            "@x.io",
            "a@b@c",
            "a.@x.io",
            ".a@x.io",
            "a..b@x.io",
            "a@x..io",
            "a@x.io.",
            "ada",
        ] {
            assert_eq!(
                email_identity(typed),
                Err(InvalidEmail::NotOneAddress),
                "{typed:?}"
            );
        }
        for (typed, c) in [
            ("a@x.io,evil@evil.example", ','),
            ("a@x.io\r\nBcc: e@e.example", '\r'),
            ("a b@x.io", ' '),
            ("\"a\"@x.io", '"'),
            ("Ada <a@x.io>", ' '),
            ("a\u{200b}@x.io", '\u{200b}'),
            ("a\u{202e}oi.x@b", '\u{202e}'),
        ] {
            assert_eq!(
                email_identity(typed),
                Err(InvalidEmail::ForbiddenCharacter(c)),
                "{typed:?}"
            );
        }
        assert_eq!(email_identity("  "), Err(InvalidEmail::Empty));
        let long = format!("{}@x.io", "a".repeat(250));
        assert_eq!(email_identity(&long), Err(InvalidEmail::TooLong));
    }
}
