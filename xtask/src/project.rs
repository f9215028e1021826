//! The domi-nix checkout the xtask works on.

use camino::{Utf8Path, Utf8PathBuf};
use dominix::Catalog;

use crate::{Failure, Result};

#[derive(Debug, Clone)]
pub struct Project {
    pub root: Utf8PathBuf,
}

impl Project {
    /// The workspace root: `DOMINIX_ROOT` if set (tests), else the parent of
    /// this crate's directory.
    pub fn locate() -> Result<Project> {
        let root = match std::env::var("DOMINIX_ROOT") {
            Ok(root) => Utf8PathBuf::from(root),
            Err(_) => {
                let manifest = Utf8Path::new(env!("CARGO_MANIFEST_DIR"));
                manifest.parent().unwrap_or(manifest).to_owned()
            }
        };
        if !root.join("flake.nix").exists() {
            return Err(Failure::new(format!(
                "{root} has no flake.nix: not a domi-nix checkout. Fix: run `cargo xtask` inside the domi-nix repository (or set DOMINIX_ROOT)"
            )));
        }
        Ok(Project { root })
    }

    pub fn catalog(&self) -> Result<Catalog> {
        Ok(Catalog::discover(&self.root)?)
    }

    /// The catalog, refusing to go on if any metadata problem exists.
    pub fn valid_catalog(&self) -> Result<Catalog> {
        let catalog = self.catalog()?;
        if catalog.is_valid() {
            return Ok(catalog);
        }
        let problems: Vec<String> = catalog
            .problems()
            .iter()
            .map(|p| format!("  - {p}"))
            .collect();
        Err(Failure::new(format!(
            "the feature catalog has problems:\n{}",
            problems.join("\n")
        )))
    }

    /// How a generated flake refers to this checkout: `git+file://` when it is
    /// a git work tree (only tracked files are copied, never target/), else `path:`.
    pub fn flake_ref(&self) -> String {
        if self.root.join(".git").exists() {
            format!("git+file://{}", self.root)
        } else {
            format!("path:{}", self.root)
        }
    }

    /// Directory for generated artefacts.
    pub fn target_dir(&self) -> Utf8PathBuf {
        std::env::var("CARGO_TARGET_DIR")
            .map(Utf8PathBuf::from)
            .unwrap_or_else(|_| self.root.join("target"))
            .join("dominix")
    }
}
