//! The catalogue of hostile inputs: each case breaks a copy of this checkout
//! (or the command line, or Nix) in one way and asserts what the xtask does:
//! the exit code (0 ok, 1 failure, 2 usage), a cause naming the file,
//! feature or option together with its fix, no panic or backtrace, and no
//! file changed outside the output it was asked to write.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::copy_tracked;

/// A copy of the checkout to break, plus a scratch directory beside it.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    scratch: PathBuf,
    bin: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("checkout");
        let scratch = tmp.path().join("scratch");
        let bin = tmp.path().join("bin");
        for dir in [&root, &scratch, &bin] {
            std::fs::create_dir_all(dir).unwrap();
        }
        copy_tracked(&root).expect("the catalogue needs a git checkout to copy");
        Tree {
            _tmp: tmp,
            root,
            scratch,
            bin,
        }
    }

    /// Writes `text`, formatted as alejandra would when it parses (so that
    /// only what a case breaks fails).
    fn write(&self, relative: &str, text: &str) {
        let text = if relative.ends_with(".nix") {
            match alejandra::format::in_memory(relative.to_owned(), text.to_owned()) {
                (alejandra::format::Status::Error(_), _) => text.to_owned(),
                (_, formatted) => formatted,
            }
        } else {
            text.to_owned()
        };
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative)).unwrap()
    }

    fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert!(text.contains(from), "{relative} has no `{from}`");
        self.write(relative, &text.replacen(from, to, 1));
    }

    /// A branch `crates/<dir>` with this metadata and this NixOS module.
    fn branch(&self, dir: &str, name: &str, metadata: &str, module: &str) {
        self.write(
            &format!("crates/{dir}/Cargo.toml"),
            &format!(
                "[package]\nname = {}\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [package.metadata.dominix]\n{metadata}\n",
                toml_string(name)
            ),
        );
        self.write(&format!("crates/{dir}/src/lib.rs"), "");
        self.write(
            &format!("crates/{dir}/feature.nix"),
            &format!("{{...}}: {{\n  dominix.modules.nixos.{name} = ./nixos.nix;\n}}\n"),
        );
        self.write(&format!("crates/{dir}/nixos.nix"), module);
    }

    /// A branch `crates/<name>` named `name`, with this metadata and [`module`].
    fn branch_with(&self, name: &str, metadata: &str) {
        self.branch(name, name, metadata, &module(name));
    }

    /// A fake program on the PATH of the runs, in front of the real ones.
    /// Installed by a child process, so that no writable descriptor of it
    /// leaks into a process another test forks meanwhile (ETXTBSY).
    fn fake(&self, program: &str, script: &str) {
        let draft = self.bin.join(format!("{program}.draft"));
        std::fs::write(&draft, format!("#!/bin/sh\n{script}\n")).unwrap();
        let status = Command::new("install")
            .args(["-m", "755"])
            .arg(&draft)
            .arg(self.bin.join(program))
            .status()
            .unwrap();
        assert!(status.success(), "cannot install the fake {program}");
        std::fs::remove_file(draft).unwrap();
    }

    /// Every file under the checkout and the scratch directory, with its bytes.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        for base in [&self.root, &self.scratch] {
            let mut stack = vec![base.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let kind = entry.file_type().unwrap();
                    if path.file_name().is_some_and(|n| n == "target") {
                        continue;
                    }
                    if kind.is_dir() {
                        stack.push(path.clone());
                        files.insert(path, b"<dir>".to_vec());
                    } else if kind.is_symlink() {
                        let to = std::fs::read_link(&path).unwrap();
                        files.insert(path, to.to_string_lossy().as_bytes().to_vec());
                    } else {
                        files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
                    }
                }
            }
        }
        files
    }
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

const VALID_META: &str = "category = \"services\"\nsummary = \"A test branch\"\nrequires = []\nconflicts = []\nsystems = [\"x86_64-linux\", \"aarch64-linux\"]";

const MODULE_OK: &str = "{config, lib, ...}: {\n  config = lib.mkIf config.domi-nix.BRANCH.enable {\n    boot.kernel.sysctl.\"kernel.sysrq\" = lib.mkForce 0;\n  };\n}\n";

fn module(branch: &str) -> String {
    MODULE_OK.replace("BRANCH", branch)
}

