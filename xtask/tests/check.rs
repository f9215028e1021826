//! `cargo xtask check` on this checkout, and on copies with a broken module.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{
    assert_exit, assert_stdout_has, checkout_copy, eval_required, features, have, have_or_skip,
    skip, stderr, stdout, xtask,
};

/// Whether module evaluation runs here: `nix` is installed and the pinned
/// inputs are in the store (what `check` itself decides, via its SKIP line).
/// Asked once per test binary.
fn module_eval_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        have("nix") && {
            let output = xtask()
                .arg("check")
                .env_remove("DOMINIX_REQUIRE_EVAL")
                .output()
                .unwrap();
            !stdout(&output).contains("SKIP module-eval")
        }
    })
}

/// The `SKIP module-eval: <reason> — <fix>` line of a check report.
fn skip_line(out: &str) -> Option<&str> {
    out.lines()
        .map(str::trim)
        .find(|l| l.starts_with("SKIP module-eval:"))
}

/// `check` on a copy of this checkout with `edit` applied to `file`: asserts
/// it exits with `code` and returns its stdout. `None` (with a SKIP line)
/// where module evaluation cannot run.
fn check_edited(
    test: &str,
    file: &str,
    code: i32,
    edit: impl Fn(&str) -> String,
) -> Option<String> {
    if !eval_or_skip(test) {
        return None;
    }
    let tmp = checkout_copy("check-copy")?;
    let path = tmp.path().join(file);
    let before = std::fs::read_to_string(&path).unwrap();
    let after = edit(&before);
    assert_ne!(before, after, "the edit must change {file}");
    std::fs::write(&path, after).unwrap();
    let output = check_in(tmp.path());
    assert_exit(&output, code);
    Some(stdout(&output))
}

/// `check` on a copy with `edit` applied to crates/hardening/nixos.nix: exits 1.
fn failing_check(test: &str, edit: impl Fn(&str) -> String) -> Option<String> {
    check_edited(test, "crates/hardening/nixos.nix", 1, edit)
}

/// An edit replacing every `from` with `to`.
fn replacing<'a>(from: &'a str, to: &'a str) -> impl Fn(&str) -> String + 'a {
    move |text| text.replace(from, to)
}

/// Adds `definitions` (Nix attribute-set lines) to the hardening module's `config`.
fn with_definitions(text: &str, definitions: &str) -> String {
    text.replace(
        "      security.sudo.execWheelOnly = dflt true;",
        &format!("      security.sudo.execWheelOnly = dflt true;\n{definitions}"),
    )
}

fn check_in(root: &Path) -> std::process::Output {
    xtask()
        .arg("check")
        .env("DOMINIX_ROOT", root)
        .env_remove("DOMINIX_REQUIRE_EVAL")
        .output()
        .unwrap()
}

/// Runs before the negative tests: a SKIP line when they cannot run here.
fn eval_or_skip(test: &str) -> bool {
    if module_eval_available() {
        return true;
    }
    assert!(
        !eval_required(),
        "DOMINIX_REQUIRE_EVAL=1 but module evaluation is unavailable for {test}"
    );
    skip(&format!(
        "SKIP module-eval: {test} not run — install Nix and seed the pinned inputs (`cargo xtask seed …`)"
    ));
    false
}

#[test]
fn check_passes_on_this_checkout() {
    let output = xtask().arg("check").output().unwrap();
    let out = stdout(&output);
    if let Some(line) = skip_line(&out) {
        // Module evaluation cannot run here: the skip explains why and how to fix it.
        let (reason, fix) = line["SKIP module-eval:".len()..]
            .split_once(" — ")
            .unwrap_or_else(|| {
                panic!("the SKIP line has no `reason — fix` shape: {line}");
            });
        assert!(
            !reason.trim().is_empty() && !fix.trim().is_empty(),
            "{line}"
        );
        assert!(
            output.status.success(),
            "a skip is not a failure:\n{out}{}",
            stderr(&output)
        );
        let required = xtask()
            .arg("check")
            .env("DOMINIX_REQUIRE_EVAL", "1")
            .output()
            .unwrap();
        assert_eq!(
            required.status.code(),
            Some(1),
            "DOMINIX_REQUIRE_EVAL=1 turns the skip into a failure"
        );
        skip(line);
        return;
    }
    assert_exit(&output, 0);
    let names: Vec<String> = features().into_iter().map(|(name, _)| name).collect();
    assert!(
        ["hardening", "ui"]
            .iter()
            .all(|f| names.iter().any(|n| n == f)),
        "hardening and ui among {names:?}"
    );
    let n = names.len();
    assert!(
        out.contains(&format!("module-eval: {n}/{n} features evaluated")),
        "{out}"
    );
    assert!(out.contains(" 0 failed"), "{out}");
}

