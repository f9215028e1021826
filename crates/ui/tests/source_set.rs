//! The ui package's source (crates/ui/package.nix, built with
//! nix-modules/lib/crate-source.nix) holds this crate and the workspace
//! manifests only, so editing another branch never changes the derivation.
//!
//! Evaluated offline with real Nix and nixpkgs' lib pinned in flake.lock;
//! where that cannot run, a visible `SKIP module-eval: …` line is printed
//! (a failure under `DOMINIX_REQUIRE_EVAL=1`).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// Evaluates the ui package of the workspace at `root` (a string), with a
/// `rustPlatform` that hands back its arguments. `src` is the store path the
/// source would have: computed, not copied (`--eval` is read-only).
const EXPR: &str = r#"
{root}: let
  rootPath = /. + root;
  inputs = import (rootPath + "/nix-modules/lib/locked-inputs.nix") {
    lockFile = rootPath + "/flake.lock";
    self = {outPath = root;};
  };
  inherit (inputs.nixpkgs-lib) lib;
  package = import (rootPath + "/crates/ui/package.nix") {
    inherit lib;
    rustPlatform.buildRustPackage = args: args;
  };
  files = package.passthru.sourceFiles;
in {
  inherit files;
  inherit (package) postPatch;
  contentHash = builtins.hashString "sha256" (lib.concatMapStrings
    (file: "${file} ${builtins.hashFile "sha256" (rootPath + "/${file}")}\n")
    files);
  src = builtins.unsafeDiscardStringContext (toString package.src);
}
"#;

/// What [`EXPR`] answers.
#[derive(Debug, Clone, PartialEq)]
struct Source {
    files: Vec<String>,
    post_patch: String,
    content_hash: String,
    src: String,
}

fn workspace_root() -> PathBuf {
    std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap()
}

/// The source of the ui package in the workspace at `root`, or `None` (with
/// the SKIP line) when module evaluation cannot run on this machine.
fn source_of(test: &str, root: &Path) -> Option<Source> {
    dominix_testing::evaluator_or_skip(test)?;
    let output = Command::new("nix-instantiate")
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "--eval",
            "--strict",
            "--json",
            "--expr",
            EXPR,
            "--argstr",
            "root",
        ])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "evaluating crates/ui/package.nix in {}:\n{}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = |key: &str| answer[key].as_str().unwrap().to_owned();
    Some(Source {
        files: answer["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect(),
        post_patch: text("postPatch"),
        content_hash: text("contentHash"),
        src: text("src"),
    })
}

/// `cargo metadata` of the workspace at `root`: offline, without dependencies.
fn cargo_metadata(root: &Path) -> Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["metadata", "--offline", "--no-deps"])
        .args(["--format-version", "1"])
        .output()
        .unwrap()
}

/// The workspace members' directories relative to `root`, as Cargo sees them.
fn cargo_members(root: &Path) -> Vec<String> {
    let output = cargo_metadata(root);
    assert!(
        output.status.success(),
        "cargo metadata in {}:\n{}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut members: Vec<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = Path::new(p["manifest_path"].as_str().unwrap());
            let dir = manifest.parent().unwrap().strip_prefix(root).unwrap();
            dir.to_str().unwrap().to_owned()
        })
        .collect();
    members.sort();
    members
}

/// A directory under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "domi-nix-{label}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).unwrap();
        Scratch(std::fs::canonicalize(dir).unwrap())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies `from` into `to`, leaving out build output and VCS data.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" || name == "result" {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// A copy of what evaluating the ui package reads: the workspace manifests,
/// flake.lock, nix-modules/lib and every member's directory.
fn copy_workspace(to: &Path) {
    let root = workspace_root();
    for file in ["Cargo.toml", "Cargo.lock", "flake.lock"] {
        std::fs::copy(root.join(file), to.join(file)).unwrap();
    }
    for dir in [".cargo", "nix-modules/lib", "crates", "tooling", "xtask"] {
        if root.join(dir).is_dir() {
            copy_tree(&root.join(dir), &to.join(dir));
        }
    }
}

fn append(path: &Path, text: &str) {
    let before = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{before}{text}")).unwrap();
}

