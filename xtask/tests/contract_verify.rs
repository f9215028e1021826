//! `cargo xtask contract verify` end to end — verify.nix, the xtask and the
//! comparison — against synthetic "nixpkgs" trees: nixpkgs' real `lib` (the
//! pinned nixpkgs-lib) plus a copy of the contract's `nixos/` tree (it mirrors
//! nixpkgs' layout) and small `eval-config.nix`, `nixos/lib/default.nix`
//! (`evalTest`) and `default.nix` (`pkgs`) entry points, so one copy can differ.
//! The run against real nixpkgs happens in the GitHub workflow.
//!
//! What verify.nix reports for the unchanged fake is recorded in
//! tooling/dominix-contract/tests/fixtures/nixpkgs-matching.json, the report
//! the comparison's tests edit; `UPDATE_FIXTURES=1` re-records it.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use camino::Utf8Path;
use common::{assert_exit, assert_stderr_has, root, skip, stderr, stdout, xtask};
use dominix_eval::{Evaluator, Lock};
use dominix_testing::recording;

/// Re-records `nixpkgs-matching.json`.
const REFRESH: &str =
    "UPDATE_FIXTURES=1 cargo test --manifest-path xtask/Cargo.toml --test contract_verify";

/// Re-records `contract.json`.
const REFRESH_CONTRACT: &str =
    "UPDATE_FIXTURES=1 cargo test -p dominix-contract --test describe_eval";

/// The pinned nixpkgs-lib in the store, when module evaluation can run here.
fn pinned_lib(test: &str) -> Option<PathBuf> {
    let root = root();
    let root_utf8 = root.to_str().unwrap().to_owned();
    if let Err(reason) = Evaluator::new(root_utf8.clone()).preflight() {
        skip(&format!(
            "{} [{test}]",
            reason.skip_line().replace("module-eval", "contract-verify")
        ));
        return None;
    }
    let lock = Lock::read(&camino::Utf8PathBuf::from(format!(
        "{root_utf8}/flake.lock"
    )))
    .unwrap();
    let input = lock.input("nixpkgs-lib").unwrap();
    let out = Command::new("nix-store")
        .args(["--print-fixed-path", "--recursive", "sha256"])
        .args([&input.nar_hash, "source"])
        .output()
        .unwrap();
    Some(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()))
}

/// `eval-config.nix` of the fake: the contract's system module list, with the
/// stubs as `pkgs` (like nixpkgs' own, it takes `system` and `modules`).
const EVAL_CONFIG: &str = r#"{
  system ? "x86_64-linux",
  modules ? [],
  ...
}: let
  lib = import ../../lib;
in
  lib.evalModules {
    class = "nixos";
    modules =
      (import ../../contract-module-list.nix).system
      ++ [{_module.args.pkgs = import ../.. {inherit system;};}]
      ++ modules;
  }
"#;

/// `default.nix` of the fake: the contract's `pkgs` stubs.
const DEFAULT: &str = r#"{system ? "x86_64-linux", ...}:
import ./contract-pkgs.nix {
  lib = import ./lib;
  inherit system;
}
"#;

/// `nixos/lib/default.nix` of the fake: an `evalTest` with the options
/// verify.nix uses, whose nodes are the contract's test node "machine"
/// (module-list.nix's `test` list; the name is fixed, which is all verify.nix asks).
const NIXOS_LIB: &str = r#"{lib ? import ../../lib, ...}: {
  evalTest = module:
    lib.evalModules {
      class = "nixosTest";
      modules = [
        ({config, ...}: let
          inherit (lib) mkOption types;
        in {
          options = {
            name = mkOption {type = types.str;};
            hostPkgs = mkOption {type = types.raw;};
            node.pkgs = mkOption {
              type = types.nullOr types.raw;
              default = null;
            };
            node.pkgsReadOnly = mkOption {
              type = types.bool;
              default = config.node.pkgs != null;
            };
            nodes = mkOption {
              type = types.lazyAttrsOf (types.submoduleWith {
                class = "nixos";
                modules =
                  (import ../../contract-module-list.nix).test "machine"
                  ++ [
                    {
                      _module.args.pkgs =
                        if config.node.pkgs != null
                        then config.node.pkgs
                        else config.hostPkgs;
                    }
                  ];
              });
              default = {};
            };
            testScript = mkOption {
              type = types.str;
              default = "";
            };
          };
        })
        module
      ];
    };
}
"#;

