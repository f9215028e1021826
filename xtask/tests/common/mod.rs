//! Helpers shared by the xtask integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod fake_nix;
pub mod junit;

use std::path::{Path, PathBuf};
use std::process::Output;

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

/// Whether `program` runs here; otherwise the `SKIP` line `line` (a failure
/// under `DOMINIX_REQUIRE_EVAL=1`) and `false`.
pub fn have_or_skip(program: &str, line: &str) -> bool {
    if have(program) {
        return true;
    }
    assert!(!eval_required(), "DOMINIX_REQUIRE_EVAL=1 but {line}");
    skip(line);
    false
}

/// Whether the environment demands that Nix-dependent tests really run.
pub fn eval_required() -> bool {
    dominix_eval::skip::required()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `output` exited with `code` (0: success); shows stdout and
/// stderr otherwise.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Asserts that `output`'s stdout contains `needle`; shows it otherwise.
#[track_caller]
pub fn assert_stdout_has(output: &Output, needle: &str) {
    let text = stdout(output);
    assert!(text.contains(needle), "stdout lacks `{needle}`:\n{text}");
}

/// Asserts that `output`'s stderr contains `needle`; shows it otherwise.
#[track_caller]
pub fn assert_stderr_has(output: &Output, needle: &str) {
    let text = stderr(output);
    assert!(text.contains(needle), "stderr lacks `{needle}`:\n{text}");
}

/// `git -C dir ARGS` with a test identity, no signing and no outer
/// repository's variables; asserts it succeeds and returns its stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@localhost"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output).trim().to_owned()
}

/// The JSON file at `path`.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The element of the JSON array `items` whose `key` is `value`.
pub fn find_by<'a>(items: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value:?} in {items}"))
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

/// A temporary copy of this checkout (see [`copy_tracked`]); `None`, after the
/// line `SKIP <tier>: not a git checkout — …`, when this is not a git checkout.
pub fn checkout_copy(tier: &str) -> Option<tempfile::TempDir> {
    let tmp = tempfile::tempdir().unwrap();
    if copy_tracked(tmp.path()).is_none() {
        skip(&format!(
            "SKIP {tier}: not a git checkout — run the tests in a clone"
        ));
        return None;
    }
    Some(tmp)
}

/// The entries of a trunk flake's `imports = [ … ];` list, comments removed, sorted.
pub fn flake_imports(flake: &str) -> Vec<String> {
    let start = flake
        .find("imports = [")
        .expect("the trunk has an imports list")
        + "imports = [".len();
    let len = flake[start..]
        .find("];")
        .expect("the imports list is closed");
    let mut imports: Vec<String> = flake[start..start + len]
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect();
    imports.sort();
    imports
}

/// The string a trunk flake assigns to `key` (`system`, `inputs.domi-nix.url`).
pub fn flake_setting(flake: &str, key: &str) -> String {
    let prefix = format!("{key} = ");
    flake
        .lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{flake}"))
        .trim_end_matches(';')
        .trim_matches('"')
        .to_owned()
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