#[test]
fn check_json_reports_every_tier() {
    let output = xtask()
        .args(["check", "--json"])
        .env_remove("DOMINIX_REQUIRE_EVAL")
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("check --json prints JSON");
    let names: Vec<&str> = report["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for tier in [
        "metadata",
        "resolve",
        "nix-parse",
        "trunks",
        "format",
        "deadnix",
        "module-eval",
    ] {
        assert!(names.contains(&tier), "tier {tier} missing: {names:?}");
    }
    assert_eq!(report["failed"], 0, "{report}");
    let n = features().len();
    assert_eq!(report["module_eval"]["features"], n, "{report}");
}

#[test]
fn check_skips_module_eval_when_inputs_are_not_seeded() {
    let nix = "SKIP module-eval: `nix` is not on PATH — install Nix ≥ 2.8";
    if !have_or_skip("nix", nix) {
        return;
    }
    let Some(tmp) = checkout_copy("check-copy") else {
        return;
    };
    // A NAR hash no store path has: nixpkgs-lib counts as not seeded.
    let lock_path = tmp.path().join("flake.lock");
    let mut lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    lock["nodes"]["nixpkgs-lib"]["locked"]["narHash"] =
        "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();

    let output = check_in(tmp.path());
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "a skip is not a failure:\n{out}{}",
        stderr(&output)
    );
    let line = skip_line(&out).unwrap_or_else(|| panic!("no SKIP module-eval line:\n{out}"));
    assert!(
        line.contains("nixpkgs-lib") && line.contains(" — ") && line.contains("cargo xtask seed"),
        "{line}"
    );
    assert!(
        out.contains(&format!(
            "module-eval: 0/{} features evaluated",
            features().len()
        )),
        "{out}"
    );

    let required = xtask()
        .arg("check")
        .env("DOMINIX_ROOT", tmp.path())
        .env("DOMINIX_REQUIRE_EVAL", "1")
        .output()
        .unwrap();
    assert_exit(&required, 1);
    assert_stdout_has(&required, "FAIL module-eval");
}

/// `check`'s summary when every branch of this checkout but `failed` of
/// them evaluates (counted, so a new branch needs no edit here).
fn evaluated_but(failed: usize) -> String {
    let n = features().len();
    format!("module-eval: {}/{n} features evaluated", n - failed)
}

#[test]
fn check_names_an_undeclared_option_and_its_file() {
    let Some(out) = failing_check(
        "check_names_an_undeclared_option_and_its_file",
        replacing("boot.tmp.cleanOnBoot", "boot.tmp.cleanOnBot"),
    ) else {
        return;
    };
    assert!(out.contains("boot.tmp.cleanOnBot"), "{out}");
    assert!(out.contains("crates/hardening/nixos.nix"), "{out}");
    assert!(out.contains("FAIL module-eval"), "{out}");
    assert!(
        out.contains(&evaluated_but(1)),
        "every branch but hardening evaluates:\n{out}"
    );
}

