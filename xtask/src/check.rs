//! `cargo xtask check`: the static tier and module evaluation of every feature.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;

use dominix::{Catalog, Feature, Profile, RenderOptions, Selection, trunk_flake};
use dominix_eval::{Applied, Case, Context, Drop, EvalError, Evaluator, NixFailure, Outcome};
use serde::Serialize;
use xshell::Shell;

use crate::changed::Selected;
use crate::nix::NixCommand;
use crate::test_scripts::{self, VmTests};
use crate::{Failure, Project, Result, changed, compose, fmt, nix};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Serialize)]
struct Tier {
    name: &'static str,
    status: Status,
    /// What was checked, e.g. "27 files".
    summary: String,
    /// Problems, or the skip reason.
    details: Vec<String>,
    /// Things worth saying that do not fail the tier.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl Tier {
    fn from_problems(name: &'static str, summary: impl Into<String>, details: Vec<String>) -> Tier {
        let status = if details.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        };
        Tier {
            name,
            status,
            summary: summary.into(),
            details,
            warnings: Vec::new(),
        }
    }

    /// A tier that could not run at all, for `detail`.
    fn failed(name: &'static str, detail: impl Into<String>) -> Tier {
        Tier::from_problems(name, "", vec![detail.into()])
    }

    fn skipped(name: &'static str, reason: impl Into<String>) -> Tier {
        let status = if dominix_eval::skip::required() {
            Status::Failed
        } else {
            Status::Skipped
        };
        Tier {
            status,
            ..Tier::failed(name, reason)
        }
    }
}

impl crate::flags::Check {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let catalog = project.catalog()?;
        // `--changed-since REV`: only what the change can affect is checked.
        let selected = self
            .changed_since
            .as_deref()
            .map(|rev| changed::since(&project.root, rev, &catalog))
            .transpose()?;
        let only = selected.as_ref();
        let mut files = fmt::nix_files(&project.root)?;
        // The static tiers cover the selected branches' files and the changed files.
        if let Some(s) = only
            && s.everything.is_none()
        {
            files.retain(|file| {
                let relative = file.strip_prefix(&project.root).unwrap_or(file);
                s.paths.contains(relative.as_str())
                    || s.features
                        .iter()
                        .filter_map(|name| catalog.get(name))
                        .any(|f| relative.starts_with(&f.dir))
            });
        }

        let mut tiers = vec![metadata(&catalog), resolution(&catalog)];
        match dominix_nix::available() {
            Ok(_) => tiers.extend([parse(project, &files), trunks(project, &catalog, only)?]),
            // Absent: these tiers cannot run here (a skip). Present but
            // broken: they ran and failed.
            Err(error) => tiers.extend(["nix-parse", "trunks"].map(|tier| match error {
                dominix_nix::NixError::NotFound { .. } => {
                    Tier::skipped(tier, format!("SKIP {tier}: {error}"))
                }
                _ => Tier::failed(tier, error.to_string()),
            })),
        }
        tiers.extend([
            format(project, &files)?,
            deadnix(project, sh, &files),
            purity(project, &files)?,
        ]);
        let (eval_tier, evaluated, tests, systems) = module_eval(project, &catalog, only);
        tiers.push(eval_tier);
        tiers.push(audit(project, &catalog, &systems));
        tiers.push(match test_scripts::lint(sh, project, tests.as_ref()) {
            Ok((summary, problems)) => Tier::from_problems("vm-tests", summary, problems),
            Err(skip) => Tier::skipped("vm-tests", skip),
        });

