//! `cargo xtask seed`: pinned inputs into the Nix store without network,
//! proven by resolving them offline with `builtins.fetchTree`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{
    NIX_FEATURES, assert_exit, assert_stderr_has, assert_stdout_has, git, have_or_skip, stderr,
    stdout, utf8, xtask,
};

const OWNER: &str = "domi-nix-test";
const REPO: &str = "seed-demo";
const LAST_MODIFIED: u64 = 1_700_000_000;

/// Whether Nix is here; otherwise a visible SKIP (or a panic when required).
fn nix_or_skip(test: &str) -> bool {
    have_or_skip(
        "nix",
        &format!("SKIP seed: `nix` is not on PATH, {test} not run — install Nix ≥ 2.8"),
    )
}

/// A source tree whose content no other run has: `hello.txt` with a nanosecond timestamp.
fn unique_tree(parent: &Path, name: &str) -> (PathBuf, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let content = format!(
        "hello from {name} at {nanos} (pid {})\n",
        std::process::id()
    );
    let tree = parent.join(name);
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("hello.txt"), &content).unwrap();
    std::fs::write(tree.join("sub/other.txt"), "another file\n").unwrap();
    (tree, content)
}

fn nar_hash(tree: &Path) -> String {
    let output = std::process::Command::new("nix")
        .args(["--extra-experimental-features", NIX_FEATURES])
        .args(["hash", "path"])
        .arg(tree)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "nix hash path: {}",
        stderr(&output)
    );
    let hash = stdout(&output).trim().to_owned();
    assert!(hash.starts_with("sha256-"), "{hash}");
    hash
}

/// A 40-hex-digit revision that is this run's own.
fn fake_rev() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:040x}", nanos ^ (u128::from(std::process::id()) << 64))
}

/// A lock file with one root input `demo` of type github.
fn write_lock(dir: &Path, rev: &str, nar_hash: &str) -> PathBuf {
    let lock = serde_json::json!({
        "nodes": {
            "demo": {
                "locked": {
                    "type": "github", "owner": OWNER, "repo": REPO,
                    "rev": rev, "narHash": nar_hash, "lastModified": LAST_MODIFIED,
                },
                "original": { "type": "github", "owner": OWNER, "repo": REPO },
            },
            "root": { "inputs": { "demo": "demo" } },
        },
        "root": "root",
        "version": 7,
    });
    let path = dir.join("flake.lock");
    std::fs::write(&path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    path
}

/// A Nix string literal.
fn nix_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "\\${");
    format!("\"{escaped}\"")
}

/// `hello.txt` of the locked input, read through `builtins.fetchTree` — which
/// only succeeds offline if the seeded path is in the store.
fn read_through_fetch_tree(rev: &str, nar_hash: &str) -> String {
    let expr = format!(
        "builtins.readFile ((builtins.fetchTree {{ type = \"github\"; owner = {}; repo = {}; rev = {}; narHash = {}; lastModified = {LAST_MODIFIED}; }}).outPath + \"/hello.txt\")",
        nix_string(OWNER),
        nix_string(REPO),
        nix_string(rev),
        nix_string(nar_hash),
    );
    let output = std::process::Command::new("nix-instantiate")
        .args(["--extra-experimental-features", NIX_FEATURES])
        .args(["--eval", "--strict", "--json", "-E", &expr])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "fetchTree does not resolve offline: {}\n{expr}",
        stderr(&output)
    );
    serde_json::from_slice::<String>(&output.stdout).unwrap()
}

fn seed(from: &Path, lock: &Path) -> std::process::Output {
    xtask()
        .args(["seed", "demo", "--from", utf8(from), "--lock", utf8(lock)])
        .output()
        .unwrap()
}

/// A tree `name` of [`unique_tree`] in a new directory, and a lock file
/// beside it pinning `demo` to its NAR hash at a revision of this run's own.
struct Pinned {
    tmp: tempfile::TempDir,
    tree: PathBuf,
    content: String,
    hash: String,
    rev: String,
    lock: PathBuf,
}

fn pinned(name: &str) -> Pinned {
    let tmp = tempfile::tempdir().unwrap();
    let (tree, content) = unique_tree(tmp.path(), name);
    let hash = nar_hash(&tree);
    let rev = fake_rev();
    let lock = write_lock(tmp.path(), &rev, &hash);
    Pinned {
        tmp,
        tree,
        content,
        hash,
        rev,
        lock,
    }
}

