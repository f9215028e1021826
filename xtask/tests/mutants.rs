//! `cargo xtask mutants`: on a small synthetic branch in a copy of this
//! checkout, whose tests assert some of its definitions and not others.
//! Needs Nix with the pinned inputs seeded (visible SKIP otherwise) and
//! builds the branch's tests with Cargo.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{assert_exit, assert_stderr_has, checkout_copy, root, stderr, stdout, xtask};
use dominix_eval::Evaluator;
use serde_json::Value;

const MANIFEST: &str = r#"[package]
name = "probe"
version = "0.1.0"
edition.workspace = true
license.workspace = true
publish.workspace = true

[package.metadata.dominix]
category = "security"
summary = "A branch for the mutants tests"
requires = []
conflicts = []
systems = ["x86_64-linux", "aarch64-linux"]

[dev-dependencies]
dominix-testing.workspace = true
serde_json.workspace = true
"#;

/// Three sysctls and an option: seven mutants (each sysctl removed or
/// changed, the default changed).
const MODULE: &str = r#"{
  config,
  lib,
  ...
}: let
  cfg = config.domi-nix.probe;
in {
  options.domi-nix.probe.level = lib.mkOption {
    type = lib.types.int;
    default = 3;
    description = "A level.";
  };

  config = lib.mkIf cfg.enable {
    boot.kernel.sysctl = {
      "kernel.kptr_restrict" = 2;
      "kernel.dmesg_restrict" = 1;
      "kernel.sysrq" = 4;
    };
  };
}
"#;

/// Asserts kptr_restrict and the level; not dmesg_restrict; and hangs
/// when sysrq is not 4 (so those mutants time out).
const SOME_TESTS: &str = r#"use dominix_testing::eval_feature;
use serde_json::json;

#[test]
fn kptr_restrict_and_the_level() {
    let Some(config) = eval_feature("probe", json!({})) else { return };
    assert_eq!(config["boot.kernel.sysctl"]["kernel.kptr_restrict"], 2);
    assert_eq!(config["domi-nix"]["probe"]["level"], 3);
}

#[test]
fn sysrq_or_hang() {
    let Some(config) = eval_feature("probe", json!({ "domi-nix": { "probe": { "level": 5 } } })) else { return };
    if config["boot.kernel.sysctl"]["kernel.sysrq"] != 4 {
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}
"#;

const ALL_TESTS: &str = r#"use dominix_testing::eval_feature;
use serde_json::json;

#[test]
fn every_definition() {
    let Some(config) = eval_feature("probe", json!({})) else { return };
    let sysctl = &config["boot.kernel.sysctl"];
    assert_eq!(sysctl["kernel.kptr_restrict"], 2);
    assert_eq!(sysctl["kernel.dmesg_restrict"], 1);
    assert_eq!(sysctl["kernel.sysrq"], 4);
    assert_eq!(config["domi-nix"]["probe"]["level"], 3);
}
"#;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A copy of this checkout with the `probe` branch, or `None` (after a
/// visible SKIP) where module evaluation cannot run.
fn probe_checkout() -> Option<tempfile::TempDir> {
    if let Err(reason) = Evaluator::new(common::utf8(&root()).to_owned()).preflight() {
        dominix_eval::skip::skip_test(&format!("{} [mutants]", reason.skip_line()));
        return None;
    }
    let tree = checkout_copy("mutants")?;
    let dir = tree.path();
    write(dir, "crates/probe/Cargo.toml", MANIFEST);
    write(
        dir,
        "crates/probe/src/lib.rs",
        "//! A branch for the mutants tests.\n",
    );
    write(
        dir,
        "crates/probe/feature.nix",
        "{...}: {\n  dominix.modules.nixos.probe = ./nixos.nix;\n}\n",
    );
    write(dir, "crates/probe/nixos.nix", MODULE);
    Some(tree)
}

/// `cargo xtask mutants probe …` in `dir`, its scratch copies in `tmp`.
/// Builds go to a target directory of their own under this checkout's,
/// kept between runs so only the copied crates are rebuilt (no debug info,
/// no incremental data: a fraction of the space). Only one test may use
/// it: Cargo names a workspace member's artefacts by its path in the
/// workspace, so two copies built at once would write the same executable.
fn mutants(dir: &Path, tmp: &Path, args: &[&str]) -> std::process::Output {
    xtask()
        .env("DOMINIX_ROOT", dir)
        .env("TMPDIR", tmp)
        .env("CARGO_TARGET_DIR", root().join("target/mutants-tests"))
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .args(["mutants", "probe"])
        .args(args)
        .output()
        .unwrap()
}

fn by_description<'a>(report: &'a Value, needle: &str) -> &'a Value {
    report["mutants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["description"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no mutant `{needle}` in {report:#}"))
}

