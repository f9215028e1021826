//! `cargo xtask check --changed-since REV` on git copies of this checkout:
//! only the changed branches and their dependents are evaluated.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{
    assert_exit, assert_stderr_has, checkout_copy, find_by, git, have_or_skip, stderr, stdout,
    xtask,
};

/// A branch that requires hardening, so that hardening has a dependent.
const GUARD_TOML: &str = r#"[package]
name = "guard"
version = "0.1.0"
edition.workspace = true
license.workspace = true
publish.workspace = true

[package.metadata.dominix]
category = "security"
summary = "Test branch requiring hardening"
requires = ["hardening"]
conflicts = []
systems = ["x86_64-linux", "aarch64-linux"]
"#;

const GUARD_NIXOS: &str = r#"# Test branch: one file in /etc.
{
  config,
  lib,
  ...
}: {
  config = lib.mkIf config.domi-nix.guard.enable {
    environment.etc."guard/level".text = "${config.domi-nix.hardening.level}\n";
  };
}
"#;

/// A git repository holding a copy of this checkout plus `guard` (requiring
/// hardening), committed and tagged `base`; `None` (with a SKIP line) when
/// there is no git or this is not a git checkout.
fn repo() -> Option<tempfile::TempDir> {
    let tmp = copy_or_skip()?;
    let guard = tmp.path().join("crates/guard");
    std::fs::create_dir_all(&guard).unwrap();
    std::fs::write(guard.join("Cargo.toml"), GUARD_TOML).unwrap();
    let fragment = std::fs::read_to_string(tmp.path().join("crates/hardening/feature.nix"))
        .unwrap()
        .replace("hardening", "guard");
    std::fs::write(guard.join("feature.nix"), fragment).unwrap();
    std::fs::write(guard.join("nixos.nix"), GUARD_NIXOS).unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "--no-verify", "-m", "base"]);
    git(tmp.path(), &["tag", "base"]);
    Some(tmp)
}

/// A copy of this checkout; `None` (with a SKIP line) when there is no git
/// or this is not a git checkout.
fn copy_or_skip() -> Option<tempfile::TempDir> {
    if !have_or_skip(
        "git",
        "SKIP changed-since: git is not installed — install git",
    ) {
        return None;
    }
    checkout_copy("changed-since")
}

/// Every branch of the checkout at `root` (the folders of crates/), sorted:
/// what a change outside the branches selects. Read from the copy, so a new
/// branch needs no edit here.
fn all_branches(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Puts a comment line at the top of `file` (relative to `root`).
fn touch(root: &Path, file: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path, format!("# changed\n{text}")).unwrap();
}

/// `check ARGS --changed-since base` on the checkout at `root`, where
/// module evaluation may skip.
fn check_since(root: &Path, args: &[&str]) -> Output {
    xtask()
        .arg("check")
        .args(args)
        .args(["--changed-since", "base"])
        .env("DOMINIX_ROOT", root)
        .env_remove("DOMINIX_REQUIRE_EVAL")
        .output()
        .unwrap()
}

