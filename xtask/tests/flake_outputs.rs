//! The flake's outputs, evaluated by real `nix` (flakes mode, offline): the
//! names every consumer relies on. Values that need full nixpkgs are not
//! forced here; they are built by the GitHub workflows.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use dominix_eval::Evaluator;

fn root() -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::canonicalize(root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// `nix eval --offline --json <root>#<attr> --apply builtins.attrNames`, or
/// `None` (with a visible SKIP line) where the tier cannot run.
fn attr_names(attr: &str) -> Option<Vec<String>> {
    let root = root();
    if let Err(reason) = Evaluator::new(root.clone()).preflight() {
        let line = reason.skip_line().replace("module-eval", "flake-eval");
        dominix_eval::skip::skip_test(&format!("{line} [{attr}]"));
        return None;
    }
    let flake = if std::path::Path::new(&root).join(".git").exists() {
        format!("git+file://{root}")
    } else {
        format!("path:{root}")
    };
    let output = Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "eval",
            "--offline",
            "--json",
            // Tests run in parallel; the per-user eval cache is one SQLite file.
            "--option",
            "eval-cache",
            "false",
        ])
        .arg(format!("{flake}#{attr}"))
        .args(["--apply", "builtins.attrNames"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{attr}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn nixos_modules_are_the_trunk_and_every_feature() {
    let Some(names) = attr_names("nixosModules") else {
        return;
    };
    assert_eq!(names, ["hardening", "trunk", "ui"]);
}

#[test]
fn nixos_configurations_cover_both_profiles_and_architectures() {
    let Some(names) = attr_names("nixosConfigurations") else {
        return;
    };
    assert_eq!(
        names,
        [
            "full-aarch64",
            "full-x86_64",
            "minimal-aarch64",
            "minimal-x86_64"
        ]
    );
}

#[test]
fn every_host_has_vm_packages() {
    for host in [
        "x86_64-linux",
        "aarch64-linux",
        "aarch64-darwin",
        "x86_64-darwin",
    ] {
        let Some(names) = attr_names(&format!("packages.{host}")) else {
            return;
        };
        for vm in ["vm-minimal", "vm-full"] {
            assert!(
                names.contains(&vm.to_owned()),
                "packages.{host} lacks {vm}: {names:?}"
            );
        }
    }
}

#[test]
fn checks_exist_for_linux_features_only() {
    for system in ["x86_64-linux", "aarch64-linux"] {
        let Some(names) = attr_names(&format!("checks.{system}")) else {
            return;
        };
        assert_eq!(names, ["hardening", "ui"], "checks.{system}");
    }
    let Some(names) = attr_names("checks.aarch64-darwin") else {
        return;
    };
    assert!(names.is_empty(), "VM tests are Linux guests: {names:?}");
}

#[test]
fn developer_outputs_exist() {
    let Some(names) = attr_names("templates") else {
        return;
    };
    assert_eq!(names, ["default"]);
    let Some(names) = attr_names("devShells.x86_64-linux") else {
        return;
    };
    assert_eq!(names, ["default"]);
    let Some(names) = attr_names("lib") else {
        return;
    };
    for f in ["mkSystem", "mkTrunkFlake", "mkFeatureChecks"] {
        assert!(names.contains(&f.to_owned()), "lib lacks {f}: {names:?}");
    }
}