/// A fake nixpkgs: the pinned `lib`, a copy of the contract's `nixos/` tree
/// (the contract mirrors nixpkgs' layout, so the copy is a small NixOS), its
/// module list and `pkgs` stubs, and the entry points verify.nix calls.
fn fake_nixpkgs(dir: &Path, lib: &Path) {
    let contract = root().join("nix-modules/contract");
    copy_tree(&contract.join("nixos"), &dir.join("nixos"));
    std::os::unix::fs::symlink(lib.join("lib"), dir.join("lib")).unwrap();
    std::fs::copy(
        contract.join("module-list.nix"),
        dir.join("contract-module-list.nix"),
    )
    .unwrap();
    std::fs::copy(contract.join("pkgs.nix"), dir.join("contract-pkgs.nix")).unwrap();
    std::fs::write(dir.join("default.nix"), DEFAULT).unwrap();
    std::fs::write(dir.join("nixos/lib/eval-config.nix"), EVAL_CONFIG).unwrap();
    std::fs::write(dir.join("nixos/lib/default.nix"), NIXOS_LIB).unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces the one occurrence of `from` in the fake's `file`.
fn edit(nixpkgs: &Path, file: &str, from: &str, to: &str) {
    let path = nixpkgs.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{file}: `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// A fake nixpkgs in a new directory; `None` (with a SKIP line naming `test`)
/// where module evaluation cannot run.
fn nixpkgs(test: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let lib = pinned_lib(test)?;
    let tmp = tempfile::tempdir().unwrap();
    let nixpkgs = tmp.path().join("nixpkgs");
    fake_nixpkgs(&nixpkgs, &lib);
    Some((tmp, nixpkgs))
}

fn verify(nixpkgs: &Path) -> std::process::Output {
    xtask()
        .args(["contract", "verify", "--nixpkgs"])
        .arg(nixpkgs)
        .env_remove("DOMINIX_REQUIRE_EVAL")
        .output()
        .unwrap()
}

/// `contract verify` of `nixpkgs`: asserts it exits with `code`; what it
/// printed (stdout, then stderr).
fn verify_exits(nixpkgs: &Path, code: i32) -> String {
    let output = verify(nixpkgs);
    let out = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(code), "{out}");
    out
}

#[test]
fn a_nixpkgs_that_declares_the_contract_verifies() {
    let Some((_tmp, nixpkgs)) = nixpkgs("a_nixpkgs_that_declares_the_contract_verifies") else {
        return;
    };
    let out = verify_exits(&nixpkgs, 0);
    assert!(out.contains("0 failure(s), 0 warning(s)"), "{out}");
}

#[test]
fn the_recorded_nixpkgs_report_is_what_verify_nix_reports_for_the_fake() {
    let Some((_tmp, nixpkgs)) =
        nixpkgs("the_recorded_nixpkgs_report_is_what_verify_nix_reports_for_the_fake")
    else {
        assert!(
            !recording::updating(),
            "UPDATE_FIXTURES=1 cannot re-record nixpkgs-matching.json: module evaluation cannot run here (the SKIP line above says why and how to fix it)"
        );
        return;
    };
    let root = camino::Utf8PathBuf::try_from(root()).unwrap();
    let nixpkgs = Utf8Path::from_path(&nixpkgs).unwrap();
    // As `cargo xtask contract verify` evaluates it.
    let store_dir = std::env::var("NIX_STORE_DIR").unwrap_or_else(|_| "/nix/store".to_owned());
    let mut report = Evaluator::new(root.clone())
        .eval_json_file(
            &root.join("nix-modules/contract/verify.nix"),
            &[("nixpkgs", nixpkgs.as_str())],
            &[nixpkgs, Utf8Path::new(&store_dir)],
        )
        .unwrap_or_else(|err| panic!("{err}"));
    let contract = report
        .as_object_mut()
        .and_then(|o| o.remove("contract"))
        .expect("verify.nix reports the contract too");
    let fixtures = root.join("tooling/dominix-contract/tests/fixtures");
    recording::check(
        fixtures.join("nixpkgs-matching.json").as_std_path(),
        &report,
        REFRESH,
    );

    // The two recordings must describe one contract: verify.nix's own
    // `describe` (with the fake's lib, the pinned one) is contract.json.
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("contract.json")).unwrap())
            .unwrap();
    assert!(
        recorded == contract,
        "the recording {fixtures}/contract.json is stale: {}. Fix: run `{REFRESH_CONTRACT}`",
        recording::differences(&recorded, &contract).join("; ")
    );
}

#[test]
fn a_changed_type_fails_naming_the_option_and_the_contract_file() {
    let Some((_tmp, nixpkgs)) =
        nixpkgs("a_changed_type_fails_naming_the_option_and_the_contract_file")
    else {
        return;
    };
    // This "nixpkgs" declares security.lockKernelModules as a string.
    let file = "nixos/modules/security/lock-kernel-modules.nix";
    let text = std::fs::read_to_string(nixpkgs.join(file)).unwrap();
    let entry = text.find("lockKernelModules").unwrap();
    let (head, tail) = text.split_at(entry);
    let tail = tail.replacen("types.bool", "types.str", 1).replacen(
        "default = false;",
        "default = \"\";",
        1,
    );
    std::fs::write(nixpkgs.join(file), format!("{head}{tail}")).unwrap();

    let out = verify_exits(&nixpkgs, 1);
    assert!(
        out.contains("FAIL  security.lockKernelModules: type differs"),
        "{out}"
    );
    assert!(
        out.contains("nix-modules/contract/nixos/modules/security/lock-kernel-modules.nix"),
        "{out}"
    );
}

#[test]
fn another_definition_priority_fails_naming_option_context_and_file() {
    let Some((_tmp, nixpkgs)) =
        nixpkgs("another_definition_priority_fails_naming_option_context_and_file")
    else {
        return;
    };
    // This "nixpkgs" sets the greeting with a plain definition, not mkDefault.
    edit(
        &nixpkgs,
        "nixos/modules/services/ttys/getty.nix",
        "greetingLine = lib.mkDefault ",
        "greetingLine = ",
    );

    let out = verify_exits(&nixpkgs, 1);
    for context in ["system", "vm", "test"] {
        assert!(
            out.contains(&format!(
                "FAIL  services.getty.greetingLine ({context} context): the winning definitions have priority 100 in nixpkgs, 1000 in the contract"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("nix-modules/contract/nixos/modules/services/ttys/getty.nix"),
        "{out}"
    );
}

#[test]
fn a_directory_that_is_not_nixpkgs_is_a_usage_error() {
    let Some(_) = pinned_lib("a_directory_that_is_not_nixpkgs_is_a_usage_error") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let output = verify(tmp.path());
    assert_exit(&output, 2);
    assert_stderr_has(&output, "not a nixpkgs source tree");
}
