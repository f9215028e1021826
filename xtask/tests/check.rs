//! `cargo xtask check` on this checkout, and on copies with a broken module.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{copy_tracked, eval_required, features, have, skip, stderr, stdout, xtask};

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

/// A copy of this checkout's tracked files, with `edit` applied to crates/hardening/nixos.nix.
fn broken_copy(edit: impl Fn(&str) -> String) -> Option<tempfile::TempDir> {
    let tmp = tempfile::tempdir().unwrap();
    copy_tracked(tmp.path())?;
    let file = tmp.path().join("crates/hardening/nixos.nix");
    let before = std::fs::read_to_string(&file).unwrap();
    let after = edit(&before);
    assert_ne!(
        before, after,
        "the edit must change crates/hardening/nixos.nix"
    );
    std::fs::write(&file, after).unwrap();
    Some(tmp)
}

/// `check` on a copy of this checkout with `edit` applied to
/// crates/hardening/nixos.nix: asserts it exits 1 and returns its stdout.
/// `None` (with a SKIP line) where module evaluation cannot run.
fn failing_check(test: &str, edit: impl Fn(&str) -> String) -> Option<String> {
    if !eval_or_skip(test) {
        return None;
    }
    let Some(tmp) = broken_copy(edit) else {
        skip("SKIP check-copy: not a git checkout — run the tests in a clone");
        return None;
    };
    let output = check_in(tmp.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}{}", stderr(&output));
    Some(out)
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
    assert!(output.status.success(), "{out}{}", stderr(&output));
    let n = features().len();
    assert_eq!(n, 2, "hardening and ui");
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
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
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
    if !have("nix") {
        assert!(
            !eval_required(),
            "DOMINIX_REQUIRE_EVAL=1 but `nix` is not on PATH"
        );
        skip("SKIP module-eval: `nix` is not on PATH — install Nix ≥ 2.8");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    if copy_tracked(tmp.path()).is_none() {
        skip("SKIP check-copy: not a git checkout — run the tests in a clone");
        return;
    }
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
    assert_eq!(required.status.code(), Some(1), "{}", stdout(&required));
    assert!(
        stdout(&required).contains("FAIL module-eval"),
        "{}",
        stdout(&required)
    );
}

#[test]
fn check_names_an_undeclared_option_and_its_file() {
    let Some(out) = failing_check("check_names_an_undeclared_option_and_its_file", |text| {
        text.replace("boot.tmp.cleanOnBoot", "boot.tmp.cleanOnBot")
    }) else {
        return;
    };
    assert!(out.contains("boot.tmp.cleanOnBot"), "{out}");
    assert!(out.contains("crates/hardening/nixos.nix"), "{out}");
    assert!(out.contains("FAIL module-eval"), "{out}");
    assert!(
        out.contains("module-eval: 1/2 features evaluated"),
        "only ui evaluates:\n{out}"
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
    let Some(out) = failing_check("check_locates_an_infinite_recursion", |text| {
        text.replace(
            "networking.firewall.enable = dflt true;",
            "networking.firewall.enable = config.networking.firewall.enable;",
        )
    }) else {
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
        |text| {
            text.replace(
            "security.sudo.execWheelOnly = dflt true;",
            "security.sudo.execWheelOnly = dflt true;\n      assertions = [{assertion = false; message = \"hardening: test assertion\";}];",
        )
        },
    ) else {
        return;
    };
    assert!(
        out.contains("`hardening` failed NixOS assertions (features: hardening)"),
        "{out}"
    );
    assert!(out.contains("hardening: test assertion"), "{out}");
    assert!(out.contains("module-eval: 1/2 features evaluated"), "{out}");
}

#[test]
fn check_reports_a_syntax_error_in_a_fragment_once() {
    if !eval_or_skip("check_reports_a_syntax_error_in_a_fragment_once") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    if copy_tracked(tmp.path()).is_none() {
        skip("SKIP check-copy: not a git checkout — run the tests in a clone");
        return;
    }
    let fragment = tmp.path().join("crates/ui/feature.nix");
    std::fs::write(
        &fragment,
        "{...}: {\n  flake.modules.nixos.ui = ./nixos.nix\n}\n",
    )
    .unwrap();
    let output = check_in(tmp.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}{}", stderr(&output));
    assert!(out.contains("FAIL nix-parse"), "{out}");
    assert!(out.contains("file:   crates/ui/feature.nix"), "{out}");
    assert_eq!(
        out.matches("syntax error, unexpected").count(),
        2,
        "once in nix-parse, once in module-eval (shared by every case):\n{out}"
    );
    assert!(out.contains("module-eval: 0/2 features evaluated"), "{out}");
}