/// `check --json --changed-since base` in `root` selects exactly `want` and,
/// where module evaluation ran, evaluates every one of them.
fn assert_selects(root: &Path, want: &[&str]) {
    let output = check_since(root, &["--json"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let selected: Vec<&str> = report["changed_since"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(selected, want);
    let tier = find_by(&report["tiers"], "name", "module-eval");
    if tier["status"] == "skipped" {
        common::skip(&format!(
            "SKIP module-eval: --changed-since selection checked, evaluation not run — {}",
            tier["details"][0].as_str().unwrap_or_default()
        ));
        return;
    }
    assert_eq!(tier["status"], "passed", "{out}");
    let (count, summary) = (
        report["module_eval"]["evaluated"].as_u64().unwrap(),
        tier["summary"].as_str().unwrap(),
    );
    let n = want.len();
    assert_eq!(count, n as u64, "{summary}");
    assert!(
        summary.starts_with(&format!("{n}/{n} features")),
        "{summary}"
    );
}

#[test]
fn a_changed_branch_is_evaluated_with_its_dependents_only() {
    let Some(tmp) = repo() else { return };
    touch(tmp.path(), "crates/hardening/nixos.nix");
    assert_selects(tmp.path(), &["guard", "hardening"]);
}

#[test]
fn a_changed_leaf_is_evaluated_alone() {
    let Some(tmp) = repo() else { return };
    // Untracked files count as changes too.
    std::fs::write(tmp.path().join("crates/ui/NOTES.md"), "notes\n").unwrap();
    assert_selects(tmp.path(), &["ui"]);
}

#[test]
fn a_change_in_nix_modules_evaluates_every_branch() {
    let Some(tmp) = repo() else { return };
    touch(tmp.path(), "nix-modules/trunk/default.nix");
    let every = all_branches(tmp.path());
    assert!(
        ["guard", "hardening", "ui"]
            .iter()
            .all(|b| every.iter().any(|e| e == b)),
        "{every:?}"
    );
    assert_selects(
        tmp.path(),
        &every.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn nothing_changed_evaluates_nothing_and_says_so() {
    let Some(tmp) = repo() else { return };
    touch(tmp.path(), "README.md");
    let output = check_since(tmp.path(), &[]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}{}", stderr(&output));
    let n = all_branches(tmp.path()).len();
    assert!(
        out.contains(&format!(
            "changed since base: 0 of {n} branches to evaluate (no branch changed), {n} skipped"
        )),
        "{out}"
    );
}

#[test]
fn an_unknown_revision_is_a_usage_error_naming_it() {
    let Some(tmp) = repo() else { return };
    let output = xtask()
        .args(["check", "--changed-since", "no-such-rev"])
        .env("DOMINIX_ROOT", tmp.path())
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert_stderr_has(&output, "--changed-since no-such-rev: no such commit");
    assert_stderr_has(&output, "Fix:");
}

#[test]
fn outside_a_git_work_tree_the_flag_fails_with_a_fix() {
    let Some(tmp) = copy_or_skip() else { return };
    let output = xtask()
        .args(["check", "--changed-since", "HEAD"])
        .env("DOMINIX_ROOT", tmp.path())
        // The temporary directory must not be found inside some outer repository.
        .env("GIT_CEILING_DIRECTORIES", tmp.path().parent().unwrap())
        .output()
        .unwrap();
    assert_exit(&output, 1);
    assert_stderr_has(&output, "is not a git work tree");
    assert_stderr_has(&output, "Fix:");
}

#[test]
fn the_static_tiers_cover_the_selected_branches_and_the_changed_files() {
    let Some(tmp) = repo() else { return };
    // A changed branch file that is not formatted, and a changed file of no
    // branch that does not parse: both are caught.
    touch(tmp.path(), "crates/ui/nixos.nix");
    let ui = tmp.path().join("crates/ui/nixos.nix");
    let text = std::fs::read_to_string(&ui).unwrap();
    std::fs::write(&ui, text.replacen("{", "{   ", 1)).unwrap();
    std::fs::write(tmp.path().join("templates/broken.nix"), "{ a = ; }\n").unwrap();
    let output = check_since(tmp.path(), &["--json"]);
    let out = stdout(&output);
    assert_exit(&output, 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let format = find_by(&report["tiers"], "name", "format");
    let details = format["details"].to_string();
    assert!(
        details.contains("crates/ui/nixos.nix: not formatted"),
        "{details}"
    );
    assert!(
        details.contains("templates/broken.nix: does not parse"),
        "{details}"
    );
    // Only ui's files and the changed file were read, not hardening's or guard's.
    let deadnix = find_by(&report["tiers"], "name", "deadnix");
    let files: u64 = deadnix["summary"]
        .as_str()
        .unwrap()
        .trim_end_matches(" files")
        .parse()
        .unwrap();
    let ui_files = std::fs::read_dir(tmp.path().join("crates/ui"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "nix")
        })
        .count() as u64;
    assert_eq!(files, ui_files + 1, "{deadnix}");
}