        let [passed, failed, skipped] = [Status::Passed, Status::Failed, Status::Skipped]
            .map(|s| tiers.iter().filter(|t| t.status == s).count());
        let total = only.map_or(catalog.features().len(), |s| s.features.len());
        let changed = self.changed_since.as_deref().zip(only);
        if self.json {
            let mut report = serde_json::json!({
                "tiers": tiers,
                "passed": passed, "failed": failed, "skipped": skipped,
                "module_eval": { "evaluated": evaluated, "features": total },
            });
            if let Some((rev, s)) = changed {
                report["changed_since"] = serde_json::json!({
                    "rev": rev, "features": s.features, "changed": s.changed,
                    "everything": s.everything, "skipped": s.skipped(),
                });
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            for tier in &tiers {
                let label = match tier.status {
                    Status::Passed => "ok  ",
                    Status::Failed => "FAIL",
                    Status::Skipped => "SKIP",
                };
                println!("{label} {:<12} {}", tier.name, tier.summary);
                for detail in tier.details.iter().chain(&tier.warnings) {
                    println!("       {}", detail.replace('\n', "\n       "));
                }
            }
            if let Some((rev, s)) = changed {
                println!("{}", s.describe(rev));
            }
            println!("module-eval: {evaluated}/{total} features evaluated");
            println!("check: {passed} passed, {failed} failed, {skipped} skipped");
        }
        crate::ensure(failed == 0, || {
            format!("{failed} check tier(s) failed; see above")
        })
    }
}

fn metadata(catalog: &Catalog) -> Tier {
    let details = catalog.problems().iter().map(ToString::to_string).collect();
    let summary = format!("{} features", catalog.features().len());
    Tier::from_problems("metadata", summary, details)
}

/// Each profile, with its label.
fn profiles() -> impl Iterator<Item = (String, Selection)> {
    Profile::ALL
        .iter()
        .map(|p| (format!("profile {p}"), Selection::profile(*p)))
}

/// `feature` alone, with its label.
fn alone(feature: &Feature) -> (String, Selection) {
    let selection = Selection::features([feature.name.as_str()]);
    (feature.name.clone(), selection)
}

fn resolution(catalog: &Catalog) -> Tier {
    let details = catalog
        .features()
        .map(alone)
        .chain(profiles())
        .filter_map(|(label, selection)| {
            let error = catalog.resolve(&selection).err()?;
            Some(format!("{label}: {error}"))
        })
        .collect();
    let summary = "every feature alone, and both profiles";
    Tier::from_problems("resolve", summary, details)
}

fn parse(project: &Project, files: &[Utf8PathBuf]) -> Tier {
    let root = format!("{}/", project.root);
    let details = nix::parse_files(files)
        .into_iter()
        .map(|(file, e)| {
            let relative = file.strip_prefix(&project.root).unwrap_or(file);
            format!("{relative}: {}", e.replace(&root, ""))
        })
        .collect();
    Tier::from_problems("nix-parse", format!("{} files", files.len()), details)
}

/// Every composed trunk (minimal, full, each feature alone — with
/// `--changed-since`, each selected feature alone) parses.
fn trunks(project: &Project, catalog: &Catalog, only: Option<&Selected>) -> Result<Tier> {
    let dir = tempfile::tempdir()
        .map_err(|e| Failure::new(format!("cannot create a temporary directory: {e}")))?;
    let wanted =
        |f: &&Feature| only.is_none_or(|s| s.everything.is_some() || s.features.contains(&f.name));
    let selections: Vec<_> = profiles()
        .chain(catalog.features().filter(wanted).map(alone))
        .collect();
    let flake_ref = project.flake_ref();
    let (mut files, mut labels) = (Vec::new(), Vec::new());
    for (i, (label, selection)) in selections.iter().enumerate() {
        // What does not resolve is reported by the `resolve` tier.
        let Ok(res) = catalog.resolve(selection) else {
            continue;
        };
        let opts = RenderOptions {
            flake_ref: flake_ref.clone(),
            system: compose::system_for(&res),
            command: "cargo xtask check".to_owned(),
        };
        let file = Utf8PathBuf::from_path_buf(dir.path().join(format!("trunk-{i}.nix")))
            .map_err(|_| Failure::new("temporary path is not UTF-8"))?;
        std::fs::write(&file, trunk_flake(&res, &opts))
            .map_err(|e| Failure::new(format!("cannot write {file}: {e}")))?;
        files.push(file);
        labels.push(label.as_str());
    }
    let details = nix::parse_files(&files)
        .into_iter()
        .map(|(file, e)| {
            let label = files.iter().zip(&labels).find(|(f, _)| *f == file);
            format!("composed trunk for {}: {e}", label.map_or("?", |(_, l)| l))
        })
        .collect();
    let summary = format!("{} composed trunks", selections.len());
    Ok(Tier::from_problems("trunks", summary, details))
}

