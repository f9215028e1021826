//! Reading `flake.lock`: the pinned inputs, their NAR hashes and where they come from.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use serde_json::Value;

/// The fix for a lock file that cannot be read.
const RESTORE: &str = "restore it with `git checkout -- flake.lock` (or pin the inputs again with `nix flake lock` where the network is reachable)";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: cannot read the lock file: {source}. Fix: {RESTORE}")]
    Read {
        path: Utf8PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a flake lock file ({message}). Fix: {RESTORE}")]
    Parse { path: Utf8PathBuf, message: String },
    #[error("{path}: no input `{name}` (inputs: {known}). Fix: use one of those names")]
    NoInput {
        path: Utf8PathBuf,
        name: String,
        known: String,
    },
    #[error(
        "{path}: input `{name}` is not locked to a revision with a NAR hash. Fix: run `nix flake lock` where the network is reachable"
    )]
    Unlocked { path: Utf8PathBuf, name: String },
}

/// A parsed `flake.lock`.
#[derive(Debug, Clone)]
pub struct Lock {
    path: Utf8PathBuf,
    root_inputs: BTreeMap<String, String>,
    nodes: BTreeMap<String, Node>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawLock {
    nodes: BTreeMap<String, Node>,
    root: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Node {
    #[serde(default)]
    inputs: BTreeMap<String, Value>,
    locked: Option<BTreeMap<String, Value>>,
}

/// One locked input, as `builtins.fetchTree` gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedInput {
    pub name: String,
    pub kind: String,
    pub owner: Option<String>,
    pub repo: Option<String>,
    pub rev: String,
    pub nar_hash: String,
    pub last_modified: Option<u64>,
}

impl LockedInput {
    pub fn short_rev(&self) -> String {
        self.rev.chars().take(12).collect()
    }

    /// Where a copy can be had, for messages.
    pub fn url(&self) -> String {
        match (self.kind.as_str(), &self.owner, &self.repo) {
            ("github", Some(owner), Some(repo)) => format!("https://github.com/{owner}/{repo}"),
            _ => format!("the `{}` input", self.name),
        }
    }
}

impl Lock {
    pub fn read(path: &Utf8Path) -> Result<Lock, LockError> {
        let text = std::fs::read_to_string(path).map_err(|source| LockError::Read {
            path: path.to_owned(),
            source,
        })?;
        Lock::parse(path, &text)
    }

    pub fn parse(path: &Utf8Path, text: &str) -> Result<Lock, LockError> {
        let raw: RawLock = serde_json::from_str(text).map_err(|e| LockError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let root = raw.nodes.get(&raw.root).ok_or_else(|| LockError::Parse {
            path: path.to_owned(),
            message: format!("root node `{}` is missing", raw.root),
        })?;
        let root_inputs = root
            .inputs
            .iter()
            .filter_map(|(name, target)| {
                target.as_str().map(|node| (name.clone(), node.to_owned()))
            })
            .collect();
        Ok(Lock {
            path: path.to_owned(),
            root_inputs,
            nodes: raw.nodes,
        })
    }

    /// Names of the root's inputs.
    pub fn input_names(&self) -> Vec<String> {
        self.root_inputs.keys().cloned().collect()
    }

    pub fn input(&self, name: &str) -> Result<LockedInput, LockError> {
        let node_name = self
            .root_inputs
            .get(name)
            .ok_or_else(|| LockError::NoInput {
                path: self.path.clone(),
                name: name.to_owned(),
                known: self.input_names().join(", "),
            })?;
        let unlocked = || LockError::Unlocked {
            path: self.path.clone(),
            name: name.to_owned(),
        };
        let locked = self
            .nodes
            .get(node_name)
            .and_then(|n| n.locked.as_ref())
            .ok_or_else(unlocked)?;
        let text = |key: &str| locked.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(LockedInput {
            name: name.to_owned(),
            kind: text("type").ok_or_else(unlocked)?,
            owner: text("owner"),
            repo: text("repo"),
            rev: text("rev").ok_or_else(unlocked)?,
            nar_hash: text("narHash").ok_or_else(unlocked)?,
            last_modified: locked.get("lastModified").and_then(Value::as_u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"{"nodes":{"a":{"locked":{"type":"github","owner":"o","repo":"r","rev":"0123456789abcdef0123","narHash":"sha256-x","lastModified":5}},
        "b":{"inputs":{"a":["a"]},"locked":{"type":"github","owner":"o","repo":"b"}},
        "root":{"inputs":{"a":"a","b":"b"}}},"root":"root","version":7}"#;

    #[test]
    fn reads_locked_inputs() {
        let lock = Lock::parse(Utf8Path::new("flake.lock"), LOCK).expect("valid");
        let a = lock.input("a").expect("locked");
        assert_eq!(
            (a.rev.as_str(), a.nar_hash.as_str(), a.last_modified),
            ("0123456789abcdef0123", "sha256-x", Some(5))
        );
        assert_eq!(a.short_rev(), "0123456789ab");
        assert_eq!(a.url(), "https://github.com/o/r");
        assert_eq!(lock.input_names(), ["a", "b"]);
    }

    #[test]
    fn errors_name_the_file_and_input() {
        let lock = Lock::parse(Utf8Path::new("x/flake.lock"), LOCK).expect("valid");
        let missing = lock.input("c").expect_err("unknown").to_string();
        assert!(
            missing.contains("x/flake.lock") && missing.contains("`c`") && missing.contains("a, b"),
            "{missing}"
        );
        assert!(
            lock.input("b")
                .expect_err("no rev")
                .to_string()
                .contains("not locked")
        );
        let bad = Lock::parse(Utf8Path::new("x/flake.lock"), "{")
            .expect_err("not json")
            .to_string();
        assert!(bad.contains("x/flake.lock"), "{bad}");
    }
}
