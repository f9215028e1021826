//! A unit file rendered from a module-evaluated `systemd.services.<name>`,
//! the way nixpkgs renders it (`nixos/lib/systemd-lib.nix`).
//!
//! Placeholder: the rendering lands with the contract's `systemd.services`.

use camino::Utf8Path;
use serde::Serialize;

use crate::AuditError;

/// A rendered unit file: its name (`sshd.service`) and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitFile {
    pub name: String,
    pub text: String,
}

impl UnitFile {
    /// Writes the file into `dir` (atomically: a temporary file renamed).
    pub fn write_to(&self, dir: &Utf8Path) -> Result<(), AuditError> {
        let path = dir.join(&self.name);
        let error = |e: std::io::Error| AuditError::Write {
            path: path.to_string(),
            error: e.to_string(),
        };
        let draft = dir.join(format!(".{}.draft", self.name));
        std::fs::write(&draft, &self.text).map_err(error)?;
        std::fs::rename(&draft, &path).map_err(error)
    }
}

/// A `systemd.services` value a unit file cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("systemd.services.{unit}.{option}: {problem}. Fix: {fix}")]
pub struct RenderError {
    pub unit: String,
    /// The sub-option, e.g. `serviceConfig.ExecStart`.
    pub option: String,
    pub problem: String,
    pub fix: String,
}
