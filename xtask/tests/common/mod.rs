//! Helpers shared by the xtask integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod fake_nix;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Experimental features every Nix call of the tests passes (Nix 2.8).
pub const NIX_FEATURES: &str = "nix-command flakes";

/// The workspace root: the parent of the xtask crate.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `xtask` working on this checkout (DOMINIX_ROOT set explicitly, so an
/// outer DOMINIX_ROOT cannot change what is tested).
pub fn xtask() -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env("DOMINIX_ROOT", root());
    cmd
}

/// Whether `program --version` runs.
pub fn have(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Prints a visible `SKIP` line straight to stderr (past the harness'
/// capture), or fails under `DOMINIX_REQUIRE_EVAL=1`.
pub fn skip(line: &str) {
    dominix_eval::skip::skip_test(line);
}

/// Whether the environment demands that Nix-dependent tests really run.
pub fn eval_required() -> bool {
    dominix_eval::skip::required()
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `path` as a `&str` (the tests only use UTF-8 temporary paths).
pub fn utf8(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Copies the files of this checkout that git knows or would add (tracked,
/// and untracked but not ignored; plus flake.lock) into `dest`; `None` when
/// this is not a git checkout.
pub fn copy_tracked(dest: &Path) -> Option<()> {
    let root = root();
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let listing = String::from_utf8(output.stdout).unwrap();
    let mut files: Vec<&str> = listing.split('\0').filter(|f| !f.is_empty()).collect();
    files.push("flake.lock");
    for file in files {
        let from = root.join(file);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let to = dest.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    Some(())
}

/// The features of this checkout and the systems each supports, from `xtask list --json`.
pub fn features() -> Vec<(String, Vec<String>)> {
    let output = xtask().args(["list", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let systems = f["systems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            (f["name"].as_str().unwrap().to_owned(), systems)
        })
        .collect()
}
