//! Reads the `multipart/form-data` body of `POST /submit` with `multer`, driven by a blocking
//! executor: the body is read in chunks, the `archive` part is streamed to a spool file, and the
//! whole body is capped at the upload limit.

use std::io::{self, Read, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tempfile::TempPath;

use super::service::UPLOAD_PREFIX;

/// Read size for the request body.
const CHUNK: usize = 64 * 1024;
/// Largest accepted text field (token, kind, admin secret).
const MAX_TEXT: usize = 64 * 1024;

/// The fields of a submit form; an empty text field counts as absent (as in `FastAPI`).
#[derive(Debug, Default)]
pub struct SubmitForm {
    pub token: Option<String>,
    pub kind: Option<String>,
    pub admin_secret: Option<String>,
    pub archive: Option<TempPath>,
    /// `archive` was sent as a text field instead of a file.
    pub archive_is_text: bool,
}

/// Why a form could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("request body exceeds the upload limit")]
    TooLarge,
    #[error("malformed multipart body: {0}")]
    Malformed(#[from] multer::Error),
    #[error("could not spool the upload: {0}")]
    Spool(#[from] io::Error),
}

/// The request body as a stream of chunks, counting bytes against `limit`.
///
/// After each chunk the next poll is `Pending` (with an immediate wake-up): multer reads its
/// stream until it is pending, so a stream that is always ready would be buffered whole in
/// memory (docs/security.md#bounded-reads).
struct BodyStream<'a, B: Read + Send + ?Sized> {
    body: &'a mut B,
    limit: u64,
    read: u64,
    too_large: bool,
    just_yielded: bool,
}

impl<B: Read + Send + ?Sized> Stream for BodyStream<'_, B> {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if std::mem::take(&mut self.just_yielded) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut buf = vec![0u8; CHUNK];
        let n = loop {
            match self.body.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.too_large |= crate::http::is_too_large(&e);
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(n) => break n,
            }
        };
        if n == 0 {
            return Poll::Ready(None);
        }
        self.read += n as u64;
        if self.read > self.limit {
            self.too_large = true;
            return Poll::Ready(Some(Err(io::Error::other("upload limit exceeded"))));
        }
        buf.truncate(n);
        self.just_yielded = true;
        Poll::Ready(Some(Ok(Bytes::from(buf))))
    }
}

/// Parses a submit form from `body` with Content-Type `content_type`, spooling the archive into
/// `spool_dir`. A body that is not `multipart/form-data` yields an empty form.
pub fn read_submit_form<B: Read + Send + ?Sized>(
    body: &mut B,
    content_type: Option<&str>,
    limit: u64,
    spool_dir: &Path,
) -> Result<SubmitForm, FormError> {
    let Some(content_type) = content_type.filter(|ct| is_multipart(ct)) else {
        return Ok(SubmitForm::default());
    };
    let boundary = multer::parse_boundary(content_type)?;
    let mut stream = BodyStream {
        body,
        limit,
        read: 0,
        too_large: false,
        just_yielded: false,
    };
    let mut form = SubmitForm::default();
    let parsed = {
        let mut multipart = multer::Multipart::new(&mut stream, boundary);
        futures_executor::block_on(read_fields(&mut multipart, spool_dir, &mut form))
    };
    match parsed {
        Err(_) if stream.too_large => Err(FormError::TooLarge),
        Err(e) => Err(e),
        Ok(()) => Ok(form),
    }
}

fn is_multipart(content_type: &str) -> bool {
    content_type
        .trim_start()
        .get(..19)
        .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
}

async fn read_fields(
    multipart: &mut multer::Multipart<'_>,
    spool_dir: &Path,
    form: &mut SubmitForm,
) -> Result<(), FormError> {
    while let Some(mut field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        match name.as_str() {
            "archive" if is_file => {
                form.archive = Some(spool(&mut field, spool_dir).await?);
                form.archive_is_text = false;
            }
            "archive" => {
                form.archive_is_text = !text(&mut field).await?.is_empty();
                form.archive = None;
            }
            "token" => form.token = non_empty(text(&mut field).await?),
            "kind" => form.kind = non_empty(text(&mut field).await?),
            "admin_secret" => form.admin_secret = non_empty(text(&mut field).await?),
            _ => while field.chunk().await?.is_some() {},
        }
    }
    Ok(())
}