/// [`VALID_META`] with `list` (`requires`, `conflicts`) holding `name`.
fn meta_with(list: &str, name: &str) -> String {
    VALID_META.replace(&format!("{list} = []"), &format!("{list} = [\"{name}\"]"))
}

/// `xtask` of this build, nothing of its environment set.
fn xtask_bin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("xtask"))
}

/// What a case expects.
struct Expect<'a> {
    code: i32,
    /// Each must appear in stdout or stderr.
    says: &'a [&'a str],
    /// Paths (relative to the scratch directory) the command may write.
    writes: &'a [&'a str],
}

/// Runs `cargo xtask ARGS` on `tree` and checks the catalogue's rules.
fn run(tree: &Tree, args: &[&str], expect: Expect) -> Output {
    run_with(tree, args, expect, |_| {})
}

fn run_with(
    tree: &Tree,
    args: &[&str],
    expect: Expect,
    configure: impl FnOnce(&mut Command),
) -> Output {
    let before = tree.snapshot();
    let path = format!(
        "{}:{}",
        tree.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = xtask_bin();
    cmd.args(args)
        .current_dir(&tree.scratch)
        .env("DOMINIX_ROOT", &tree.root)
        .env("PATH", path)
        .env("RUST_BACKTRACE", "1");
    configure(&mut cmd);
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let all = format!("{stdout}\n{stderr}");
    let context = format!(
        "`xtask {}`\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        args.join(" ")
    );
    assert_eq!(output.status.code(), Some(expect.code), "{context}");
    for needle in expect.says {
        assert!(all.contains(needle), "does not say `{needle}`: {context}");
    }
    for bad in ["panicked", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(!all.contains(bad), "{bad}: {context}");
    }
    if expect.code != 0 {
        let cause = stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no `error:` line: {context}"));
        assert!(
            all.contains("Fix:") || all.contains("fix:") || cause.contains("Fix"),
            "no fix given: {context}"
        );
    }
    let after = tree.snapshot();
    let allowed = |p: &Path| {
        expect
            .writes
            .iter()
            .any(|w| p.starts_with(tree.scratch.join(w)))
    };
    let changed: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p) && !allowed(p))
        .collect();
    assert!(
        changed.is_empty(),
        "changed outside the output: {changed:?}\n{context}"
    );
    output
}

/// `compose --features FEATURES --out OUT` on `tree`.
fn compose(tree: &Tree, features: &str, out: &str, expect: Expect) -> Output {
    run(
        tree,
        &["compose", "--features", features, "--out", out],
        expect,
    )
}

const FAIL: i32 = 1;
const USAGE: i32 = 2;

