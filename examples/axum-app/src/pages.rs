//! HTML: one layout, escaping, forms. No script anywhere (the CSP allows none).

use std::fmt::Write as _;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

/// The stylesheet, served at `/style.css` (the CSP allows styles from this origin only, so
/// there is no inline `<style>`).
const STYLE: &str = "\
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
header { display: flex; justify-content: space-between; border-bottom: 1px solid #d0d7de; margin-bottom: 1.5rem; }
form { display: inline-block; margin: .25rem .5rem .25rem 0; }
button { font: inherit; padding: .3rem .9rem; border-radius: 6px; border: 1px solid #d0d7de; background: #f6f8fa; cursor: pointer; }
button.danger { color: #cf222e; }
p.warning { border-left: 4px solid #bf8700; padding-left: .75rem; }
input[type=email] { font: inherit; padding: .3rem .5rem; width: 18rem; }
code { word-break: break-all; }
";

pub(crate) async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A page of the app; `body` is HTML the caller escaped.
pub(crate) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · axum-app</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css">
</head>
<body><header><strong><a href="/">axum-app</a></strong></header>
<main><h1>{title}</h1>
{body}
</main></body></html>"#,
        title = esc(title)
    ))
}

/// A one-button form posting to `action` with the CSRF token (its text, from
/// `security::CsrfToken`) and `fields` (name, value).
pub(crate) fn post_form(
    action: &str,
    label: &str,
    csrf: &str,
    class: &str,
    fields: &[(&str, &str)],
) -> String {
    let mut hidden = String::new();
    for (name, value) in fields {
        let _ = write!(
            hidden,
            r#"<input type="hidden" name="{}" value="{}">"#,
            esc(name),
            esc(value)
        );
    }
    format!(
        r#"<form method="post" action="{action}"><input type="hidden" name="csrf" value="{csrf}">{hidden}<button type="submit" class="{class}">{label}</button></form>"#,
        csrf = esc(csrf)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encode_escapes_what_a_query_cannot_hold() {
        assert_eq!(url_encode("a+b@x.io"), "a%2Bb%40x.io");
    }

    #[test]
    fn esc_escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">'&'"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
    }
}