#[test]
fn the_source_is_this_crate_and_the_workspace_manifests() {
    let root = workspace_root();
    let Some(source) = source_of("ui-source-set", &root) else {
        return;
    };
    let files = &source.files;
    let has = |file: &str| files.iter().any(|f| f == file);

    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "crates/ui/Cargo.toml",
        "crates/ui/package.nix",
        "crates/ui/src/main.rs",
        "crates/ui/src/lib.rs",
        "crates/ui/tests/source_set.rs",
    ] {
        assert!(has(file), "the ui source lacks {file}: {files:?}");
    }
    if root.join(".cargo/config.toml").is_file() {
        assert!(has(".cargo/config.toml"), "{files:?}");
    }
    let members = cargo_members(&root);
    assert!(
        members.iter().any(|m| m == "crates/ui")
            && members.iter().any(|m| m == "tooling/dominix")
            && !members.iter().any(|m| m == "xtask"),
        "{members:?}"
    );
    for member in &members {
        let manifest = format!("{member}/Cargo.toml");
        assert!(has(&manifest), "the ui source lacks {manifest}: {files:?}");
    }

    for file in ["crates/hardening/nixos.nix", "xtask/src/main.rs"] {
        assert!(!has(file), "the ui source holds {file}: {files:?}");
    }
    for file in files {
        let workspace_file =
            matches!(file.as_str(), "Cargo.toml" | "Cargo.lock") || file.starts_with(".cargo/");
        let manifest = members.iter().any(|m| *file == format!("{m}/Cargo.toml"));
        assert!(
            workspace_file || manifest || file.starts_with("crates/ui/"),
            "{file} is in the ui source, but is neither a workspace manifest nor part of crates/ui"
        );
    }
}

#[test]
fn other_members_get_stub_targets_and_cargo_loads_the_workspace() {
    let root = workspace_root();
    let Some(source) = source_of("ui-source-stubs", &root) else {
        return;
    };
    assert!(
        source.post_patch.contains("crates/hardening/src/lib.rs")
            && source.post_patch.contains("tooling/dominix/src/lib.rs")
            && source
                .post_patch
                .contains("tooling/dominix-eval/src/lib.rs")
            && !source.post_patch.contains("xtask/"),
        "{}",
        source.post_patch
    );
    assert!(
        !source.post_patch.contains("crates/ui/"),
        "the ui crate's own files are never stubbed:\n{}",
        source.post_patch
    );

    // Exactly the source's files, as the build sandbox sees them.
    let scratch = Scratch::new("ui-source");
    for file in &source.files {
        let to = scratch.0.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), &to).unwrap();
    }
    assert!(
        !cargo_metadata(&scratch.0).status.success(),
        "without stubs Cargo must refuse the other members (else this test proves nothing)"
    );

    let stubs = Command::new("sh")
        .current_dir(&scratch.0)
        .args(["-eu", "-c", &source.post_patch])
        .output()
        .unwrap();
    assert!(
        stubs.status.success(),
        "postPatch failed:\n{}",
        String::from_utf8_lossy(&stubs.stderr)
    );
    assert_eq!(cargo_members(&scratch.0), cargo_members(&root));
    assert_eq!(
        std::fs::read_to_string(scratch.0.join("crates/ui/src/main.rs")).unwrap(),
        std::fs::read_to_string(root.join("crates/ui/src/main.rs")).unwrap(),
        "the crate's own sources are kept"
    );
}

#[test]
fn editing_another_branch_leaves_the_ui_source_unchanged() {
    let scratch = Scratch::new("ui-source-edit");
    copy_workspace(&scratch.0);
    let Some(before) = source_of("ui-source-edit", &scratch.0) else {
        return;
    };

    append(
        &scratch.0.join("crates/hardening/nixos.nix"),
        "# edited by a test\n",
    );
    append(
        &scratch.0.join("xtask/src/main.rs"),
        "// edited by a test\n",
    );
    std::fs::write(scratch.0.join("crates/hardening/src/new.rs"), "\n").unwrap();
    let other_branch_edited = source_of("ui-source-edit", &scratch.0).unwrap();
    assert_eq!(
        (&other_branch_edited.content_hash, &other_branch_edited.src),
        (&before.content_hash, &before.src),
        "editing crates/hardening and xtask changed the ui source"
    );
    assert_eq!(other_branch_edited.files, before.files);

    append(&scratch.0.join("crates/ui/src/main.rs"), "// edited\n");
    let ui_edited = source_of("ui-source-edit", &scratch.0).unwrap();
    assert_ne!(
        ui_edited.content_hash, before.content_hash,
        "editing crates/ui/src/main.rs must change the ui source"
    );
    assert_ne!(ui_edited.src, before.src);
}