#[test]
fn seed_from_a_tree_resolves_offline() {
    if !nix_or_skip("seed_from_a_tree_resolves_offline") {
        return;
    }
    let pin = pinned("tree");

    let output = seed(&pin.tree, &pin.lock);
    assert_exit(&output, 0);
    let out = stdout(&output);
    let store_path = out
        .split_whitespace()
        .find(|w| w.starts_with("/nix/store/"))
        .unwrap_or_else(|| panic!("stdout names no store path: {out}"));
    assert!(store_path.ends_with("-source"), "{out}");
    // Asked of the store, not the file system (the store may live elsewhere).
    let valid = std::process::Command::new("nix-store")
        .args(["--check-validity", store_path])
        .status()
        .unwrap();
    assert!(valid.success(), "{store_path} is a valid store path");
    assert!(
        out.contains(&pin.rev[..12]),
        "stdout names the revision: {out}"
    );

    assert_eq!(read_through_fetch_tree(&pin.rev, &pin.hash), pin.content);
}

#[test]
fn seed_refuses_a_tree_with_another_hash() {
    if !nix_or_skip("seed_refuses_a_tree_with_another_hash") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (tree, _) = unique_tree(tmp.path(), "tree");
    let (other, _) = unique_tree(tmp.path(), "other");
    std::fs::write(other.join("extra.txt"), "differs\n").unwrap();
    let (actual, locked) = (nar_hash(&tree), nar_hash(&other));
    assert_ne!(actual, locked);
    let lock = write_lock(tmp.path(), &fake_rev(), &locked);

    let output = seed(&tree, &lock);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains(&locked) && err.contains(&actual),
        "both hashes are shown: {err}"
    );
    assert!(err.contains("differs"), "{err}");
}

#[test]
fn seed_from_a_git_repository_archives_the_revision() {
    if !nix_or_skip("seed_from_a_git_repository_archives_the_revision") {
        return;
    }
    if !have_or_skip("git", "SKIP seed: `git` is not on PATH — install git") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (repo, content) = unique_tree(tmp.path(), "repo");
    let hash = nar_hash(&repo); // before .git exists: the hash of the committed tree
    let git = |args: &[&str]| git(&repo, args);
    git(&["init", "--quiet"]);
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "seed demo"]);
    // A later commit, so the locked revision is not simply the work tree.
    std::fs::write(
        repo.join("hello.txt"),
        "changed after the locked revision\n",
    )
    .unwrap();
    git(&["commit", "--quiet", "-am", "later"]);
    let rev = git(&["rev-parse", "HEAD~1"]);
    assert_eq!(rev.len(), 40, "{rev}");
    let lock = write_lock(tmp.path(), &rev, &hash);

    let output = seed(&repo, &lock);
    assert_exit(&output, 0);
    assert_stdout_has(&output, "/nix/store/");
    assert_eq!(read_through_fetch_tree(&rev, &hash), content);
}

#[test]
fn seed_without_from_is_a_usage_error() {
    let output = xtask().args(["seed", "demo"]).output().unwrap();
    assert_exit(&output, 2);
    assert_stderr_has(&output, "--from");
}

#[test]
fn seed_from_a_tar_gz_of_a_tree_resolves_offline() {
    if !nix_or_skip("seed_from_a_tar_gz_of_a_tree_resolves_offline") {
        return;
    }
    let pin = pinned("packed");
    let tmp = pin.tmp.path();
    // Packed like ../shared/nix-inputs: one top-level folder.
    let archive = tmp.join("packed.tar.gz");
    let tar = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(tmp)
        .arg("packed")
        .status()
        .unwrap();
    assert!(tar.success());

    let output = seed(&archive, &pin.lock);
    assert_exit(&output, 0);
    assert_eq!(read_through_fetch_tree(&pin.rev, &pin.hash), pin.content);

    // Not an archive at all: a failure naming the file and the fix.
    let bogus = tmp.join("bogus.tar.gz");
    std::fs::write(&bogus, "not gzip").unwrap();
    let output = seed(&bogus, &pin.lock);
    assert_exit(&output, 1);
    assert_stderr_has(&output, "bogus.tar.gz");
    assert_stderr_has(&output, "Fix:");
}