#[test]
fn unasserted_definitions_survive_and_asserted_ones_are_killed() {
    let Some(tree) = probe_checkout() else { return };
    let dir = tree.path();
    let tmp = tempfile::tempdir().unwrap();

    // The unmutated tests must pass.
    write(
        dir,
        "crates/probe/tests/eval.rs",
        "#[test]\nfn already_broken() {\n    assert_eq!(1 + 1, 3);\n}\n",
    );
    let out = mutants(dir, tmp.path(), &[]);
    assert_exit(&out, 1);
    assert_stderr_has(&out, "the unmutated tests of `probe` fail: already_broken");
    assert_stderr_has(&out, "Fix: make `cargo test -p probe` pass first");

    // Some definitions asserted, one test hanging on a mutated sysrq.
    write(dir, "crates/probe/tests/eval.rs", SOME_TESTS);
    let out = mutants(
        dir,
        tmp.path(),
        &["--json", "--jobs", "2", "--mutant-timeout", "8"],
    );
    assert_exit(&out, 1);
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(&out), stderr(&out)));
    let summary = &report["summary"];
    assert_eq!(
        (
            &summary["mutants"],
            &summary["killed"],
            &summary["survived"],
            &summary["timed_out"],
            &summary["unviable"]
        ),
        (&7.into(), &3.into(), &2.into(), &2.into(), &0.into()),
        "{report:#}"
    );
    assert_eq!(summary["batched"], true);
    assert_eq!(summary["cases"], 2, "two distinct evaluations recorded");
    let status = |needle: &str| by_description(&report, needle)["status"].clone();
    let sysctl = "config.boot.kernel.sysctl";
    assert_eq!(
        status(&format!("remove {sysctl}.\"kernel.kptr_restrict\"")),
        "killed"
    );
    assert_eq!(status("\"kernel.kptr_restrict\": 2 → 3"), "killed");
    assert_eq!(
        status("options.domi-nix.probe.level.default: 3 → 4"),
        "killed"
    );
    assert_eq!(
        status(&format!("remove {sysctl}.\"kernel.dmesg_restrict\"")),
        "survived"
    );
    assert_eq!(status("\"kernel.dmesg_restrict\": 1 → 0"), "survived");
    assert_eq!(
        status(&format!("remove {sysctl}.\"kernel.sysrq\"")),
        "timed-out"
    );
    assert_eq!(status("\"kernel.sysrq\": 4 → 5"), "timed-out");
    let killed = by_description(&report, "level.default");
    assert_eq!(
        killed["failed_tests"],
        serde_json::json!(["kptr_restrict_and_the_level"])
    );
    let survivor = by_description(&report, "remove config.boot.kernel.sysctl.\"kernel.dmesg");
    assert_eq!(survivor["file"], "crates/probe/nixos.nix");
    assert_eq!(
        (&survivor["line"], &survivor["column"]),
        (&17.into(), &7.into())
    );
    // The error names each survivor by place and change, and the fix.
    assert_stderr_has(
        &out,
        "crates/probe/nixos.nix:17:7: remove config.boot.kernel.sysctl.\"kernel.dmesg_restrict\"",
    );
    assert_stderr_has(
        &out,
        "crates/probe/nixos.nix:17:33: config.boot.kernel.sysctl.\"kernel.dmesg_restrict\": 1 → 0",
    );
    assert_stderr_has(&out, "2 of 7 mutants of `probe` survived");
    assert_stderr_has(&out, "Fix: assert each of them in crates/probe/tests/");
    // The checkout is as it was; the scratch copies are gone.
    assert_eq!(
        std::fs::read_to_string(dir.join("crates/probe/nixos.nix")).unwrap(),
        MODULE
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");

    // An interrupt stops the run after the mutant at hand and removes the
    // scratch copies.
    interrupted_after_the_first_mutant(dir, tmp.path());

    // Every definition asserted: nothing survives, with or without batches.
    write(dir, "crates/probe/tests/eval.rs", ALL_TESTS);
    for extra in [&[][..], &["--no-batch"][..]] {
        let out = mutants(dir, tmp.path(), extra);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(
            text.contains("probe: 7 mutants: 7 killed, 0 survived, 0 timed out, 0 unviable"),
            "{text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("killed ")).count(),
            7,
            "{text}"
        );
        assert!(text.contains("crates/probe/nixos.nix:18:7"), "{text}");
    }
}

/// Starts `mutants` (one job), sends SIGINT once it has reported a mutant,
/// and checks it stops, saying so, with nothing left in `tmp`.
fn interrupted_after_the_first_mutant(dir: &Path, tmp: &Path) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("xtask"))
        .env("DOMINIX_ROOT", dir)
        .env("TMPDIR", tmp)
        .env("CARGO_TARGET_DIR", root().join("target/mutants-tests"))
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .args(["mutants", "probe", "--jobs", "1", "--mutant-timeout", "8"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("killed "), "{first}");
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{rest:?}\n{}", stderr(&out));
    assert_stderr_has(&out, "mutants of `probe` interrupted after");
    assert!(rest.len() < 6, "went on after the interrupt: {rest:?}");
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

#[test]
fn an_unknown_branch_is_a_usage_error_naming_the_nearest() {
    let out = xtask().args(["mutants", "hardenin"]).output().unwrap();
    assert_exit(&out, 2);
    assert_stderr_has(&out, "unknown feature `hardenin`");
    assert_stderr_has(&out, "`hardening`");
}

#[test]
fn a_module_that_does_not_parse_is_named_before_anything_runs() {
    let Some(tree) = checkout_copy("mutants") else {
        return;
    };
    write(
        tree.path(),
        "crates/hardening/nixos.nix",
        "{ config = { a = ; }; }\n",
    );
    let out = xtask()
        .env("DOMINIX_ROOT", tree.path())
        .args(["mutants", "hardening"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert_stderr_has(&out, "crates/hardening/nixos.nix does not parse");
    assert_stderr_has(&out, "Fix: ");
    let jobs = xtask()
        .args(["mutants", "hardening", "--jobs", "0"])
        .output()
        .unwrap();
    assert_exit(&jobs, 2);
}
