//! Atomic writes: write a sibling temporary file, then rename over the target.

use camino::Utf8Path;
use std::io::Write;

use crate::{Failure, Result};

pub fn write_atomic(path: &Utf8Path, contents: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Failure::new(format!(
            "cannot {what} {path}: {e}. Fix: check that {dir} is writable"
        ))
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail("write", &e))?;
    tmp.write_all(contents.as_bytes())
        .map_err(|e| fail("write", &e))?;
    tmp.as_file().sync_all().map_err(|e| fail("write", &e))?;
    tmp.persist(path).map_err(|e| fail("replace", &e.error))?;
    Ok(())
}
