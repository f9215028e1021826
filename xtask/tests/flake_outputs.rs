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

/// How the tests refer to this checkout, or `None` (with a visible SKIP
/// line naming `what`) where the pinned inputs are not in the store.
/// The branches of this checkout (the folders of crates/ with a Cargo.toml),
/// sorted: counted, so a new branch needs no edit here.
fn branches() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(std::path::Path::new(&root()).join("crates"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn flake_ref(what: &str) -> Option<String> {
    let root = root();
    if let Err(reason) = Evaluator::new(root.clone()).preflight() {
        let line = reason.skip_line().replace("module-eval", "flake-eval");
        dominix_eval::skip::skip_test(&format!("{line} [{what}]"));
        return None;
    }
    Some(if std::path::Path::new(&root).join(".git").exists() {
        format!("git+file://{root}")
    } else {
        format!("path:{root}")
    })
}

/// `nix eval --offline --json` with the flags every call here shares, then
/// `rest`; the JSON answer.
fn eval_json(what: &str, rest: &[&str], env: Option<(&str, &str)>) -> serde_json::Value {
    let mut cmd = Command::new("nix");
    cmd.args([
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
    .args(rest);
    if let Some((key, value)) = env {
        cmd.env(key, value);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `nix eval --offline --json <root>#<attr> --apply builtins.attrNames`, or
/// `None` (with a visible SKIP line) where the tier cannot run.
fn attr_names(attr: &str) -> Option<Vec<String>> {
    let flake = flake_ref(attr)?;
    let installable = format!("{flake}#{attr}");
    let names = eval_json(attr, &[&installable, "--apply", "builtins.attrNames"], None);
    Some(serde_json::from_value(names).unwrap())
}

/// The flake's top-level output names (what `nix flake check` walks). An
/// installable cannot name the top level, so this asks `builtins.getFlake`
/// (hence `--impure`); the reference travels in an environment variable, never
/// pasted into Nix source.
fn output_names() -> Option<Vec<String>> {
    let flake = flake_ref("outputs")?;
    let names = eval_json(
        "outputs",
        &[
            "--impure",
            "--expr",
            "builtins.attrNames (builtins.getFlake (builtins.getEnv \"DOMINIX_FLAKE_REF\")).outputs",
        ],
        Some(("DOMINIX_FLAKE_REF", &flake)),
    );
    Some(serde_json::from_value(names).unwrap())
}

#[test]
fn every_top_level_output_is_one_nix_knows() {
    let Some(names) = output_names() else {
        return;
    };
    // flake-parts' `flake.modules` would be published as `modules`, which
    // `nix flake check` warns about; branches use `dominix.modules` instead.
    assert!(
        !names.contains(&"modules".to_owned()),
        "`modules` must not be a flake output: {names:?}"
    );
    for wanted in [
        "nixosModules",
        "nixosConfigurations",
        "packages",
        "checks",
        "lib",
        "templates",
    ] {
        assert!(
            names.contains(&wanted.to_owned()),
            "the flake lacks `{wanted}`: {names:?}"
        );
    }
}

#[test]
fn nixos_modules_are_the_trunk_and_every_feature() {
    let Some(names) = attr_names("nixosModules") else {
        return;
    };
    let mut want = branches();
    want.push("trunk".to_owned());
    want.sort();
    assert!(want.iter().any(|b| b == "hardening") && want.iter().any(|b| b == "ui"));
    assert_eq!(names, want);
}

#[test]
fn nixos_modules_are_class_checked_and_located() {
    let Some(flake) = flake_ref("nixosModules") else {
        return;
    };
    // Every `_file` (with its `_class`) in each published module's import
    // tree, following module functions that take no named arguments (the
    // wrappers). flake-parts wraps `nixosModules.<name>` around the module
    // that `dominix.modules.nixos.<name>` published; ours must be in there,
    // class-checked and naming the option it came from.
    let installable = format!("{flake}#nixosModules");
    let apply = r#"ms: let
      walk = m:
        if builtins.isFunction m && builtins.functionArgs m == {} then walk (m {})
        else if builtins.isAttrs m then
          (if m ? _file then [{ file = toString m._file; class = m._class or null; }] else [])
          ++ builtins.concatMap walk (m.imports or [])
        else [];
    in builtins.mapAttrs (_: walk) ms"#;
    let modules = eval_json("nixosModules", &[&installable, "--apply", apply], None);
    let modules = modules.as_object().unwrap();
    assert_eq!(modules.len(), branches().len() + 1, "{modules:?}");
    for (name, located) in modules {
        let suffix = format!("/flake.nix#dominix.modules.nixos.{name}");
        let ours = located
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["file"].as_str().is_some_and(|f| f.ends_with(&suffix)));
        let Some(ours) = ours else {
            panic!(
                "nixosModules.{name} was not published through dominix.modules.nixos: {located}"
            );
        };
        assert_eq!(ours["class"], "nixos", "nixosModules.{name}: {located}");
    }
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
fn the_workspaces_programs_are_packages_and_an_overlay() {
    for system in ["x86_64-linux", "aarch64-linux", "aarch64-darwin"] {
        let Some(names) = attr_names(&format!("packages.{system}")) else {
            return;
        };
        for program in ["domi-nix-shell", "domi-nix-status"] {
            assert!(
                names.contains(&program.to_owned()),
                "packages.{system} lacks {program}: {names:?}"
            );
        }
    }
    let Some(overlays) = attr_names("overlays") else {
        return;
    };
    assert_eq!(overlays, ["default"]);
}

#[test]
fn checks_exist_for_linux_features_only() {
    for system in ["x86_64-linux", "aarch64-linux"] {
        let Some(names) = attr_names(&format!("checks.{system}")) else {
            return;
        };
        // Every branch supports both Linux systems.
        assert_eq!(names, branches(), "checks.{system}");
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
