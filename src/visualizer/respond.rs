//! Answers of the visualizer: every one carries a strict Content-Security-Policy (scripts and
//! styles only from the server itself, no inline script), no caching and no sniffing; pages are
//! HTML shells whose values are escaped; files are streamed in pieces of known length.

use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::Path;

use crate::http::{reason_phrase, BodyFraming, Response};

use super::error::VizError;

/// The Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SHELL: &str = include_str!("../../assets/visualizer/shell.html");

/// The pages' scripts, in load order (one global scope; `app.js`, last, renders the page).
pub const SCRIPTS: [(&str, &str); 5] = [
    ("core.js", include_str!("../../assets/visualizer/core.js")),
    (
        "run_pages.js",
        include_str!("../../assets/visualizer/run_pages.js"),
    ),
    ("diff.js", include_str!("../../assets/visualizer/diff.js")),
    (
        "cross_run.js",
        include_str!("../../assets/visualizer/cross_run.js"),
    ),
    ("app.js", include_str!("../../assets/visualizer/app.js")),
];

/// The text of script `name` of [`SCRIPTS`].
#[must_use]
pub fn script(name: &str) -> Option<&'static str> {
    SCRIPTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

pub(super) fn headers(content_type: &str) -> Vec<(String, String)> {
    [
        ("Content-Type", content_type),
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect()
}

/// A complete answer.
pub fn send(
    res: &mut Response<'_>,
    status: u16,
    content_type: &str,
    body: &[u8],
    is_head: bool,
) -> io::Result<()> {
    res.start(
        status,
        reason_phrase(status),
        &headers(content_type),
        BodyFraming::Length(body.len() as u64),
    )?;
    if !is_head {
        res.write(body)?;
    }
    res.end()
}

/// A JSON answer.
pub fn json(
    res: &mut Response<'_>,
    status: u16,
    value: &serde_json::Value,
    is_head: bool,
) -> io::Result<()> {
    let body = serde_json::to_vec(value).map_err(io::Error::other)?;
    send(res, status, "application/json", &body, is_head)
}

/// An error as JSON (`{"error": …}`) for API routes, as a page otherwise.
pub fn error(
    res: &mut Response<'_>,
    err: &VizError,
    as_json: bool,
    is_head: bool,
) -> io::Result<()> {
    let status = err.status();
    if as_json {
        return json(
            res,
            status,
            &serde_json::json!({"error": err.to_string()}),
            is_head,
        );
    }
    let page = page("error", "Error", &[], Some(&err.to_string()));
    send(
        res,
        status,
        "text/html; charset=utf-8",
        page.as_bytes(),
        is_head,
    )
}

/// Escapes text for HTML content and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
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

/// The HTML shell of a page: `page` names what the scripts render, `data` are its `data-*`
/// attributes; an `error` page shows the message and loads no script.
#[must_use]
pub fn page(page: &str, title: &str, data: &[(&str, &str)], error: Option<&str>) -> String {
    let attrs = data.iter().fold(String::new(), |mut out, (k, v)| {
        let _ = write!(out, " data-{}=\"{}\"", escape(k), escape(v));
        out
    });
    let (body, script) = match error {
        Some(message) => (
            format!(
                "<p class=\"error\">{}</p><p><a href=\"/\">All runs</a></p>",
                escape(message)
            ),
            String::new(),
        ),
        None => (
            "<p class=\"muted\">Loading…</p>".to_owned(),
            SCRIPTS.iter().fold(String::new(), |mut out, (name, _)| {
                let _ = writeln!(out, "<script src=\"/assets/{name}\"></script>");
                out
            }),
        ),
    };
    SHELL
        .replace("{{title}}", &escape(title))
        .replace(
            "{{attrs}}",
            &format!(" data-page=\"{}\"{attrs}", escape(page)),
        )
        .replace("{{body}}", &body)
        .replace("{{script}}", &script)
}

/// Streams the file at `path` (as long as it was when opened) in 64 KiB pieces.
pub fn file(
    res: &mut Response<'_>,
    path: &Path,
    content_type: &str,
    download: Option<&str>,
    is_head: bool,
) -> io::Result<()> {
    let (file, size) = match super::files::open(path) {
        Ok(opened) => opened,
        Err(e) => return error(res, &e, false, is_head),
    };
    let mut head = headers(content_type);
    if let Some(name) = download {
        head.push((
            "Content-Disposition".to_owned(),
            format!("attachment; filename=\"{}\"", name.replace('"', "")),
        ));
    }
    res.start(200, "OK", &head, BodyFraming::Length(size))?;
    if !is_head {
        let mut reader = file.take(size);
        let mut buf = vec![0u8; 64 << 10];
        let mut sent = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            res.write(&buf[..n])?;
            sent += n as u64;
        }
        if sent < size {
            // The file shrank: the promised length cannot be kept.
            res.abort();
            return Ok(());
        }
    }
    res.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_escape_every_value() {
        let html = page(
            "run",
            "<x>",
            &[("run", "\"><script>alert(1)</script>")],
            None,
        );
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
        assert!(html.contains("<script src=\"/assets/app.js\"></script>"));
        let err = page("error", "Error", &[], Some("<b>bad</b>"));
        assert!(err.contains("&lt;b&gt;bad") && !err.contains("app.js"));
    }
}
