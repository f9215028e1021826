//! `cargo xtask contract verify` end to end — verify.nix, the xtask and the
//! comparison — against synthetic "nixpkgs" trees: nixpkgs' real `lib` (the
//! pinned nixpkgs-lib) plus an `eval-config.nix` that declares the contract's
//! options from a copy of nix-modules/contract, so one copy can differ.
//! The run against real nixpkgs happens in the GitHub workflow.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, skip, stderr, stdout, xtask};
use dominix_eval::{Evaluator, Lock};

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
        .args([
            "--print-fixed-path",
            "--recursive",
            "sha256",
            &input.nar_hash,
            "source",
        ])
        .output()
        .unwrap();
    Some(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()))
}

/// A fake nixpkgs whose NixOS declares exactly the options of `contract_dir`.
fn fake_nixpkgs(dir: &Path, lib: &Path, contract_dir: &Path) {
    std::fs::create_dir_all(dir.join("nixos/lib")).unwrap();
    std::os::unix::fs::symlink(lib.join("lib"), dir.join("lib")).unwrap();
    let contract = contract_dir.display();
    std::fs::write(
        dir.join("nixos/lib/eval-config.nix"),
        format!(
            "{{system, modules}}: let lib = import ../../lib; in lib.evalModules {{ modules = [ {contract}/module.nix ] ++ modules; }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("default.nix"),
        format!("{{...}}: import {contract}/pkgs.nix {{ lib = import ./lib; }}\n"),
    )
    .unwrap();
}

fn copy_contract(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(root().join("nix-modules/contract")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn verify(nixpkgs: &Path) -> std::process::Output {
    xtask()
        .args(["contract", "verify", "--nixpkgs"])
        .arg(nixpkgs)
        .env_remove("DOMINIX_REQUIRE_EVAL")
        .output()
        .unwrap()
}

#[test]
fn a_nixpkgs_that_declares_the_contract_verifies() {
    let Some(lib) = pinned_lib("a_nixpkgs_that_declares_the_contract_verifies") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let contract = tmp.path().join("contract");
    copy_contract(&contract);
    let nixpkgs = tmp.path().join("nixpkgs");
    fake_nixpkgs(&nixpkgs, &lib, &contract);
    let output = verify(&nixpkgs);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn a_changed_type_fails_naming_the_option_and_the_contract_file() {
    let Some(lib) = pinned_lib("a_changed_type_fails_naming_the_option_and_the_contract_file")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let contract = tmp.path().join("contract");
    copy_contract(&contract);
    // This "nixpkgs" declares security.lockKernelModules as a string.
    let options = contract.join("options.nix");
    let text = std::fs::read_to_string(&options).unwrap();
    let entry = text.find("\"security.lockKernelModules\"").unwrap();
    let (head, tail) = text.split_at(entry);
    let tail = tail
        .replacen("type = types.bool;", "type = types.str;", 1)
        .replacen("default = false;", "default = \"\";", 1);
    std::fs::write(&options, format!("{head}{tail}")).unwrap();
    let nixpkgs = tmp.path().join("nixpkgs");
    fake_nixpkgs(&nixpkgs, &lib, &contract);

    let output = verify(&nixpkgs);
    let out = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("security.lockKernelModules"), "{out}");
    assert!(out.contains("nix-modules/contract/options.nix"), "{out}");
}

#[test]
fn a_directory_that_is_not_nixpkgs_is_a_usage_error() {
    let Some(_) = pinned_lib("a_directory_that_is_not_nixpkgs_is_a_usage_error") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let output = verify(tmp.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a nixpkgs source tree"),
        "{}",
        stderr(&output)
    );
}