#[test]
fn check_names_a_wrongly_typed_value() {
    let Some(out) = failing_check("check_names_a_wrongly_typed_value", |text| {
        text.lines()
            .map(|line| match line.split_once("boot.tmp.cleanOnBoot =") {
                Some((indent, _)) => format!("{indent}boot.tmp.cleanOnBoot = \"yes\";"),
                None => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }) else {
        return;
    };
    assert!(out.contains("is not of type"), "{out}");
    assert!(out.contains("boot.tmp.cleanOnBoot"), "{out}");
    assert!(out.contains("crates/hardening/nixos.nix"), "{out}");
}

#[test]
fn check_locates_an_infinite_recursion() {
    let Some(out) = failing_check(
        "check_locates_an_infinite_recursion",
        replacing(
            "networking.firewall.enable = dflt true;",
            "networking.firewall.enable = config.networking.firewall.enable;",
        ),
    ) else {
        return;
    };
    assert!(out.contains("infinite recursion"), "{out}");
    // Nix's own message names neither; the --show-trace rerun finds both.
    assert!(out.contains("file:   crates/hardening/nixos.nix"), "{out}");
    assert!(out.contains("option: networking.firewall.enable"), "{out}");
}

#[test]
fn check_reports_a_failed_assertion_with_its_feature() {
    let Some(out) = failing_check(
        "check_reports_a_failed_assertion_with_its_feature",
        replacing(
            "security.sudo.execWheelOnly = dflt true;",
            "security.sudo.execWheelOnly = dflt true;\n      assertions = [{assertion = false; message = \"hardening: test assertion\";}];",
        ),
    ) else {
        return;
    };
    assert!(
        out.contains("failed NixOS assertions (features: hardening)"),
        "{out}"
    );
    assert!(out.contains("hardening: test assertion"), "{out}");
    assert!(out.contains(&evaluated_but(1)), "{out}");
}

#[test]
fn check_reports_a_syntax_error_in_a_fragment_once() {
    let Some(out) = check_edited(
        "check_reports_a_syntax_error_in_a_fragment_once",
        "crates/ui/feature.nix",
        1,
        |_| "{...}: {\n  dominix.modules.nixos.ui = ./nixos.nix\n}\n".to_owned(),
    ) else {
        return;
    };
    assert!(out.contains("FAIL nix-parse"), "{out}");
    assert!(out.contains("file:   crates/ui/feature.nix"), "{out}");
    assert_eq!(
        out.matches("syntax error, unexpected").count(),
        2,
        "once in nix-parse, once in module-eval (shared by every case):\n{out}"
    );
    let n = features().len();
    assert!(
        out.contains(&format!("module-eval: 0/{n} features evaluated")),
        "{out}"
    );
}

#[test]
fn check_reproduces_a_conflict_with_nixpkgs_own_mkdefault() {
    // getty.nix sets the greeting with mkDefault: a second mkDefault of a
    // string conflicts in every real NixOS evaluation.
    let Some(out) = failing_check(
        "check_reproduces_a_conflict_with_nixpkgs_own_mkdefault",
        |text| {
            with_definitions(
                text,
                "      services.getty.greetingLine = lib.mkDefault \"hi\";",
            )
        },
    ) else {
        return;
    };
    assert!(out.contains("conflicting definition values"), "{out}");
    assert!(out.contains("services.getty.greetingLine"), "{out}");
    assert!(out.contains("crates/hardening/nixos.nix"), "{out}");
    assert!(
        out.contains("nix-modules/contract/nixos/modules/services/ttys/getty.nix"),
        "names nixpkgs' file (as the contract mirrors it):\n{out}"
    );
    assert!(
        out.contains("stronger priority to win"),
        "says how to fix it:\n{out}"
    );
}

#[test]
fn check_rejects_an_attribute_set_for_the_module_blacklist() {
    // nixpkgs: `listOf str`, no coercion from an attribute set.
    let Some(out) = failing_check(
        "check_rejects_an_attribute_set_for_the_module_blacklist",
        replacing(
            "boot.blacklistedKernelModules = cfg.blacklistedKernelModules;",
            "boot.blacklistedKernelModules = {dccp = true;};",
        ),
    ) else {
        return;
    };
    assert!(out.contains("is not of type"), "{out}");
    assert!(out.contains("boot.blacklistedKernelModules"), "{out}");
}

#[test]
fn check_evaluates_vm_test_nodes_with_the_test_framework() {
    // The test framework names each node with mkDefault: a node that does
    // the same with another name conflicts, only in the VM test.
    let Some(out) = check_edited(
        "check_evaluates_vm_test_nodes_with_the_test_framework",
        "crates/hardening/vm-test.nix",
        1,
        replacing(
            "strict = node \"strict\";",
            "strict = {lib, ...}: {\n      imports = [(node \"strict\")];\n      networking.hostName = lib.mkDefault \"hardened\";\n    };",
        ),
    ) else {
        return;
    };
    assert!(out.contains("conflicting definition values"), "{out}");
    assert!(out.contains("networking.hostName"), "{out}");
    assert!(out.contains("test node `strict`"), "names the node:\n{out}");
    assert!(
        out.contains("nix-modules/contract/nixos/lib/testing/network.nix"),
        "{out}"
    );
}

#[test]
fn check_lints_vm_test_scripts_against_their_nodes() {
    let Some(out) = check_edited(
        "check_lints_vm_test_scripts_against_their_nodes",
        "crates/hardening/vm-test.nix",
        1,
        replacing(
            "baseline.succeed(\"grep -q slab_nomerge",
            "basline.succeed(\"grep -q slab_nomerge",
        ),
    ) else {
        return;
    };
    if out.contains("SKIP vm-tests") {
        skip("SKIP vm-tests: pyflakes is not installed — `pip install pyflakes`");
        assert!(!eval_required(), "{out}");
        return;
    }
    assert!(out.contains("FAIL vm-tests"), "{out}");
    assert!(out.contains("undefined name 'basline'"), "{out}");
    assert!(out.contains("crates/hardening/vm-test.nix"), "{out}");
    assert!(
        out.contains("`baseline`, `strict`"),
        "lists the nodes:\n{out}"
    );
}

#[test]
fn check_warns_about_a_definition_that_never_applies() {
    // getty.nix defines the help line at normal priority (a `lines` option
    // keeps only its strongest definitions): a mkDefault one is dropped.
    let Some(out) = check_edited(
        "check_warns_about_a_definition_that_never_applies",
        "crates/hardening/nixos.nix",
        0,
        |text| {
            with_definitions(
                text,
                "      services.getty.helpLine = lib.mkDefault \"hardened\";",
            )
        },
    ) else {
        return;
    };
    let warning = out
        .lines()
        .find(|l| l.contains("warning:") && l.contains("services.getty.helpLine"))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(warning.contains("crates/hardening/nixos.nix"), "{warning}");
    assert!(
        warning.contains("nixos/modules/services/ttys/getty.nix"),
        "{warning}"
    );
    assert!(
        warning.contains("priority 1000") && warning.contains("priority 100 "),
        "{warning}"
    );
    assert!(out.contains("Fix: give the definition"), "{out}");
}

#[test]
fn check_is_quiet_about_definitions_that_apply_somewhere() {
    // The trunk's host name yields to the test framework's (by design) but
    // applies on systems and VMs: no warning.
    if !eval_or_skip("check_is_quiet_about_definitions_that_apply_somewhere") {
        return;
    }
    let output = xtask().arg("check").output().unwrap();
    let out = stdout(&output);
    assert_exit(&output, 0);
    assert!(!out.contains("warning:"), "{out}");
}

/// The error Nix's catalog (nix-modules/lib/catalog.nix) gives when asked for
/// the fragments of the checkout at `root`; `None` when it evaluates.
fn nix_catalog_error(root: &Path) -> Option<String> {
    let expr = r#"{root}: let
  rootPath = /. + root;
  inputs = import (rootPath + "/nix-modules/lib/locked-inputs.nix") {
    lockFile = rootPath + "/flake.lock";
    self = {outPath = root;};
  };
  catalog = import (rootPath + "/nix-modules/lib/catalog.nix") {inherit (inputs.nixpkgs-lib) lib;};
in
  map toString catalog.fragments"#;
    let output = std::process::Command::new("nix-instantiate")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args([
            "--eval", "--strict", "--json", "--expr", expr, "--argstr", "root",
        ])
        .arg(root)
        .output()
        .unwrap();
    (!output.status.success()).then(|| stderr(&output))
}

/// Every folder under crates/ is a branch: a folder without a Cargo.toml, or
/// a crate without `[package.metadata.dominix]`, fails `check` and the Nix
/// catalog alike, naming the file and the fix.
#[test]
fn a_folder_under_crates_that_is_no_feature_is_an_error() {
    if !eval_or_skip("a_folder_under_crates_that_is_no_feature_is_an_error") {
        return;
    }
    assert_eq!(nix_catalog_error(&common::root()), None);
    let cases: [(&str, Option<&str>, &str); 2] = [
        (
            "stray",
            None,
            "crates/stray/Cargo.toml: feature `stray`: Cargo.toml: `crates/stray` has no Cargo.toml",
        ),
        (
            "helper",
            Some("[package]\nname = \"helper\"\nversion = \"0.1.0\"\n"),
            "crates/helper/Cargo.toml: feature `helper`: metadata: no [package.metadata.dominix] table",
        ),
    ];
    for (dir, manifest, problem) in cases {
        let Some(tmp) = checkout_copy("check-copy") else {
            return;
        };
        let folder = tmp.path().join("crates").join(dir);
        std::fs::create_dir_all(&folder).unwrap();
        if let Some(text) = manifest {
            std::fs::write(folder.join("Cargo.toml"), text).unwrap();
        }
        let fix = "or move it out of crates/ (tooling crates live in tooling/)";

        let output = check_in(tmp.path());
        let out = format!("{}{}", stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(1), "{out}");
        assert!(out.contains(problem) && out.contains(fix), "{out}");

        let error = nix_catalog_error(tmp.path()).expect("the Nix catalog must refuse it");
        assert!(
            error.contains(&format!("crates/{dir}/Cargo.toml")) && error.contains(fix),
            "{error}"
        );
    }
}
