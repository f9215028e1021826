//! The command line of `cargo xtask`: listing, composing, usage errors, help.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    assert_exit, assert_stderr_has, copy_tracked, flake_imports, flake_setting, git, have, root,
    skip, stderr, stdout, utf8, xtask,
};

fn compose(features: &str, out: &Path) -> Output {
    xtask()
        .args(["compose", "--features", features, "--out", utf8(out)])
        .output()
        .unwrap()
}

/// `trunk` in a new directory, composed from `features` (which must
/// succeed): the directory, the trunk and what `compose` printed.
fn composed(features: &str) -> (tempfile::TempDir, PathBuf, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trunk");
    let output = compose(features, &out);
    assert_exit(&output, 0);
    (tmp, out, output)
}

#[test]
fn list_prints_features_with_categories() {
    let output = xtask().arg("list").output().unwrap();
    assert_exit(&output, 0);
    let out = stdout(&output);
    let row = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for `{name}` in:\n{out}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let hardening = row("hardening");
    assert_eq!(hardening[1], "security", "{out}");
    assert!(
        hardening[2].split(',').any(|s| s == "x86_64-linux"),
        "{out}"
    );
    let ui = row("ui");
    assert_eq!(ui[1], "ui", "{out}");
    assert!(
        out.lines().next().unwrap().starts_with("FEATURE"),
        "header missing:\n{out}"
    );
}

#[test]
fn list_json_has_categories_and_systems() {
    let output = xtask().args(["list", "--json"]).output().unwrap();
    assert_exit(&output, 0);
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("list --json prints JSON");
    // An array of features, or an object keyed by name: accept both.
    let features: Vec<(String, serde_json::Value)> = match &json {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|f| (f["name"].as_str().expect("a name").to_owned(), f.clone()))
            .collect(),
        serde_json::Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        other => panic!("neither array nor object: {other}"),
    };
    let get = |name: &str| {
        features
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| panic!("`{name}` missing from {json}"))
    };
    for (name, category) in [("hardening", "security"), ("ui", "ui")] {
        let feature = get(name);
        assert_eq!(feature["category"], category, "{feature}");
        let systems = feature["systems"]
            .as_array()
            .unwrap_or_else(|| panic!("systems of {name}: {feature}"));
        assert!(systems.iter().any(|s| s == "x86_64-linux"), "{feature}");
        assert!(systems.iter().any(|s| s == "aarch64-linux"), "{feature}");
    }
}

#[test]
fn compose_writes_a_trunk_with_exactly_the_selected_imports() {
    let (_tmp, out, output) = composed("ui,hardening");
    let flake_path = out.join("flake.nix");
    assert!(
        stdout(&output).contains(utf8(&flake_path)),
        "stdout names the file: {}",
        stdout(&output)
    );
    let flake = std::fs::read_to_string(&flake_path).unwrap();
    assert_eq!(
        flake_imports(&flake),
        ["m.hardening", "m.packages", "m.trunk", "m.ui"],
        "{flake}"
    );
    assert!(
        out.join(".domi-nix-trunk").is_file(),
        "the compose marker is written"
    );

    if have("nix-instantiate") {
        let parse = std::process::Command::new("nix-instantiate")
            .arg("--parse")
            .arg(&flake_path)
            .output()
            .unwrap();
        assert!(
            parse.status.success(),
            "nix-instantiate --parse rejects the trunk:\n{}\n{flake}",
            stderr(&parse)
        );
    } else {
        skip("SKIP nix-parse: `nix-instantiate` is not on PATH — install Nix ≥ 2.8");
    }
}

#[test]
fn compose_refuses_a_directory_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "precious\n").unwrap();
    let output = compose("ui", &out);
    assert_exit(&output, 1);
    assert_stderr_has(&output, "not written by");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "precious\n"
    );
    assert!(
        !out.join("flake.nix").exists(),
        "nothing is written into a foreign directory"
    );
}

#[test]
fn compose_overwrites_its_own_output() {
    let (tmp, out, _) = composed("ui");
    let flake = std::fs::read_to_string(out.join("flake.nix")).unwrap();
    // ui requires packages: composition adds it.
    assert_eq!(
        flake_imports(&flake),
        ["m.packages", "m.trunk", "m.ui"],
        "{flake}"
    );

    let second = compose("ui,hardening", &out);
    assert_exit(&second, 0);
    assert!(out.join(".domi-nix-trunk").is_file());
    let flake = std::fs::read_to_string(out.join("flake.nix")).unwrap();
    assert_eq!(
        flake_imports(&flake),
        ["m.hardening", "m.packages", "m.trunk", "m.ui"],
        "rewritten: {flake}"
    );
    // No staging directories are left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "trunk")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn recomposing_deletes_the_lock_of_an_earlier_build() {
    let (_tmp, out, _) = composed("ui");
    // A plain `nix build` of the trunk pins domi-nix here; the next compose
    // must not let that pin outlive it.
    std::fs::write(out.join("flake.lock"), "{\"version\": 7}\n").unwrap();
    let second = compose("ui", &out);
    assert_exit(&second, 0);
    assert!(
        !out.join("flake.lock").exists(),
        "the stale flake.lock is deleted"
    );
    assert!(out.join("flake.nix").is_file() && out.join(".domi-nix-trunk").is_file());
}

#[test]
fn compose_refers_to_a_git_checkout_as_a_possibly_shallow_clone() {
    let (_tmp, out, _) = composed("hardening");
    let url = flake_setting(
        &std::fs::read_to_string(out.join("flake.nix")).unwrap(),
        "inputs.domi-nix.url",
    );
    if root().join(".git").exists() {
        assert!(
            url.starts_with("git+file:///") && url.ends_with("?shallow=1"),
            "{url}"
        );
    } else {
        assert!(url.starts_with("path:/"), "{url}");
    }
}

