//! Store paths as Nix reports them, validated before use.

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

/// A validated `/nix/store/<32 base-32 characters>-<name>` path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StorePath(Utf8PathBuf);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorePathError {
    #[error("Nix answered `{0}`, which is not a store path; this is a bug in domi-nix or Nix")]
    NotAStorePath(String),
    #[error("cannot read `nix build --json` output ({error}): {json}")]
    BuildJson { error: String, json: String },
    #[error("`nix build --json` reported no `out` output for {0}")]
    NoOut(String),
}

impl StorePath {
    pub fn parse(path: &str) -> Result<StorePath, StorePathError> {
        let bad = || StorePathError::NotAStorePath(path.to_owned());
        let rest = path.strip_prefix("/nix/store/").ok_or_else(bad)?;
        let (hash, name) = rest.split_at_checked(32).ok_or_else(bad)?;
        let name = name.strip_prefix('-').ok_or_else(bad)?;
        let base32 = |c: char| {
            c.is_ascii_digit() || (c.is_ascii_lowercase() && !matches!(c, 'e' | 'o' | 'u' | 't'))
        };
        if !hash.chars().all(base32) || name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        Ok(StorePath(Utf8PathBuf::from(path)))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for StorePath {
    type Target = Utf8Path;
    fn deref(&self) -> &Utf8Path {
        &self.0
    }
}

/// A store path goes wherever a path does: `std::fs`, `Command::arg`.
impl AsRef<std::path::Path> for StorePath {
    fn as_ref(&self) -> &std::path::Path {
        self.0.as_std_path()
    }
}

impl AsRef<std::ffi::OsStr> for StorePath {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl std::fmt::Display for StorePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize)]
struct Built {
    #[serde(rename = "drvPath", default)]
    drv_path: String,
    outputs: std::collections::BTreeMap<String, String>,
}

/// Parses `nix build --json` output: the `out` path of every installable.
pub fn out_paths(json: &str) -> Result<Vec<StorePath>, StorePathError> {
    let built: Vec<Built> = serde_json::from_str(json).map_err(|e| StorePathError::BuildJson {
        error: e.to_string(),
        json: json.to_owned(),
    })?;
    built
        .iter()
        .map(|b| {
            b.outputs
                .get("out")
                .ok_or_else(|| StorePathError::NoOut(b.drv_path.clone()))
                .and_then(|p| StorePath::parse(p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_paths_are_validated() {
        let good =
            StorePath::parse("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm").expect("valid");
        assert_eq!(
            good.join("bin").as_str(),
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm/bin"
        );
        for bad in [
            "/tmp/x",
            "/nix/store/short-vm",
            "/nix/store/0123456789abcdfghijklmnpqrsvwxye-vm",
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz",
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a/b",
        ] {
            assert!(StorePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_store_path_is_usable_as_a_path() {
        let text = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello";
        let Ok(path) = StorePath::parse(text) else {
            panic!("{text} is a store path")
        };
        let std_path = |p: &dyn AsRef<std::path::Path>| p.as_ref().to_path_buf();
        assert_eq!(std_path(&path), std::path::PathBuf::from(text));
        let mut command = std::process::Command::new("ls");
        command.arg(&path);
        assert_eq!(command.get_args().collect::<Vec<_>>(), [text]);
    }

    #[test]
    fn build_json_gives_out_paths() {
        let json = r#"[{"drvPath":"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm.drv","outputs":{"out":"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm"}}]"#;
        let paths = out_paths(json).expect("valid");
        assert_eq!(
            paths[0].as_str(),
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm"
        );
        assert!(out_paths("[{\"outputs\":{}}]").is_err());
        assert!(out_paths("not json").is_err());
    }
}
