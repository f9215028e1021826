//! `cargo xtask check --changed-since REV`: which branches a change can affect.
//!
//! A branch is evaluated again when its own crate changed, when a branch in
//! its `requires` closure changed (it is a dependent of a changed branch), or
//! when something every branch is evaluated with changed: `nix-modules/` (the
//! trunk, the contract, the evaluator), `flake.lock` or `flake.nix`.
//! [`select`] is the pure rule; [`since`] asks git what changed.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8Path;
use dominix::Catalog;

use crate::{Failure, Result};

/// Paths (relative to the workspace root) every branch is evaluated with: a
/// change to any of them selects every branch. A prefix ending in `/` is a
/// directory.
pub const EVERYTHING: &[&str] = &["nix-modules/", "flake.lock", "flake.nix"];

/// The branches to evaluate after a change, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selected {
    /// Every branch to evaluate, by name.
    pub features: BTreeSet<String>,
    /// Branches whose own crate directory changed.
    pub changed: BTreeSet<String>,
    /// The first changed path that selects every branch, if any.
    pub everything: Option<String>,
    /// How many branches the catalog has.
    pub total: usize,
    /// Every changed path, relative to the workspace root.
    pub paths: BTreeSet<String>,
}

impl Selected {
    /// Branches selected only because a branch they require changed.
    pub fn dependents(&self) -> impl Iterator<Item = &String> {
        self.features.difference(&self.changed)
    }

    pub fn skipped(&self) -> usize {
        self.total - self.features.len()
    }

    /// One line for the check report, e.g.
    /// `changed since main: 2 of 40 branches to evaluate (hardening; dependents: web), 38 skipped`.
    pub fn describe(&self, rev: &str) -> String {
        let why = match &self.everything {
            Some(path) => format!("{path} changed: every branch"),
            None if self.features.is_empty() => "no branch changed".to_owned(),
            None => {
                let mut why = format!("changed: {}", names(self.changed.iter()));
                if self.dependents().next().is_some() {
                    why.push_str(&format!("; dependents: {}", names(self.dependents())));
                }
                why
            }
        };
        format!(
            "changed since {rev}: {} of {} branches to evaluate ({why}), {} skipped",
            self.features.len(),
            self.total,
            self.skipped()
        )
    }
}

/// Up to ten names, comma-separated, then `…` if there are more.
fn names<'a>(mut names: impl Iterator<Item = &'a String>) -> String {
    let mut shown: Vec<&str> = names.by_ref().take(10).map(String::as_str).collect();
    if names.next().is_some() {
        shown.push("…");
    }
    shown.join(", ")
}

/// The branches of `catalog` that `changed` paths (relative to the workspace
/// root, `/`-separated) can affect: those whose crate directory contains a
/// changed path, and every branch that requires one of them, transitively.
/// A path under one of [`EVERYTHING`] selects every branch.
pub fn select<'a>(changed: impl IntoIterator<Item = &'a str>, catalog: &Catalog) -> Selected {
    let mut selected = Selected {
        total: catalog.features().len(),
        ..Selected::default()
    };
    // Each branch by its crate directory, e.g. `crates/hardening`.
    let by_dir: BTreeMap<&str, &str> = catalog
        .features()
        .map(|f| (f.dir.as_str().trim_end_matches('/'), f.name.as_str()))
        .collect();
    for path in changed {
        let path = path.trim_start_matches("./");
        let global = EVERYTHING.iter().any(|g| match g.strip_suffix('/') {
            Some(dir) => path == dir || path.starts_with(g),
            None => path == *g,
        });
        if global && selected.everything.is_none() {
            selected.everything = Some(path.to_owned());
        }
        // The path itself and each directory above it.
        let prefixes = path.match_indices('/').map(|(i, _)| &path[..i]);
        let names = prefixes.chain([path]).filter_map(|p| by_dir.get(p));
        selected
            .changed
            .extend(names.map(|name| (*name).to_owned()));
    }
    if selected.everything.is_some() {
        selected.features = catalog.names().map(str::to_owned).collect();
        return selected;
    }
    // Reverse `requires` edges: who requires each branch.
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for feature in catalog.features() {
        for required in &feature.meta.requires {
            dependents
                .entry(required.as_str())
                .or_default()
                .push(&feature.name);
        }
    }
    let mut queue: Vec<&str> = selected.changed.iter().map(String::as_str).collect();
    let mut seen: BTreeSet<&str> = queue.iter().copied().collect();
    while let Some(name) = queue.pop() {
        for dependent in dependents.get(name).into_iter().flatten() {
            if seen.insert(dependent) {
                queue.push(dependent);
            }
        }
    }
    selected.features = seen.into_iter().map(str::to_owned).collect();
    selected
}

