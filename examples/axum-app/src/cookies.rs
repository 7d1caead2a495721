//! Reading the `Cookie` header and writing `Set-Cookie`.

use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

/// Every value of cookie `name` in the request's `Cookie` headers, in order.
pub(crate) fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The value of cookie `name`, when the request carries exactly one non-empty one.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &'a str) -> Option<&'a str> {
    let mut values = cookies(headers, name).filter(|v| !v.is_empty());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// A `Set-Cookie` value: `Path=/`, `HttpOnly`, `Secure` (which a `__Host-` name requires).
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: Duration,
    same_site: &str,
) -> HeaderValue {
    set_cookie_at(name, value, max_age, same_site, "/")
}

fn set_cookie_at(
    name: &str,
    value: &str,
    max_age: Duration,
    same_site: &str,
    path: &str,
) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; Secure; SameSite={same_site}",
        max_age.as_secs()
    );
    // Names are ours, values base64url and paths the request's own: nothing needs quoting.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Clears cookie `name` at `/`.
pub(crate) fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", Duration::ZERO, "Lax")
}

/// `Set-Cookie` values that clear `name` at every path a cookie sent with a request for
/// `request_path` can have: `/`, and each prefix of the path ending before a `/` or at its
/// end, with and without a trailing slash. A cookie planted at `/sessions` is sent to
/// `/sessions/delete-all`, so clearing at `/` alone would leave it there.
pub(crate) fn clear_cookie_everywhere(name: &str, request_path: &str) -> Vec<HeaderValue> {
    let mut paths = vec!["/".to_owned()];
    let path = request_path.split('?').next().unwrap_or("/");
    for (at, _) in path.match_indices('/').skip(1).chain([(path.len(), "")]) {
        let prefix = &path[..at];
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
            continue;
        }
        for candidate in [prefix.to_owned(), format!("{prefix}/")] {
            if !paths.contains(&candidate) {
                paths.push(candidate);
            }
        }
    }
    paths
        .iter()
        .map(|path| set_cookie_at(name, "", Duration::ZERO, "Lax", path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_wants_exactly_one_value() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; s=tok"));
        headers.append(COOKIE, HeaderValue::from_static("c=x"));
        assert_eq!(cookie(&headers, "s"), Some("tok"));
        assert_eq!(cookie(&headers, "c"), Some("x"));
        assert_eq!(cookie(&headers, "sx"), None);
        headers.append(COOKIE, HeaderValue::from_static("s=planted"));
        assert_eq!(cookie(&headers, "s"), None);
        assert_eq!(cookies(&headers, "s").count(), 2);
    }

    #[test]
    fn clearing_everywhere_covers_every_ancestor_path() {
        let values: Vec<String> = clear_cookie_everywhere("s", "/sessions/delete-all")
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .collect();
        let paths: Vec<&str> = values
            .iter()
            .filter_map(|v| v.split("Path=").nth(1)?.split(';').next())
            .collect();
        assert_eq!(
            paths,
            [
                "/",
                "/sessions",
                "/sessions/",
                "/sessions/delete-all",
                "/sessions/delete-all/"
            ]
        );
        assert!(values.iter().all(|v| v.contains("Max-Age=0")));
    }
}