fn format(project: &Project, files: &[Utf8PathBuf]) -> Result<Tier> {
    let found = fmt::unformatted(&project.root, files, false)?;
    let mut details = found.unparsable_lines();
    for f in &found.unformatted {
        details.push(format!("{f}: not formatted. Fix: run `cargo xtask fmt`"));
    }
    Ok(Tier::from_problems("format", "alejandra", details))
}

/// Every branch file (under crates/) depends only on the repository and the
/// pinned inputs (see `purity`).
fn purity(project: &Project, files: &[Utf8PathBuf]) -> Result<Tier> {
    let mut details = Vec::new();
    let mut checked = 0;
    for file in files {
        let Ok(relative) = file.strip_prefix(&project.root) else {
            continue;
        };
        if !relative.starts_with("crates") {
            continue;
        }
        let text = std::fs::read_to_string(file).map_err(|e| {
            Failure::new(format!(
                "cannot read {relative}: {e}. Fix: make it a readable UTF-8 file"
            ))
        })?;
        checked += 1;
        details.extend(crate::purity::findings(relative, &text));
    }
    let summary = format!("{checked} branch files");
    Ok(Tier::from_problems("purity", summary, details))
}

fn deadnix(project: &Project, sh: &Shell, files: &[Utf8PathBuf]) -> Tier {
    if !nix::available(sh, "deadnix") {
        return Tier::skipped(
            "deadnix",
            "SKIP deadnix: `deadnix` is not on PATH — `cargo install deadnix`",
        );
    }
    let deadnix = NixCommand::tool("deadnix").arg("--fail").args(files);
    let details = match deadnix.current_dir(sh.current_dir()).run() {
        Ok((status, _)) if status.success() => Vec::new(),
        Ok((_, out)) => vec![format!(
            "{}\nFix: remove the unused bindings, or prefix them with `_`",
            out.stdout.replace(&format!("{}/", project.root), "").trim()
        )],
        Err(e) => vec![format!("cannot run deadnix: {e}")],
    };
    Tier::from_problems("deadnix", format!("{} files", files.len()), details)
}

