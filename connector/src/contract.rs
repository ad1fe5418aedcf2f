//! The conformance contract's output: the snapshot on success, `{"error": {…}}` on failure, written
//! whole or not at all (see `conformance/CONTRACT.md`).

use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Failure};

/// Exit status when the sync succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status when the sync failed (the output holds the error).
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a usage error (missing credentials, bad flags).
pub const EXIT_USAGE: u8 = 2;

#[derive(Serialize)]
struct ErrorDocument<'a> {
    error: &'a Failure,
}

/// `{"error": {"kind", "message", "endpoint", "http_status", "duo_code", "clock_offset_s"}}`; fields
/// that do not apply are null.
pub fn error_document(failure: &Failure) -> Vec<u8> {
    let mut out = serde_json::to_vec(&ErrorDocument { error: failure }).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a reader
/// never sees half a document.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_whole_with(path, |out| out.write_all(bytes))
}

/// Like [`write_whole`], with the content streamed by `write` into a buffered file.
pub fn write_whole_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), Error> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temporary)
        .and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            write(&mut out)?;
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn the_error_document_has_every_field_with_nulls_for_what_does_not_apply() {
        let failure = Failure::new(ErrorKind::Network, "refused").at("/admin/v1/users");
        let doc: serde_json::Value = serde_json::from_slice(&error_document(&failure)).unwrap();
        let error = &doc["error"];
        assert_eq!(error["kind"], "network");
        assert_eq!(error["endpoint"], "/admin/v1/users");
        for null in ["http_status", "duo_code", "clock_offset_s"] {
            assert!(error.get(null).is_some_and(serde_json::Value::is_null), "{null}");
        }
    }

    #[test]
    fn writes_replace_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_whole(&path, b"first").unwrap();
        write_whole(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