fn fails<'a>(says: &'a [&'a str]) -> Expect<'a> {
    Expect {
        code: FAIL,
        says,
        writes: &[],
    }
}

fn usage<'a>(says: &'a [&'a str]) -> Expect<'a> {
    Expect {
        code: USAGE,
        says,
        writes: &[],
    }
}

fn ok<'a>(says: &'a [&'a str], writes: &'a [&'a str]) -> Expect<'a> {
    Expect {
        code: 0,
        says,
        writes,
    }
}

/// Whether nix-instantiate is here; otherwise a SKIP line for `hostile/<what>`.
fn nix_or_skip(what: &str) -> bool {
    common::have_or_skip(
        "nix-instantiate",
        &format!("SKIP hostile/{what}: nix-instantiate not on PATH — apt-get install nix-bin"),
    )
}

// ---------------------------------------------------------------- manifests

#[test]
fn malformed_toml_names_file_and_line() {
    let t = Tree::new();
    t.write("crates/bad/Cargo.toml", "[package\nname = \"bad\"\n");
    for cmd in [
        &["list"][..],
        &["compose", "--features", "ui", "--out", "o"],
        &["check"],
    ] {
        run(&t, cmd, fails(&["crates/bad/Cargo.toml", "line 1"]));
    }
}

#[test]
fn an_unknown_metadata_field_is_named() {
    let t = Tree::new();
    t.branch_with("odd", &format!("{VALID_META}\nrequirez = []"));
    run(&t, &["list"], fails(&["crates/odd/Cargo.toml", "requirez"]));
}

#[test]
fn a_misspelt_metadata_table_is_not_silently_another_crate() {
    let t = Tree::new();
    t.branch_with("odd", VALID_META);
    t.edit(
        "crates/odd/Cargo.toml",
        "metadata.dominix",
        "metadata.dominx",
    );
    run(
        &t,
        &["list"],
        fails(&["crates/odd/Cargo.toml", "[package.metadata.dominix]"]),
    );
}

#[test]
fn a_folder_under_crates_without_a_manifest() {
    let t = Tree::new();
    t.write("crates/stray/notes.txt", "hello");
    run(&t, &["list"], fails(&["crates/stray"]));
}

#[test]
fn a_manifest_without_a_package_name() {
    let t = Tree::new();
    t.write("crates/anon/Cargo.toml", "[package]\nversion = \"0.1.0\"\n");
    run(&t, &["list"], fails(&["crates/anon/Cargo.toml"]));
}

#[test]
fn a_duplicate_package_name() {
    let t = Tree::new();
    t.branch("ui2", "ui", VALID_META, &module("ui"));
    run(&t, &["list"], fails(&["`ui`", "crates/ui2/Cargo.toml"]));
}

/// Names that are no valid branch name: each is refused naming the file,
/// and nothing of it reaches Nix.
fn odd_name(name: &str) {
    let t = Tree::new();
    t.branch("odd", name, VALID_META, &module("odd"));
    run(&t, &["list"], fails(&["crates/odd/Cargo.toml"]));
    run(&t, &["check"], fails(&["crates/odd/Cargo.toml"]));
}

#[test]
fn a_name_with_a_space() {
    odd_name("my branch");
}

#[test]
fn a_name_in_upper_case() {
    odd_name("Hardening2");
}

#[test]
fn a_name_in_unicode() {
    odd_name("härtung");
}

#[test]
fn a_name_with_a_double_quote() {
    odd_name("a\"b");
}

#[test]
fn a_name_with_an_interpolation() {
    odd_name("a${builtins.currentTime}");
}

#[test]
fn a_name_with_two_single_quotes() {
    odd_name("a''b");
}

#[test]
fn a_name_with_a_path_separator() {
    odd_name("../escape");
}

#[test]
fn an_unknown_requirement() {
    let t = Tree::new();
    t.branch_with("odd", &meta_with("requires", "nosuch"));
    run(&t, &["list"], fails(&["odd", "nosuch"]));
    compose(&t, "odd", "o", fails(&["nosuch"]));
}

#[test]
fn a_requires_cycle() {
    let t = Tree::new();
    t.branch_with("aa", &meta_with("requires", "bb"));
    t.branch_with("bb", &meta_with("requires", "aa"));
    run(&t, &["check"], fails(&["cycle"]));
    compose(&t, "aa", "o", fails(&["cycle"]));
}

#[test]
fn a_branch_requiring_itself() {
    let t = Tree::new();
    t.branch_with("aa", &meta_with("requires", "aa"));
    run(&t, &["list"], fails(&["aa"]));
}

#[test]
fn a_conflict_with_an_unknown_branch() {
    let t = Tree::new();
    t.branch_with("aa", &meta_with("conflicts", "nosuch"));
    run(&t, &["list"], fails(&["nosuch"]));
}

#[test]
fn an_unknown_system() {
    let t = Tree::new();
    t.branch_with(
        "aa",
        &VALID_META.replace("\"aarch64-linux\"]", "\"riscv64-linux\"]"),
    );
    run(
        &t,
        &["list"],
        fails(&["riscv64-linux", "crates/aa/Cargo.toml"]),
    );
}

#[test]
fn an_unknown_category() {
    let t = Tree::new();
    t.branch_with("aa", &VALID_META.replace("\"services\"", "\"misc\""));
    run(&t, &["list"], fails(&["misc", "crates/aa/Cargo.toml"]));
}

#[test]
fn a_missing_fragment() {
    let t = Tree::new();
    t.branch_with("aa", VALID_META);
    std::fs::remove_file(t.root.join("crates/aa/feature.nix")).unwrap();
    run(&t, &["list"], fails(&["crates/aa", "feature.nix"]));
}

// ---------------------------------------------------------------- conflicts

#[test]
fn conflicting_branches_compose_and_check_clean() {
    if !nix_or_skip("conflicts") {
        return;
    }
    let t = Tree::new();
    t.branch_with("aa", &meta_with("conflicts", "bb"));
    t.branch_with("bb", VALID_META);
    // aa and bb, and this checkout's own branches.
    let n = common::features().len() + 2;
    let evaluated = format!("module-eval  {n}/{n} features");
    run(&t, &["check"], ok(&[&evaluated], &[]));
    let out = run(
        &t,
        &["compose", "--profile", "full", "--out", "full"],
        ok(&["leaves out `aa` (conflicts with `bb`"], &["full"]),
    );
    assert!(out.status.success());
    let flake = std::fs::read_to_string(t.scratch.join("full/flake.nix")).unwrap();
    assert!(flake.contains("bb") && !flake.contains("m.aa"), "{flake}");
    compose(
        &t,
        "aa,bb",
        "o",
        usage(&["`aa` (requested) conflicts with `bb` (requested)"]),
    );
}

// ---------------------------------------------------------------- fragments

fn fragment_fails(module_text: &str, says: &[&str]) {
    if !nix_or_skip("fragments") {
        return;
    }
    let t = Tree::new();
    t.branch("aa", "aa", VALID_META, module_text);
    run(&t, &["check"], fails(says));
}

#[test]
fn a_fragment_with_a_syntax_error() {
    fragment_fails(
        "{config, ...}: { config = ; }\n",
        &["crates/aa/nixos.nix", "syntax"],
    );
}

#[test]
fn a_fragment_with_a_type_error() {
    fragment_fails(
        "{lib, ...}: { users.motd = 42; }\n",
        &["crates/aa/nixos.nix", "users.motd", "not of type"],
    );
}

#[test]
fn a_fragment_with_infinite_recursion() {
    fragment_fails(
        "{config, ...}: { imports = if config.domi-nix.aa.enable then [] else []; }\n",
        &["infinite recursion"],
    );
}

/// A branch `aa` whose fragment spells its module `spelling` (a definition
/// of the top level): what no part of domi-nix reads is an error.
fn fragment_spelling_fails(spelling: &str, says: &[&str]) {
    if !nix_or_skip("fragments") {
        return;
    }
    let t = Tree::new();
    t.branch("aa", "aa", VALID_META, &module("aa"));
    t.write(
        "crates/aa/feature.nix",
        &format!("{{...}}: {{\n  {spelling} = ./nixos.nix;\n}}\n"),
    );
    run(&t, &["check"], fails(says));
}

#[test]
fn a_fragment_in_flake_parts_modules_spelling_is_named() {
    fragment_spelling_fails(
        "flake.modules.nixos.aa",
        &[
            "crates/aa/feature.nix",
            "`flake.modules.nixos.aa`",
            "never reads",
            "dominix.modules.nixos.aa = ./nixos.nix;",
        ],
    );
}

#[test]
fn a_fragment_publishing_its_own_nixos_module_is_named() {
    fragment_spelling_fails(
        "flake.nixosModules.aa",
        &[
            "crates/aa/feature.nix",
            "`flake.nixosModules`",
            "dominix.modules.nixos.aa = ./nixos.nix;",
        ],
    );
}

#[test]
fn a_fragment_defining_another_branchs_module_is_named() {
    fragment_spelling_fails(
        "dominix.modules.nixos.hardening",
        &[
            "crates/aa/feature.nix",
            "`dominix.modules.nixos.hardening`",
            "another branch's name",
        ],
    );
}

#[test]
fn a_fragment_reading_etc_shadow() {
    fragment_fails(
        "{lib, ...}: { users.motd = builtins.readFile /etc/shadow; }\n",
        &["crates/aa/nixos.nix", "/etc/shadow"],
    );
}

#[test]
fn a_fragment_reading_the_environment() {
    fragment_fails(
        "{lib, ...}: { users.motd = builtins.getEnv \"HOME\"; }\n",
        &["crates/aa/nixos.nix:1", "builtins.getEnv"],
    );
}

#[test]
fn a_fragment_interpolating_a_directory_outside() {
    fragment_fails(
        "{lib, ...}: { users.motd = \"${/usr}\"; }\n",
        &["crates/aa/nixos.nix:1", "/usr"],
    );
}

#[test]
fn a_fragment_reading_outside_through_a_relative_path() {
    fragment_fails(
        "{lib, ...}: { users.motd = builtins.readFile ../../../../../../../../etc/hostname; }\n",
        &["/etc/hostname"],
    );
}

#[test]
fn a_fragment_looking_up_the_nix_path() {
    fragment_fails(
        "{lib, ...}: { users.motd = toString (import <nixpkgs> {}); }\n",
        &["crates/aa/nixos.nix:1", "<nixpkgs>"],
    );
}

#[test]
fn an_undeclared_option() {
    fragment_fails(
        "{...}: { services.nosuchservice.enable = true; }\n",
        &["services.nosuchservice", "contract"],
    );
}

// ---------------------------------------------------------------- command line

#[test]
fn command_line_mistakes_are_usage_errors() {
    let t = Tree::new();
    let cases: &[(&[&str], &str)] = &[
        (&["compose", "--features", "nope", "--out", "o"], "`nope`"),
        (
            &["compose", "--features", "hardenin", "--out", "o"],
            "did you mean `hardening`",
        ),
        (
            &["compose", "--features", "ui,,hardening", "--out", "o"],
            "empty feature name",
        ),
        (
            &["compose", "--features", "", "--out", "o"],
            "empty feature name",
        ),
        (
            &["compose", "--features", "full", "--out", "o"],
            "--profile full",
        ),
        (&["build", "--features", "nope", "--dry-run"], "`nope`"),
        (&["vm", "--features", "nope"], "`nope`"),
        (&["test", "nope"], "`nope`"),
    ];
    for (args, says) in cases {
        run(&t, args, usage(&[says]));
    }
}

#[test]
fn flag_mistakes_are_usage_errors() {
    let t = Tree::new();
    let cases: &[&[&str]] = &[
        &["frobnicate"],
        &["compose", "--features", "ui"],
        &[
            "compose",
            "--features",
            "ui",
            "--out",
            "o",
            "--system",
            "riscv64-linux",
        ],
        &["compose", "--profile", "max", "--out", "o"],
        &["--timeout", "0", "list"],
        &["--timeout", "soon", "list"],
        &["list", "--jsonn"],
    ];
    for args in cases {
        let before = t.snapshot();
        let output = xtask_bin()
            .args(*args)
            .current_dir(&t.scratch)
            .env("DOMINIX_ROOT", &t.root)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(USAGE), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(before, t.snapshot(), "{args:?} changed files");
    }
}

#[test]
fn outside_a_checkout_is_a_usage_error() {
    let t = Tree::new();
    let output = xtask_bin()
        .arg("list")
        .current_dir(&t.scratch)
        .env_remove("DOMINIX_ROOT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(USAGE), "{err}");
    assert!(
        err.contains("not inside a domi-nix checkout") && err.contains("Fix:"),
        "{err}"
    );

    // From a subdirectory of a checkout: that checkout, not the one the
    // binary was built from.
    t.branch_with("only-here", VALID_META);
    let output = xtask_bin()
        .arg("list")
        .current_dir(t.root.join("crates/ui"))
        .env_remove("DOMINIX_ROOT")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && out.contains("only-here"),
        "{out}"
    );
}

#[test]
fn dominix_root_that_is_no_checkout() {
    let t = Tree::new();
    let output = xtask_bin()
        .arg("list")
        .env("DOMINIX_ROOT", &t.scratch)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(USAGE), "{err}");
    assert!(
        err.contains("DOMINIX_ROOT") && err.contains("Fix:"),
        "{err}"
    );
}

// ---------------------------------------------------------------- --out

#[test]
fn out_is_an_existing_file() {
    let t = Tree::new();
    std::fs::write(t.scratch.join("o"), "mine").unwrap();
    compose(&t, "ui", "o", fails(&["not a directory"]));
}

#[test]
fn out_is_a_foreign_directory() {
    let t = Tree::new();
    std::fs::create_dir(t.scratch.join("o")).unwrap();
    std::fs::write(t.scratch.join("o/flake.nix"), "{ my = 1; }").unwrap();
    compose(
        &t,
        "ui",
        "o",
        fails(&["not written by `cargo xtask compose`"]),
    );
}

#[test]
fn out_is_a_symlink_into_another_tree() {
    let t = Tree::new();
    std::fs::create_dir(t.scratch.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(t.scratch.join("elsewhere"), t.scratch.join("o")).unwrap();
    compose(&t, "ui", "o", fails(&["symbolic link"]));
}

#[test]
fn out_below_a_file() {
    let t = Tree::new();
    std::fs::write(t.scratch.join("file"), "mine").unwrap();
    compose(&t, "ui", "file/o", fails(&["file/o"]));
}

#[test]
fn out_is_written_and_rewritten() {
    let t = Tree::new();
    compose(&t, "ui", "deep/er/o", ok(&["wrote"], &["deep"]));
    compose(&t, "hardening", "deep/er/o", ok(&["wrote"], &["deep"]));
}

// ---------------------------------------------------------------- flake.lock

fn broken_lock(change: impl FnOnce(&Tree), says: &[&str]) {
    let t = Tree::new();
    change(&t);
    // A failure whether or not Nix is here: the lock is this repository's.
    let output = run(&t, &["check"], fails(says));
    let all = String::from_utf8_lossy(&output.stdout);
    assert!(
        !all.contains("SKIP module-eval"),
        "a broken lock is no skip: {all}"
    );
}

#[test]
fn a_missing_flake_lock() {
    broken_lock(
        |t| std::fs::remove_file(t.root.join("flake.lock")).unwrap(),
        &["flake.lock", "git checkout -- flake.lock"],
    );
}

#[test]
fn a_corrupt_flake_lock() {
    broken_lock(
        |t| t.write("flake.lock", "{ \"nodes\": "),
        &["flake.lock", "not a flake lock file"],
    );
}

#[test]
fn a_flake_lock_without_an_input() {
    broken_lock(
        |t| {
            let lock = t
                .read("flake.lock")
                .replace("\"flake-parts\"", "\"flake-partz\"");
            t.write("flake.lock", &lock);
        },
        &["flake.lock", "flake-parts"],
    );
}

// ---------------------------------------------------------------- Nix itself

fn fake_nix(t: &Tree, script: &str) {
    for program in ["nix", "nix-instantiate", "nix-store"] {
        t.fake(program, script);
    }
}

#[test]
fn a_broken_nix_is_a_failure_not_a_skip() {
    let t = Tree::new();
    fake_nix(&t, "echo 'error: something is very wrong' >&2; exit 1");
    let output = run(&t, &["check"], fails(&["does not answer"]));
    let all = String::from_utf8_lossy(&output.stdout);
    for tier in ["nix-parse", "trunks", "module-eval"] {
        assert!(all.contains(&format!("FAIL {tier}")), "{all}");
        assert!(!all.contains(&format!("SKIP {tier}")), "{all}");
    }
}

#[test]
fn a_nix_killed_by_a_signal() {
    let t = Tree::new();
    fake_nix(&t, "kill -9 $$");
    run(&t, &["check"], fails(&["signal 9"]));
}

#[test]
fn a_nix_answering_garbage() {
    let t = Tree::new();
    fake_nix(
        &t,
        "case \"$*\" in *--version*) echo 'nix (Nix) 2.8.0';; *--print-fixed-path*) echo /nix/store/00000000000000000000000000000000-source;; *--check-validity*) exit 0;; *) echo 'this is not json {';; esac",
    );
    run(&t, &["check"], fails(&["module-eval"]));
}

#[test]
fn a_hanging_nix_is_stopped_by_the_timeout() {
    let t = Tree::new();
    fake_nix(&t, "sleep 600 & wait");
    let start = std::time::Instant::now();
    run(
        &t,
        &["--timeout", "2", "check"],
        fails(&["did not finish within 2 s", "--timeout"]),
    );
    // Not a timing assertion on speed: the bound is what is tested (a hang
    // would take 600 s per call).
    assert!(start.elapsed() < std::time::Duration::from_secs(120));
}

#[test]
fn no_nix_at_all_is_an_honest_skip() {
    let t = Tree::new();
    let output = run_with(
        &t,
        &["check"],
        ok(&["SKIP module-eval", "install Nix"], &[]),
        |cmd| {
            cmd.env("PATH", "/usr/bin/nonexistent:/bin/nonexistent")
                .env_remove("DOMINIX_REQUIRE_EVAL");
        },
    );
    assert!(output.status.success());
}

// ---------------------------------------------------------------- scale and file system

#[test]
fn a_catalog_of_5000_branches() {
    let t = Tree::new();
    for i in 0..5000 {
        let name = format!("b{i:04}");
        let requires = if i % 10 == 0 || i == 0 {
            String::new()
        } else {
            format!("\"b{:04}\"", i - 1)
        };
        let conflicts = if i % 100 == 99 {
            format!("\"b{:04}\"", i - 50)
        } else {
            String::new()
        };
        let meta = VALID_META
            .replace("requires = []", &format!("requires = [{requires}]"))
            .replace("conflicts = []", &format!("conflicts = [{conflicts}]"));
        t.branch(&name, &name, &meta, "{...}: {}\n");
    }
    let output = run(&t, &["list", "--json"], ok(&["b4999"], &[]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The 5000, and this checkout's own branches.
    assert_eq!(
        json.as_array().unwrap().len(),
        5000 + common::features().len()
    );
    run(
        &t,
        &["compose", "--profile", "full", "--out", "o"],
        ok(&["leaves out `b0099` (conflicts with `b0049`"], &["o"]),
    );
    compose(&t, "b4999", "p", ok(&["wrote"], &["p"]));
}

#[test]
fn a_symlink_loop_under_crates_and_nix_modules() {
    let t = Tree::new();
    std::os::unix::fs::symlink("../crates", t.root.join("crates/loop")).unwrap();
    std::os::unix::fs::symlink(".", t.root.join("nix-modules/self")).unwrap();
    let output = run(&t, &["list"], fails(&["crates/loop"]));
    assert!(!output.status.success());
    run(&t, &["fmt", "--check"], ok(&[], &[]));
}

#[test]
fn fmt_on_a_file_that_does_not_parse() {
    let t = Tree::new();
    t.write("crates/ui/broken.nix", "{ a = ; }\n");
    run(
        &t,
        &["fmt"],
        fails(&["crates/ui/broken.nix", "does not parse"]),
    );
    assert_eq!(t.read("crates/ui/broken.nix"), "{ a = ; }\n");
    run(&t, &["check"], fails(&["crates/ui/broken.nix"]));
}

#[test]
fn seed_from_a_missing_directory() {
    let t = Tree::new();
    run(
        &t,
        &["seed", "flake-parts", "--from", "nowhere"],
        usage(&["nowhere"]),
    );
}

#[test]
fn a_broken_feature_manifest_does_not_stop_cargo_from_building_the_xtask() {
    // The xtask's own workspace loads without reading any feature manifest,
    // while the features' workspace refuses (so this test can fail).
    let t = Tree::new();
    t.write("crates/ui/Cargo.toml", "[package\nname = \"ui\"\n");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let metadata = |manifest: &str| {
        Command::new(&cargo)
            .args([
                "metadata",
                "--offline",
                "--no-deps",
                "--format-version",
                "1",
            ])
            .arg("--manifest-path")
            .arg(t.root.join(manifest))
            .output()
            .unwrap()
    };
    let features = metadata("Cargo.toml");
    assert!(
        !features.status.success(),
        "the broken manifest went unnoticed"
    );
    let xtask = metadata("xtask/Cargo.toml");
    assert!(
        xtask.status.success(),
        "{}",
        String::from_utf8_lossy(&xtask.stderr)
    );
    run(&t, &["list"], fails(&["crates/ui/Cargo.toml", "line 1"]));
}

#[test]
fn a_shared_build_cache_never_receives_another_checkouts_trunks() {
    let t = Tree::new();
    fake_nix(&t, "echo '[]'; exit 0");
    let shared = t.scratch.join("shared-target");
    std::fs::create_dir(&shared).unwrap();
    run_with(
        &t,
        &[
            "build",
            "--features",
            "ui",
            "--host",
            "x86_64-linux",
            "--dry-run",
        ],
        ok(&[], &[]),
        |cmd| {
            cmd.env("CARGO_TARGET_DIR", &shared);
        },
    );
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "a trunk was written into CARGO_TARGET_DIR"
    );
    assert!(t.root.join("target/dominix/trunks").is_dir());
}