/// The paths changed in the work tree at `root` since `rev` (committed,
/// staged or not), plus untracked files, relative to `root`.
pub fn changed_paths(root: &Utf8Path, rev: &str) -> Result<BTreeSet<String>> {
    let git = |args: &[&str]| -> Result<(std::process::ExitStatus, dominix_nix::Output)> {
        dominix_nix::NixCommand::tool("git")
            .args(args)
            .current_dir(root)
            .run()
            .map_err(|e| {
                Failure::new(format!(
                    "--changed-since needs git, which did not answer ({e}). Fix: install git, or drop --changed-since"
                ))
            })
    };
    let inside = git(&["rev-parse", "--is-inside-work-tree"])?;
    if !inside.0.success() {
        return Err(Failure::new(format!(
            "{root} is not a git work tree, so there is nothing to compare with `--changed-since {rev}`. \
             Fix: run in a git checkout (or set DOMINIX_ROOT to one), or drop --changed-since"
        )));
    }
    let commit = format!("{rev}^{{commit}}");
    let known = git(&["rev-parse", "--verify", "--quiet", &commit])?;
    if !known.0.success() {
        return Err(Failure::usage(format!(
            "--changed-since {rev}: no such commit in {root}. \
             Fix: pass a commit, branch or tag that exists there (`git log --oneline` lists them)"
        )));
    }
    let diff = [
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--relative",
        rev,
        "--",
    ];
    let untracked = ["ls-files", "-z", "--others", "--exclude-standard"];
    let mut paths = BTreeSet::new();
    for args in [&diff[..], &untracked] {
        let (status, out) = git(args)?;
        if !status.success() {
            return Err(Failure::new(format!(
                "`git {}` failed in {root}: {}. Fix: make sure {root} is a healthy git checkout",
                args.join(" "),
                out.stderr.trim()
            )));
        }
        let changed = out.stdout.split('\0').filter(|p| !p.is_empty());
        paths.extend(changed.map(str::to_owned));
    }
    Ok(paths)
}

/// [`select`] on what git says changed in `root` since `rev`.
pub fn since(root: &Utf8Path, rev: &str, catalog: &Catalog) -> Result<Selected> {
    let paths = changed_paths(root, rev)?;
    let mut selected = select(paths.iter().map(String::as_str), catalog);
    selected.paths = paths;
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use dominix::{Category, Feature, FeatureMeta, System};

    use super::*;

    fn feature(name: &str, requires: &[&str]) -> Feature {
        Feature {
            name: name.into(),
            dir: format!("crates/{name}").into(),
            meta: FeatureMeta {
                category: Category::Features,
                summary: format!("the {name} feature"),
                requires: requires.iter().map(|s| (*s).to_owned()).collect(),
                conflicts: vec![],
                systems: System::ALL.to_vec(),
                ceilings: Default::default(),
            },
        }
    }

    /// base <- mid <- top (a chain), base <- side, and a lone feature.
    fn catalog() -> Catalog {
        Catalog::from_features(vec![
            feature("base", &[]),
            feature("mid", &["base"]),
            feature("top", &["mid"]),
            feature("side", &["base"]),
            feature("diamond", &["top", "side"]),
            feature("lone", &[]),
        ])
    }

    fn names(selected: &Selected) -> Vec<&str> {
        selected.features.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_changed_branch_selects_itself_and_its_dependents() {
        let selected = select(["crates/mid/nixos.nix"], &catalog());
        assert_eq!(names(&selected), ["diamond", "mid", "top"]);
        assert_eq!(selected.changed, BTreeSet::from(["mid".to_owned()]));
        assert_eq!(selected.skipped(), 3);
        assert!(selected.everything.is_none());
    }

    #[test]
    fn a_root_branch_selects_every_branch_that_requires_it() {
        let selected = select(["crates/base/Cargo.toml"], &catalog());
        assert_eq!(names(&selected), ["base", "diamond", "mid", "side", "top"]);
    }

    #[test]
    fn a_leaf_selects_itself_only() {
        let selected = select(["crates/lone/vm-test.nix"], &catalog());
        assert_eq!(names(&selected), ["lone"]);
        assert_eq!(
            selected.describe("HEAD~1"),
            "changed since HEAD~1: 1 of 6 branches to evaluate (changed: lone), 5 skipped"
        );
    }

    #[test]
    fn nix_modules_flake_lock_and_flake_nix_select_everything() {
        for path in [
            "nix-modules/trunk/default.nix",
            "nix-modules/contract/pkgs.nix",
            "flake.lock",
            "flake.nix",
        ] {
            let selected = select(["README.md", path], &catalog());
            assert_eq!(selected.features.len(), 6, "{path}");
            assert_eq!(selected.everything.as_deref(), Some(path));
            assert_eq!(selected.skipped(), 0);
        }
    }

    #[test]
    fn other_paths_select_nothing() {
        let selected = select(
            [
                "README.md",
                "xtask/src/check.rs",
                "crates/dominix/src/lib.rs",
                // Same prefix, another directory.
                "crates/base-extra/Cargo.toml",
                "nix-modules-old/x.nix",
                "flake.lock.orig",
            ],
            &catalog(),
        );
        assert!(selected.features.is_empty(), "{selected:?}");
        assert_eq!(
            selected.describe("v1"),
            "changed since v1: 0 of 6 branches to evaluate (no branch changed), 6 skipped"
        );
    }

    #[test]
    fn branches_are_matched_by_their_directory_not_their_name() {
        let mut renamed = feature("web", &[]);
        renamed.dir = "crates/web-server".into();
        let catalog = Catalog::from_features(vec![renamed, feature("api", &["web"])]);
        let selected = select(["crates/web-server/nixos.nix"], &catalog);
        assert_eq!(names(&selected), ["api", "web"]);
        assert!(
            select(["crates/web/nixos.nix"], &catalog)
                .features
                .is_empty()
        );
    }

    #[test]
    fn the_description_names_the_reason_for_everything() {
        let selected = select(["nix-modules/eval/default.nix"], &catalog());
        assert_eq!(
            selected.describe("main"),
            "changed since main: 6 of 6 branches to evaluate (nix-modules/eval/default.nix changed: every branch), 0 skipped"
        );
    }
}
