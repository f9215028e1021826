//! Repository hygiene as tests: formatting, dead Nix code, no paths of the
//! machine that wrote a file, and the layout of every feature crate.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{have, have_or_skip, root, skip, stderr, stdout, xtask};

/// Every `.nix` file of the checkout; skips target/, result/, node_modules/ and hidden dirs
/// (the same walk as `cargo xtask fmt`).
fn nix_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                if !name.starts_with('.')
                    && !matches!(name.as_str(), "target" | "result" | "node_modules")
                {
                    stack.push(path);
                }
            } else if name.ends_with(".nix") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn is_git_checkout(root: &Path) -> bool {
    have("git")
        && std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "--is-inside-work-tree"])
            .output()
            .is_ok_and(|o| o.status.success())
}

#[test]
fn nix_files_are_formatted() {
    let output = xtask().args(["fmt", "--check"]).output().unwrap();
    assert!(
        output.status.success(),
        "run `cargo xtask fmt`:\n{}",
        stderr(&output)
    );
}

#[test]
fn nix_files_have_no_dead_code() {
    if !have_or_skip(
        "deadnix",
        "SKIP deadnix: `deadnix` is not on PATH — `cargo install deadnix`",
    ) {
        return;
    }
    let files = nix_files(&root());
    assert!(files.len() > 5, "too few Nix files found: {files:?}");
    let output = std::process::Command::new("deadnix")
        .arg("--fail")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "deadnix findings:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn tracked_files_name_no_path_of_this_machine() {
    let root = root();
    if !is_git_checkout(&root) {
        skip("SKIP machine-paths: not a git checkout — run the tests in a clone");
        return;
    }
    // Built from pieces so this file does not match itself. A path needs a
    // component after the prefix: a bare prefix in a list of forbidden ones
    // (tooling/dominix/tests/render.rs) is not a path of this machine.
    let component = "[A-Za-z0-9_.+-]";
    let pattern = format!(
        "/{w}/{component}|/{r}/{component}|\\.{m}/",
        w = "work",
        r = "root",
        m = "mirror"
    );
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["grep", "-nI", "-E", &pattern, "--", ".", ":(exclude)*.lock"])
        .output()
        .unwrap();
    match output.status.code() {
        Some(1) => {} // no match
        Some(0) => panic!(
            "tracked files name paths of this machine:\n{}",
            stdout(&output)
        ),
        other => panic!("git grep failed ({other:?}): {}", stderr(&output)),
    }
}

#[test]
fn feature_crates_have_their_files() {
    let crates = root().join("crates");
    let mut features = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        if !manifest
            .lines()
            .any(|l| l.trim() == "[package.metadata.dominix]")
        {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in ["README.md", "feature.nix", "nixos.nix"] {
            assert!(dir.join(file).is_file(), "crates/{name} has no {file}");
        }
        assert!(dir.join("tests").is_dir(), "crates/{name} has no tests/");
        features.push(name);
    }
    features.sort();
    for expected in ["hardening", "ui"] {
        assert!(
            features.iter().any(|f| f == expected),
            "{expected} not found among feature crates {features:?}"
        );
    }
}

/// Every Rust source file of the tooling (the xtask, tooling/, the branches).
fn rust_sources(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![
        root.join("xtask"),
        root.join("tooling"),
        root.join("crates"),
    ];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && entry.file_name() != "target" {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn nix_command_lines_are_built_in_one_place() {
    // Timeouts, feature flags and store options are added in dominix-nix,
    // so no other source spells a Nix flag or starts Nix itself.
    let root = root();
    let one_place = root.join("tooling/dominix-nix");
    let mut offenders = Vec::new();
    for file in rust_sources(&root) {
        if file.starts_with(&one_place) || file.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in [
            "--extra-experimental-features",
            "cmd!(sh, \"nix",
            "Command::new(\"nix",
        ] {
            if text.contains(needle) {
                offenders.push(format!("{}: {needle}", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "Nix command lines outside tooling/dominix-nix (use dominix_nix::NixCommand):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn xtask_files_import_each_other_without_loops() {
    use std::collections::{BTreeMap, BTreeSet};
    let src = root().join("xtask/src");
    let modules: BTreeMap<String, String> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_string_lossy()
                .strip_suffix(".rs")?
                .to_owned();
            Some((name, std::fs::read_to_string(e.path()).unwrap()))
        })
        .collect();
    // `crate::<module>` anywhere, and `use crate::{a, b::c}` groups.
    let uses = |text: &str| -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let words: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                group
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .collect()
            } else {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .take(1)
                    .collect()
            };
            found.extend(
                words
                    .into_iter()
                    .filter(|w| modules.contains_key(*w))
                    .map(str::to_owned),
            );
        }
        found
    };
    let edges: BTreeMap<&String, BTreeSet<String>> = modules
        .iter()
        .map(|(name, text)| (name, uses(text).into_iter().filter(|m| m != name).collect()))
        .collect();
    // Depth-first search for a path back to where it started.
    fn reaches(
        edges: &BTreeMap<&String, BTreeSet<String>>,
        from: &str,
        to: &str,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        edges
            .iter()
            .find(|(n, _)| n.as_str() == from)
            .is_some_and(|(_, next)| {
                next.iter()
                    .any(|n| n == to || (seen.insert(n.clone()) && reaches(edges, n, to, seen)))
            })
    }
    let loops: Vec<&String> = edges
        .keys()
        .copied()
        .filter(|m| reaches(&edges, m, m, &mut BTreeSet::new()))
        .collect();
    assert!(
        loops.is_empty(),
        "xtask files in an import loop: {loops:?}\n{edges:#?}"
    );
}

#[test]
fn no_unwrap_or_expect_outside_tests() {
    // ARCHITECTURE.md, "Invariants": no `unwrap()`/`expect()` on a path user
    // input reaches. Enforced bluntly: none in non-test code at all, except
    // in what only tests call: dominix-testing (a test library, whose panics
    // are test failures) and dominix-eval's `skip::skip_test`.
    // Test code is `src/tests/`, `tests/`, and what follows `#[cfg(test)]`.
    let root = root();
    let mut offenders = Vec::new();
    for file in rust_sources(&root) {
        let relative = file.strip_prefix(&root).unwrap();
        let in_tests = relative.components().any(|c| c.as_os_str() == "tests");
        if in_tests
            || relative.starts_with("tooling/dominix-testing")
            || relative == Path::new("tooling/dominix-eval/src/skip.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            for needle in [".unwrap()", ".expect(", "panic!(", "unreachable!("] {
                if code.contains(needle) {
                    offenders.push(format!("{}:{}: {}", relative.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "unwrap/expect/panic outside tests (return an error naming the file and the fix instead):\n{}",
        offenders.join("\n")
    );
}
