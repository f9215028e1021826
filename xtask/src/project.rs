//! The domi-nix checkout the xtask works on.

use camino::{Utf8Path, Utf8PathBuf};
use dominix::Catalog;

use crate::{Failure, Result};

#[derive(Debug, Clone)]
pub struct Project {
    pub root: Utf8PathBuf,
}

impl Project {
    /// The checkout the xtask was run in: `DOMINIX_ROOT` if set (tests), else
    /// the nearest directory, from the current one upwards, that holds
    /// `flake.nix`, `xtask/Cargo.toml` and `nix-modules/`. Never the checkout
    /// the executable was built from: a shared build cache or a copied binary
    /// must not make it act on another tree.
    pub fn locate() -> Result<Project> {
        if let Ok(root) = std::env::var("DOMINIX_ROOT") {
            let root = Utf8PathBuf::from(root);
            if !is_checkout(&root) {
                return Err(Failure::usage(format!(
                    "DOMINIX_ROOT={root} is not a domi-nix checkout (no flake.nix, xtask/Cargo.toml and nix-modules/ there). Fix: unset DOMINIX_ROOT or point it at a checkout"
                )));
            }
            return Ok(Project { root });
        }
        let cwd = std::env::current_dir().map_err(|e| {
            Failure::new(format!(
                "cannot read the current directory: {e}. Fix: run `cargo xtask` from a directory that exists"
            ))
        })?;
        let cwd = Utf8PathBuf::from_path_buf(cwd).map_err(|p| {
            Failure::usage(format!(
                "the current directory {} is not UTF-8. Fix: work in a checkout whose path is UTF-8",
                p.display()
            ))
        })?;
        let root = cwd.ancestors().find(|dir| is_checkout(dir)).ok_or_else(|| {
            Failure::usage(format!(
                "{cwd} is not inside a domi-nix checkout (no directory upwards holds flake.nix, xtask/Cargo.toml and nix-modules/). Fix: run `cargo xtask` from the root of the domi-nix repository"
            ))
        })?;
        Ok(Project {
            root: root.to_owned(),
        })
    }

    pub fn catalog(&self) -> Result<Catalog> {
        Ok(Catalog::discover(&self.root)?)
    }

    /// The catalog, refusing to go on if any metadata problem exists.
    pub fn valid_catalog(&self) -> Result<Catalog> {
        Ok(self.catalog()?.into_valid()?)
    }

    /// How a generated flake refers to this checkout: `git+file://` when it is
    /// a git work tree (only tracked files are copied, never target/), else `path:`.
    ///
    /// `shallow=1`: Nix's git fetcher refuses a shallow clone — GitHub's
    /// default `actions/checkout` depth 1 — unless told (Nix 2.8: "is a
    /// shallow Git repository, but a non-shallow repository is needed"; later
    /// versions fail computing `revCount`, NixOS/nix#9820). With it Nix only
    /// omits `revCount`, which nothing here reads; a full clone works the same.
    pub fn flake_ref(&self) -> String {
        if self.root.join(".git").exists() {
            format!("git+file://{}?shallow=1", url_path(self.root.as_str()))
        } else {
            // Not percent-encoded: Nix 2.8 does not decode `path:` URLs.
            format!("path:{}", self.root)
        }
    }

    /// Directory for generated artefacts (composed trunks): this checkout's
    /// `target/dominix`, or `DOMINIX_TARGET_DIR` (tests). Never Cargo's
    /// `CARGO_TARGET_DIR`: a build cache shared by several checkouts must
    /// not make one checkout's trunks overwrite another's.
    pub fn target_dir(&self) -> Utf8PathBuf {
        std::env::var("DOMINIX_TARGET_DIR")
            .map(Utf8PathBuf::from)
            .unwrap_or_else(|_| self.root.join("target/dominix"))
    }
}

/// Whether `dir` is the root of a domi-nix checkout.
fn is_checkout(dir: &Utf8Path) -> bool {
    dir.join("flake.nix").is_file()
        && dir.join("xtask/Cargo.toml").is_file()
        && dir.join("nix-modules").is_dir()
}

/// `path` as the path of a URL: bytes outside RFC 3986's `pchar` set and `/`
/// (spaces, `?`, `#`, `%`, non-ASCII…) percent-encoded, so that they stay part
/// of the path (Nix decodes them again).
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_checkout_is_referred_to_as_a_possibly_shallow_clone() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_owned()).expect("UTF-8");
        let project = Project { root: root.clone() };
        assert_eq!(project.flake_ref(), format!("path:{root}"));
        std::fs::create_dir(root.join(".git")).expect("mkdir .git");
        assert_eq!(
            project.flake_ref(),
            format!("git+file://{}?shallow=1", url_path(root.as_str()))
        );
    }

    #[test]
    fn url_paths_keep_their_characters() {
        assert_eq!(url_path("/src/domi-nix_1.0"), "/src/domi-nix_1.0");
        assert_eq!(
            url_path("/my checkout/a?b#c%d/é"),
            "/my%20checkout/a%3Fb%23c%25d/%C3%A9"
        );
    }
}
