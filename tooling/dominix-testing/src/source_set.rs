//! A program crate's package source (its `package.nix`, built with
//! nix-modules/lib/crate-source.nix) holds its own crate and the workspace
//! manifests only, so editing another branch never changes the derivation.
//!
//! Each check evaluates the package offline with real Nix and nixpkgs' lib
//! pinned in flake.lock (the source's store path is computed, never
//! copied); where that cannot run, the visible `SKIP module-eval: …` line is
//! printed (a failure under `DOMINIX_REQUIRE_EVAL=1`).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use dominix_nix::{NixCommand, NixError};
use serde_json::Value;

/// Evaluates `<crate>/package.nix` of the workspace at `root` (strings),
/// with a `rustPlatform` that hands back its arguments.
const EXPR: &str = r#"
{root, crate}: let
  rootPath = /. + root;
  inputs = import (rootPath + "/nix-modules/lib/locked-inputs.nix") {
    lockFile = rootPath + "/flake.lock";
    self = {outPath = root;};
  };
  inherit (inputs.nixpkgs-lib) lib;
  package = import (rootPath + "/${crate}/package.nix") {
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

/// What a package's source is.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Every file, relative to the workspace root.
    pub files: Vec<String>,
    /// The commands that create the other members' stub targets.
    pub post_patch: String,
    /// A hash of every file's name and content.
    pub content_hash: String,
    /// The store path the source would have.
    pub src: String,
}

/// The workspace this crate belongs to.
pub fn workspace_root() -> PathBuf {
    std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap()
}

/// The source of `crate_dir`'s package (e.g. `crates/ui`) in the workspace
/// at `root`, or `None` (with the SKIP line) where evaluation cannot run.
pub fn source_of(test: &str, root: &Path, crate_dir: &str) -> Option<Source> {
    crate::evaluator_or_skip(test)?;
    let result = NixCommand::instantiate()
        .args([
            "--eval", "--strict", "--json", "--expr", EXPR, "--argstr", "root",
        ])
        .arg(root)
        .args(["--argstr", "crate", crate_dir])
        .output();
    let stdout = match result {
        Ok(output) => output.stdout,
        Err(NixError::Failed { stderr, .. }) => {
            panic!(
                "evaluating {crate_dir}/package.nix in {}:\n{stderr}",
                root.display()
            )
        }
        Err(other) => panic!("{other}"),
    };
    let answer: Value = serde_json::from_str(&stdout).unwrap();
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
pub fn cargo_members(root: &Path) -> Vec<String> {
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
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
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

/// A copy of what evaluating a package reads: the workspace manifests,
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

/// The package of `crate_dir` holds its own crate (and `own_files`, which
/// must exist) and the workspace manifests, and none of `foreign_files`.
pub fn assert_holds_its_crate_and_the_manifests(
    test: &str,
    crate_dir: &str,
    own_files: &[&str],
    foreign_files: &[&str],
) {
    let root = workspace_root();
    let Some(source) = source_of(test, &root, crate_dir) else {
        return;
    };
    let files = &source.files;
    let has = |file: &str| files.iter().any(|f| f == file);
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        &format!("{crate_dir}/Cargo.toml"),
        &format!("{crate_dir}/package.nix"),
    ]
    .into_iter()
    .chain(own_files.iter().copied())
    {
        assert!(has(file), "the {crate_dir} source lacks {file}: {files:?}");
    }
    if root.join(".cargo/config.toml").is_file() {
        assert!(has(".cargo/config.toml"), "{files:?}");
    }
    let members = cargo_members(&root);
    assert!(
        members.iter().any(|m| m == crate_dir)
            && members.iter().any(|m| m == "tooling/dominix")
            && !members.iter().any(|m| m == "xtask"),
        "{members:?}"
    );
    for member in &members {
        let manifest = format!("{member}/Cargo.toml");
        assert!(
            has(&manifest),
            "the {crate_dir} source lacks {manifest}: {files:?}"
        );
    }
    for file in foreign_files {
        assert!(!has(file), "the {crate_dir} source holds {file}: {files:?}");
    }
    for file in files {
        let workspace_file =
            matches!(file.as_str(), "Cargo.toml" | "Cargo.lock") || file.starts_with(".cargo/");
        let manifest = members.iter().any(|m| *file == format!("{m}/Cargo.toml"));
        assert!(
            workspace_file || manifest || file.starts_with(&format!("{crate_dir}/")),
            "{file} is in the {crate_dir} source, but is neither a workspace manifest nor part of {crate_dir}"
        );
    }
}

/// The other members get stub targets, and Cargo loads the workspace from
/// exactly the source's files with them (and refuses it without).
pub fn assert_other_members_are_stubbed(test: &str, crate_dir: &str, own_file: &str) {
    let root = workspace_root();
    let Some(source) = source_of(test, &root, crate_dir) else {
        return;
    };
    let members = cargo_members(&root);
    for member in members.iter().filter(|m| *m != crate_dir) {
        assert!(
            source.post_patch.contains(&format!("{member}/")),
            "{member} gets no stub target:\n{}",
            source.post_patch
        );
    }
    assert!(
        !source.post_patch.contains("xtask/"),
        "{}",
        source.post_patch
    );
    assert!(
        !source.post_patch.contains(&format!("{crate_dir}/")),
        "the crate's own files are never stubbed:\n{}",
        source.post_patch
    );

    let scratch = Scratch::new(test);
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
    assert_eq!(cargo_members(&scratch.0), members);
    assert_eq!(
        std::fs::read_to_string(scratch.0.join(own_file)).unwrap(),
        std::fs::read_to_string(root.join(own_file)).unwrap(),
        "the crate's own sources are kept"
    );
}

/// Editing `other_files` (another branch's, the xtask's) leaves the source
/// of `crate_dir` unchanged; editing `own_file` changes it.
pub fn assert_only_its_own_edits_change_it(
    test: &str,
    crate_dir: &str,
    other_files: &[&str],
    own_file: &str,
) {
    let scratch = Scratch::new(test);
    copy_workspace(&scratch.0);
    let Some(before) = source_of(test, &scratch.0, crate_dir) else {
        return;
    };
    for file in other_files {
        append(&scratch.0.join(file), "\n");
    }
    std::fs::write(scratch.0.join("crates/hardening/src/new.rs"), "\n").unwrap();
    let edited = source_of(test, &scratch.0, crate_dir).unwrap();
    assert_eq!(
        (&edited.content_hash, &edited.src),
        (&before.content_hash, &before.src),
        "editing {other_files:?} changed the {crate_dir} source"
    );
    assert_eq!(edited.files, before.files);

    append(&scratch.0.join(own_file), "// edited\n");
    let own = source_of(test, &scratch.0, crate_dir).unwrap();
    assert_ne!(
        own.content_hash, before.content_hash,
        "editing {own_file} must change the source"
    );
    assert_ne!(own.src, before.src);
}