/// A domi-nix flake standing in for the real one: no inputs, and a `vm`
/// derivation whose name says which revision it came from.
fn fake_domi_nix_flake(revision: &str) -> String {
    format!(
        r#"{{
  outputs = _: {{
    nixosModules = {{
      trunk = {{}};
      hardening = {{}};
      ui = {{}};
    }};
    lib.mkTrunkFlake = {{system, imports}}: {{
      packages.x86_64-linux.vm = derivation {{
        name = "domi-nix-e2e-{revision}";
        inherit system;
        builder = "/bin/sh";
        args = ["-c" "exit 1"];
      }};
    }};
  }};
}}
"#
    )
}

/// Real Nix, no network: `cargo xtask build --dry-run` works in a depth-1
/// clone (GitHub's default checkout), and after a plain `nix build` of the
/// composed trunk locked domi-nix, the next `cargo xtask build` still builds
/// the new revision.
#[test]
fn build_works_in_a_shallow_clone_and_never_builds_a_stale_domi_nix() {
    if !have("nix") || !have("git") {
        skip(
            "SKIP nix-build: `nix` or `git` is not on PATH — install Nix ≥ 2.8 and git to run the shallow-clone test",
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin");
    if copy_tracked(&origin).is_none() {
        skip("SKIP nix-build: this checkout is not a git work tree — run the tests in a git clone");
        return;
    }
    std::fs::write(origin.join("flake.nix"), fake_domi_nix_flake("one")).unwrap();
    let _ = std::fs::remove_file(origin.join("flake.lock"));
    git(&origin, &["init", "-q"]);
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-q", "-m", "one"]);
    let clone = tmp.path().join("clone");
    let url = format!("file://{}", utf8(&origin));
    git(
        tmp.path(),
        &["clone", "-q", "--depth", "1", &url, utf8(&clone)],
    );

    let target = tmp.path().join("target");
    let build = || {
        let mut cmd = xtask();
        cmd.env("DOMINIX_ROOT", &clone)
            .env("DOMINIX_TARGET_DIR", target.join("dominix"))
            // Tests run in parallel and the per-user eval cache is one SQLite
            // file; a dry run would ask binary caches about the fake `vm`.
            .env("NIX_CONFIG", "eval-cache = false\nsubstituters =")
            .args([
                "build",
                "--features",
                "hardening",
                "--host",
                "x86_64-linux",
                "--dry-run",
            ])
            .output()
            .unwrap()
    };
    let first = build();
    assert!(
        first.status.success() && stderr(&first).contains("domi-nix-e2e-one"),
        "a depth-1 clone must build:\n{}",
        stderr(&first)
    );

    // What the `next:` command of `compose` does by hand: lock domi-nix.
    let trunk = target.join("dominix/trunks/hardening-x86_64-linux");
    let plain = std::process::Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "build",
            "--dry-run",
            "--option",
            "eval-cache",
            "false",
            "--option",
            "substituters",
            "",
        ])
        .arg(format!("path:{}#packages.x86_64-linux.vm", utf8(&trunk)))
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(
        trunk.join("flake.lock").is_file(),
        "a plain build locks domi-nix"
    );

    std::fs::write(clone.join("flake.nix"), fake_domi_nix_flake("two")).unwrap();
    git(&clone, &["commit", "-q", "-a", "-m", "two"]);
    let second = build();
    assert_exit(&second, 0);
    assert!(
        stderr(&second).contains("domi-nix-e2e-two")
            && !stderr(&second).contains("domi-nix-e2e-one"),
        "the second build must use the new revision:\n{}",
        stderr(&second)
    );
}

/// `xtask LINE` (split at white space) run in `dir`.
fn run_in(dir: &Path, line: &str) -> Output {
    xtask()
        .current_dir(dir)
        .args(line.split_whitespace())
        .output()
        .unwrap()
}

#[test]
fn compose_unknown_feature_lists_known_names() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run_in(tmp.path(), "compose --features nope --out x");
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("Known features") || err.contains("did you mean"),
        "{err}"
    );
    assert!(err.contains("`nope`"), "{err}");
    assert!(
        !tmp.path().join("x").exists(),
        "nothing is written on error"
    );
}

#[test]
fn compose_misspelt_feature_suggests_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run_in(tmp.path(), "compose --features hardenin --out x");
    assert_exit(&output, 2);
    assert_stderr_has(&output, "did you mean `hardening`");
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        "compose --out x",
        "compose --features ui --profile full --out x",
        "vm --host riscv64-linux --features ui",
    ];
    for line in cases {
        let output = run_in(tmp.path(), line);
        assert_eq!(output.status.code(), Some(2), "{line}: {}", stderr(&output));
        assert!(!stderr(&output).is_empty(), "{line} explains the error");
    }
    let vm = run_in(tmp.path(), cases[2]);
    assert!(
        stderr(&vm).contains("riscv64-linux") && stderr(&vm).contains("x86_64-linux"),
        "{}",
        stderr(&vm)
    );
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn help_lists_the_subcommands() {
    let output = xtask().arg("--help").output().unwrap();
    assert_exit(&output, 0);
    let help = stdout(&output);
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap_or_else(|| panic!("no Commands section:\n{help}"))
        .lines()
        .take_while(|l| !l.trim_start().starts_with("Options:"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for name in ["list", "compose", "check", "seed", "vm", "matrix"] {
        assert!(
            commands.contains(&name),
            "`{name}` missing from {commands:?}"
        );
    }
}