/// Every feature's module, evaluated alone on the trunk in every context it
/// is built in (a system and its VM on each supported guest, and every node
/// of its VM test), plus the trunk alone, in one batched Nix process.
/// Returns the tier, how many features evaluated cleanly, the VM tests
/// read on the way (for the test-script tier), and each feature's system
/// case on its first system (for the audit tier).
fn module_eval(
    project: &Project,
    catalog: &Catalog,
    only: Option<&Selected>,
) -> (Tier, usize, Option<VmTests>, BTreeMap<String, Outcome>) {
    const NAME: &str = "module-eval";
    let wanted = |name: &str| only.is_none_or(|s| s.features.contains(name));
    let evaluator = Evaluator::new(project.root.clone());
    if let Err(reason) = evaluator.preflight() {
        // A broken lock, or a Nix that is there but does not answer, is a
        // failure, never a skip.
        let tier = if reason.is_failure() {
            Tier::failed(NAME, reason.to_string())
        } else {
            Tier::skipped(NAME, reason.skip_line())
        };
        return (tier, 0, None, BTreeMap::new());
    }
    let tests = match evaluator.vm_tests() {
        Ok(tests) => tests,
        Err(e) => return (Tier::failed(NAME, e.to_string()), 0, None, BTreeMap::new()),
    };
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    for feature in catalog.features().filter(|f| wanted(&f.name)) {
        let name = &feature.name;
        let nodes = tests.get(name).map_or(&[][..], |t| &t.nodes[..]);
        for system in feature.meta.systems.iter().map(|s| s.as_str()) {
            for context in [Context::System, Context::Vm] {
                let case = Case::feature(name).in_context(context).on_system(system);
                cases.insert(format!("{name} [{context}, {system}]"), case);
            }
            for node in nodes {
                let case = Case::test_node(name, node).on_system(system);
                cases.insert(format!("{name} [test node `{node}`, {system}]"), case);
            }
        }
    }
    // The trunk alone only changes with nix-modules/ (or the lock).
    if only.is_none_or(|s| s.everything.is_some()) {
        for context in [Context::System, Context::Vm] {
            let case = Case::default().in_context(context);
            cases.insert(format!("(trunk) [{context}]"), case);
        }
    }
    let mut details = Vec::new();
    // One error shared by several cases (a syntax error in a fragment breaks
    // the whole top level) is reported once, naming every case it broke.
    let mut shared: Vec<NixFailure> = Vec::new();
    let mut failed_features = BTreeSet::new();
    let mut drops: Vec<(String, Drop)> = Vec::new();
    let mut applied = BTreeSet::new();
    // Each node's host name, which the test driver names its Python variable after.
    let mut host_names: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut systems: BTreeMap<String, Outcome> = BTreeMap::new();
    for (id, result) in evaluator.eval_batch(&cases) {
        let case = cases.get(&id);
        match result.and_then(|o| o.into_checked(&id)) {
            Ok(outcome) => {
                if let Some(case) = case
                    && case.context == Context::System
                    && let [feature] = &case.features[..]
                    && catalog
                        .get(feature)
                        .and_then(|f| f.meta.systems.first())
                        .is_some_and(|s| s.as_str() == case.system)
                {
                    systems.insert(feature.clone(), outcome.clone());
                }
                let host = outcome.config["networking.hostName"].as_str();
                if let (Some(case), Some(host)) = (case, host)
                    && let Some(node) = &case.node
                {
                    host_names.insert((case.features.join(","), node.clone()), host.to_owned());
                }
                drops.extend(outcome.drops.into_iter().map(|d| (id.clone(), d)));
                // A value that applies only in test VMs still never applies
                // on a real machine: only systems and VMs count as applying.
                if case.is_none_or(|c| c.context != Context::Test) {
                    applied.extend(outcome.applied);
                }
                continue;
            }
            Err(EvalError::Nix(failure)) => {
                let same = |f: &&mut NixFailure| {
                    (&f.file, &f.option, &f.message)
                        == (&failure.file, &failure.option, &failure.message)
                };
                match shared.iter_mut().find(same) {
                    Some(group) => {
                        group.case = format!("{}`, `{}", group.case, failure.case);
                        group.features.extend(failure.features);
                        group.features.sort();
                        group.features.dedup();
                    }
                    None => shared.push(*failure),
                }
            }
            Err(e) => details.push(e.to_string()),
        }
        if let Some(feature) = case.and_then(|c| c.features.first()) {
            failed_features.insert(feature.clone());
        }
    }
    details.extend(shared.iter().map(ToString::to_string));
    // Every failed feature is a wanted one.
    let features = catalog.features().filter(|f| wanted(&f.name)).count();
    let evaluated = features - failed_features.len();
    let summary = format!(
        "{evaluated}/{features} features against the NixOS contract ({} cases: systems, VMs, VM-test nodes)",
        cases.len()
    );
    let mut tier = Tier::from_problems(NAME, summary, details);
    tier.warnings = silent_drops(project, drops, &applied);
    let tests = tests
        .into_iter()
        .filter(|(feature, _)| wanted(feature))
        .map(|(feature, test)| {
            let hosts = test
                .nodes
                .iter()
                .map(|node| {
                    let host = host_names.get(&(feature.clone(), node.clone()));
                    host.unwrap_or(node).clone()
                })
                .collect();
            (feature, (test, hosts))
        })
        .collect();
    (tier, evaluated, Some(tests), systems)
}