fn non_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

async fn text(field: &mut multer::Field<'_>) -> Result<String, FormError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > MAX_TEXT {
            return Err(FormError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

async fn spool(field: &mut multer::Field<'_>, dir: &Path) -> Result<TempPath, FormError> {
    let mut file = tempfile::Builder::new()
        .prefix(UPLOAD_PREFIX)
        .tempfile_in(dir)?;
    while let Some(chunk) = field.chunk().await? {
        file.write_all(&chunk)?;
    }
    file.as_file().sync_data()?;
    Ok(file.into_temp_path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
        let mut out = String::new();
        for (name, file, value) in parts {
            let file = file
                .map(|f| format!("; filename=\"{f}\""))
                .unwrap_or_default();
            let _ = write!(
                out,
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n{value}\r\n"
            );
        }
        (out + "--XyZ--\r\n").into_bytes()
    }

    fn parse(bytes: &[u8], limit: u64) -> Result<SubmitForm, FormError> {
        let dir = std::env::temp_dir();
        read_submit_form(&mut &bytes[..], Some(CT), limit, &dir)
    }

    #[test]
    fn reads_fields_and_spools_archive() {
        let b = body(&[
            ("token", None, "t1"),
            ("kind", None, ""),
            ("archive", Some("a.tgz"), "DATA"),
        ]);
        let form = parse(&b, 1 << 20).unwrap();
        assert_eq!(form.token.as_deref(), Some("t1"));
        assert_eq!(form.kind, None);
        assert_eq!(std::fs::read(form.archive.unwrap()).unwrap(), b"DATA");
    }

    #[test]
    fn text_archive_and_limits_and_garbage_are_reported() {
        let form = parse(&body(&[("archive", None, "x")]), 1 << 20).unwrap();
        assert!(form.archive_is_text && form.archive.is_none());
        let big = body(&[("archive", Some("a"), &"x".repeat(300_000))]);
        assert!(matches!(parse(&big, 100_000), Err(FormError::TooLarge)));
        assert!(matches!(
            parse(b"garbage", 100),
            Err(FormError::Malformed(_))
        ));
        let plain = read_submit_form(&mut &b"a=b"[..], Some("text/plain"), 9, Path::new("."));
        assert!(plain.unwrap().token.is_none());
    }

    /// A body that, once 8 MiB of it were read, looks at how much of the archive is already on
    /// disk: multer must be fed chunk by chunk, not the whole body first.
    struct Watched<'a> {
        body: &'a [u8],
        read: usize,
        dir: &'a Path,
        spooled_at_8_mib: Option<u64>,
    }

    impl Read for Watched<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.read >= 8 << 20 && self.spooled_at_8_mib.is_none() {
                let spooled = std::fs::read_dir(self.dir)?
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum();
                self.spooled_at_8_mib = Some(spooled);
            }
            let n = (&self.body[self.read..]).read(buf)?;
            self.read += n;
            Ok(n)
        }
    }

    #[test]
    fn the_archive_streams_to_disk_while_the_body_is_read() {
        let big = body(&[("archive", Some("a"), &"x".repeat(16 << 20))]);
        let dir = tempfile::tempdir().unwrap();
        let mut watched = Watched {
            body: &big,
            read: 0,
            dir: dir.path(),
            spooled_at_8_mib: None,
        };
        let form = read_submit_form(&mut watched, Some(CT), 32 << 20, dir.path()).unwrap();
        assert_eq!(
            std::fs::metadata(form.archive.unwrap()).unwrap().len(),
            16 << 20
        );
        let spooled = watched.spooled_at_8_mib.expect("8 MiB were read");
        assert!(
            spooled >= 4 << 20,
            "only {spooled} bytes on disk after 8 MiB"
        );
    }
}