/// Every systemd service of every feature (each alone, as the module-eval
/// tier evaluated it on its first system), scored by systemd-analyze and
/// held to its ceiling and, when sandboxed, to the profile's promises.
fn audit(project: &Project, catalog: &Catalog, systems: &BTreeMap<String, Outcome>) -> Tier {
    const NAME: &str = "audit";
    let analyzer = match dominix_audit::Analyzer::probe() {
        Ok(analyzer) => analyzer,
        Err(dominix_audit::AuditError::Unavailable(reason)) => {
            return Tier::skipped(NAME, reason.skip_line());
        }
        Err(error) => return Tier::failed(NAME, error.to_string()),
    };
    let scratch = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return Tier::failed(NAME, format!("cannot create a temporary directory: {e}")),
    };
    let (mut details, mut scored) = (Vec::new(), 0);
    for (feature, outcome) in systems {
        let Some(dir) = camino::Utf8Path::from_path(scratch.path()).map(|d| d.join(feature)) else {
            return Tier::failed(NAME, "the temporary directory's path is not UTF-8");
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return Tier::failed(NAME, format!("cannot create {dir}: {e}"));
        }
        let features: Vec<String> = outcome.features.clone();
        let ceilings = crate::audit::ceilings(catalog, &features);
        match crate::audit::judge(&analyzer, project, outcome, None, &ceilings, &dir) {
            Ok(reports) => {
                scored += reports.iter().filter(|r| r.exposure.is_some()).count();
                for report in reports {
                    details.extend(report.problems.iter().map(|p| format!("{feature}: {p}")));
                }
            }
            Err(e) => details.push(format!("{feature}: {}", e.message)),
        }
    }
    let summary = format!(
        "{scored} unit(s) of {} features scored by systemd-analyze {}",
        systems.len(),
        analyzer.version
    );
    Tier::from_problems(NAME, summary, details)
}

/// A domi-nix definition that loses to nixpkgs' own definition wherever it is
/// active, and applies nowhere, is a value that never takes effect: said once
/// per file, option and attribute, naming both sides and the contexts.
fn silent_drops(
    project: &Project,
    drops: Vec<(String, Drop)>,
    applied: &BTreeSet<Applied>,
) -> Vec<String> {
    let root = format!("{}/", project.root);
    type Subject = (String, Option<String>, String);
    let mut grouped: BTreeMap<Subject, (Drop, Vec<String>)> = BTreeMap::new();
    for (case, drop) in drops {
        for file in &drop.files {
            let applies = applied.contains(&Applied {
                option: drop.option.clone(),
                key: drop.key.clone(),
                file: file.clone(),
            });
            if applies {
                continue;
            }
            let entry = grouped
                .entry((file.clone(), drop.key.clone(), drop.option.clone()))
                .or_insert_with(|| (drop.clone(), Vec::new()));
            entry.1.push(case.clone());
        }
    }
    grouped
        .into_iter()
        .map(|((file, key, option), (drop, cases))| {
            let file = file.strip_prefix(&root).unwrap_or(&file);
            let what = key.map_or(format!("`{option}`"), |key| format!("`{option}.\"{key}\"`"));
            format!(
                "warning: {file} defines {what} with priority {} but it never applies: nixpkgs' {} \
                 define{} it with priority {} (lower wins), in {}.\n\
                 Fix: give the definition in {file} a priority of at most {} (a plain definition is 100, \
                 `lib.mkForce` 50; for a list or `lines` option the same priority as nixpkgs' makes both merge), \
                 or remove it.",
                drop.priority,
                drop.nixpkgs.join(", "),
                if drop.nixpkgs.len() == 1 { "s" } else { "" },
                drop.nixpkgs_priority,
                cases.join("; "),
                drop.nixpkgs_priority,
            )
        })
        .collect()
}
