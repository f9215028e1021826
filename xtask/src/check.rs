//! `cargo xtask check`: the static tier and module evaluation of every feature.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use dominix::{Catalog, Profile, RenderOptions, Selection, trunk_flake};
use dominix_eval::{Applied, Case, Context, Drop, EvalError, Evaluator, NixFailure};
use serde::Serialize;
use xshell::Shell;

use crate::nix::NixCommand;
use crate::test_scripts::{self, Lint, VmTests};
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
    fn from_problems(name: &'static str, summary: String, details: Vec<String>) -> Tier {
        let status = if details.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        };
        Tier {
            name,
            status,
            summary,
            details,
            warnings: Vec::new(),
        }
    }

    fn skipped(name: &'static str, reason: String) -> Tier {
        let status = if dominix_eval::skip::required() {
            Status::Failed
        } else {
            Status::Skipped
        };
        Tier {
            name,
            status,
            summary: String::new(),
            details: vec![reason],
            warnings: Vec::new(),
        }
    }
}

impl crate::flags::Check {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        run(sh, project, self.json, self.changed_since.as_deref())
    }
}

fn run(sh: &Shell, project: &Project, json: bool, changed_since: Option<&str>) -> Result<()> {
    let catalog = project.catalog()?;
    // `--changed-since REV`: module evaluation keeps only the branches the change can affect.
    let selected = match changed_since {
        Some(rev) => Some((rev, changed::since(&project.root, rev, &catalog)?)),
        None => None,
    };
    let mut files = fmt::nix_files(&project.root)?;
    // The static tiers too cover only what the change can affect: the
    // selected branches' files and the changed files.
    if let Some((_, s)) = &selected
        && s.everything.is_none()
    {
        let dirs: Vec<&Utf8Path> = s
            .features
            .iter()
            .filter_map(|name| catalog.get(name))
            .map(|f| f.dir.as_path())
            .collect();
        files.retain(|file| {
            let relative = file.strip_prefix(&project.root).unwrap_or(file);
            dirs.iter().any(|d| relative.starts_with(d)) || s.paths.contains(relative.as_str())
        });
    }

    let mut tiers = vec![metadata(&catalog), resolution(&catalog)];
    match dominix_nix::available() {
        Ok(_) => {
            tiers.push(parse(project, &files));
            tiers.push(trunks(
                project,
                &catalog,
                selected.as_ref().map(|(_, s)| s),
            )?);
        }
        // Absent: these tiers cannot run here (a skip). Present but broken:
        // they ran and failed.
        Err(error @ dominix_nix::NixError::NotFound { .. }) => {
            for tier in ["nix-parse", "trunks"] {
                tiers.push(Tier::skipped(tier, format!("SKIP {tier}: {error}")));
            }
        }
        Err(error) => {
            for tier in ["nix-parse", "trunks"] {
                let detail = error.to_string();
                tiers.push(Tier::from_problems(tier, String::new(), vec![detail]));
            }
        }
    }
    tiers.push(format(project, &files)?);
    tiers.push(deadnix(project, sh, &files));
    tiers.push(purity(project, &files)?);
    let only = selected.as_ref().map(|(_, s)| s);
    let (eval_tier, evaluated, tests) = module_eval(project, &catalog, only);
    tiers.push(eval_tier);
    tiers.push(match test_scripts::lint(sh, project, tests.as_ref()) {
        Lint::Skipped(line) => Tier::skipped("vm-tests", line),
        Lint::Ran { summary, problems } => Tier::from_problems("vm-tests", summary, problems),
    });

    let count = |s: Status| tiers.iter().filter(|t| t.status == s).count();
    let (passed, failed, skipped) = (
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Skipped),
    );
    let total = only.map_or(catalog.features().len(), |s| s.features.len());
    if json {
        let mut report = serde_json::json!({
            "tiers": tiers,
            "passed": passed, "failed": failed, "skipped": skipped,
            "module_eval": { "evaluated": evaluated, "features": total },
        });
        if let Some((rev, s)) = &selected {
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
        if let Some((rev, s)) = &selected {
            println!("{}", s.describe(rev));
        }
        println!("module-eval: {evaluated}/{total} features evaluated");
        println!("check: {passed} passed, {failed} failed, {skipped} skipped");
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "{failed} check tier(s) failed; see above"
        )))
    }
}

fn metadata(catalog: &Catalog) -> Tier {
    let details = catalog.problems().iter().map(ToString::to_string).collect();
    Tier::from_problems(
        "metadata",
        format!("{} features", catalog.features().len()),
        details,
    )
}

fn resolution(catalog: &Catalog) -> Tier {
    let mut details = Vec::new();
    for feature in catalog.features() {
        if let Err(e) = catalog.resolve(&Selection::features([feature.name.as_str()])) {
            details.push(format!("{}: {e}", feature.name));
        }
    }
    for profile in Profile::ALL {
        if let Err(e) = catalog.resolve(&Selection::profile(profile)) {
            details.push(format!("profile {profile}: {e}"));
        }
    }
    Tier::from_problems(
        "resolve",
        "every feature alone, and both profiles".to_owned(),
        details,
    )
}

fn parse(project: &Project, files: &[camino::Utf8PathBuf]) -> Tier {
    let details = nix::parse_files(files)
        .into_iter()
        .map(|(file, e)| {
            let relative = file.strip_prefix(&project.root).unwrap_or(file);
            let e = e.replace(&format!("{}/", project.root), "");
            format!("{relative}: {e}")
        })
        .collect();
    Tier::from_problems("nix-parse", format!("{} files", files.len()), details)
}

/// Every composed trunk (minimal, full, each feature alone — with
/// `--changed-since`, each selected feature alone) parses.
fn trunks(project: &Project, catalog: &Catalog, only: Option<&changed::Selected>) -> Result<Tier> {
    let dir = tempfile::tempdir()
        .map_err(|e| Failure::new(format!("cannot create a temporary directory: {e}")))?;
    let mut selections: Vec<(String, Selection)> = Profile::ALL
        .iter()
        .map(|p| (format!("profile {p}"), Selection::profile(*p)))
        .collect();
    selections.extend(
        catalog
            .features()
            .filter(|f| only.is_none_or(|s| s.everything.is_some() || s.features.contains(&f.name)))
            .map(|f| (f.name.clone(), Selection::features([f.name.as_str()]))),
    );
    let flake_ref = project.flake_ref();
    let mut written = Vec::new();
    for (i, (label, selection)) in selections.iter().enumerate() {
        let Ok(res) = catalog.resolve(selection) else {
            continue;
        }; // reported by `resolve`
        let opts = RenderOptions {
            flake_ref: flake_ref.clone(),
            system: compose::system_for(&res),
            command: "cargo xtask check".to_owned(),
        };
        let file = camino::Utf8PathBuf::from_path_buf(dir.path().join(format!("trunk-{i}.nix")))
            .map_err(|_| Failure::new("temporary path is not UTF-8"))?;
        std::fs::write(&file, trunk_flake(&res, &opts))
            .map_err(|e| Failure::new(format!("cannot write {file}: {e}")))?;
        written.push((file, label));
    }
    let files: Vec<camino::Utf8PathBuf> = written.iter().map(|(f, _)| f.clone()).collect();
    let details = nix::parse_files(&files)
        .into_iter()
        .map(|(file, e)| {
            let label = written
                .iter()
                .find(|(f, _)| f == file)
                .map_or("?", |(_, l)| l.as_str());
            format!("composed trunk for {label}: {e}")
        })
        .collect();
    Ok(Tier::from_problems(
        "trunks",
        format!("{} composed trunks", selections.len()),
        details,
    ))
}

fn format(project: &Project, files: &[Utf8PathBuf]) -> Result<Tier> {
    let found = fmt::unformatted(&project.root, files, false)?;
    let mut details = found.unparsable_lines();
    details.extend(
        found
            .unformatted
            .iter()
            .map(|f| format!("{f}: not formatted. Fix: run `cargo xtask fmt`")),
    );
    Ok(Tier::from_problems(
        "format",
        "alejandra".to_owned(),
        details,
    ))
}

/// Every branch file (under crates/) depends only on the repository and the
/// pinned inputs (see `purity`).
fn purity(project: &Project, files: &[camino::Utf8PathBuf]) -> Result<Tier> {
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
    Ok(Tier::from_problems(
        "purity",
        format!("{checked} branch files"),
        details,
    ))
}

fn deadnix(project: &Project, sh: &Shell, files: &[camino::Utf8PathBuf]) -> Tier {
    if !nix::available(sh, "deadnix") {
        return Tier::skipped(
            "deadnix",
            "SKIP deadnix: `deadnix` is not on PATH — `cargo install deadnix`".to_owned(),
        );
    }
    let output = NixCommand::tool("deadnix")
        .arg("--fail")
        .args(files)
        .current_dir(sh.current_dir())
        .run();
    let details = match output {
        Ok((status, _)) if status.success() => Vec::new(),
        Ok((_, out)) => vec![
            out.stdout
                .replace(&format!("{}/", project.root), "")
                .trim()
                .to_owned()
                + "\nFix: remove the unused bindings, or prefix them with `_`",
        ],
        Err(e) => vec![format!("cannot run deadnix: {e}")],
    };
    Tier::from_problems("deadnix", format!("{} files", files.len()), details)
}

/// Every feature's module, evaluated alone on the trunk in every context it
/// is built in (a system and its VM on each supported guest, and every node
/// of its VM test), plus the trunk alone, in one batched Nix process.
/// Returns the tier, how many features evaluated cleanly, and the VM tests
/// read on the way (for the test-script tier).
fn module_eval(
    project: &Project,
    catalog: &Catalog,
    only: Option<&changed::Selected>,
) -> (Tier, usize, Option<VmTests>) {
    let wanted = |name: &str| only.is_none_or(|s| s.features.contains(name));
    let evaluator = Evaluator::new(project.root.clone());
    if let Err(reason) = evaluator.preflight() {
        // A broken lock, or a Nix that is there but does not answer, is a
        // failure, never a skip.
        let tier = if reason.is_failure() {
            Tier::from_problems("module-eval", String::new(), vec![reason.to_string()])
        } else {
            Tier::skipped("module-eval", reason.skip_line())
        };
        return (tier, 0, None);
    }
    let tests = match evaluator.vm_tests() {
        Ok(tests) => tests,
        Err(e) => {
            let tier = Tier::from_problems("module-eval", String::new(), vec![e.to_string()]);
            return (tier, 0, None);
        }
    };
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for feature in catalog.features().filter(|f| wanted(&f.name)) {
        for system in &feature.meta.systems {
            let system = system.as_str();
            for context in [Context::System, Context::Vm] {
                let id = format!("{} [{context}, {system}]", feature.name);
                let case = Case::feature(&feature.name)
                    .in_context(context)
                    .on_system(system);
                owner.insert(id.clone(), feature.name.clone());
                cases.insert(id, case);
            }
            for node in tests.get(&feature.name).map_or(&[][..], |t| &t.nodes[..]) {
                let id = format!("{} [test node `{node}`, {system}]", feature.name);
                owner.insert(id.clone(), feature.name.clone());
                cases.insert(id, Case::test_node(&feature.name, node).on_system(system));
            }
        }
    }
    // The trunk alone only changes with nix-modules/ (or the lock).
    let trunk_contexts = if only.is_none_or(|s| s.everything.is_some()) {
        &[Context::System, Context::Vm][..]
    } else {
        &[]
    };
    for &context in trunk_contexts {
        cases.insert(
            format!("(trunk) [{context}]"),
            Case::default().in_context(context),
        );
    }
    let results = evaluator.eval_batch(&cases);
    let mut details = Vec::new();
    // One error shared by several cases (a syntax error in a fragment breaks
    // the whole top level) is reported once, naming every case it broke.
    let mut shared: Vec<NixFailure> = Vec::new();
    let mut failed_features = std::collections::BTreeSet::new();
    let mut drops: Vec<(String, Drop)> = Vec::new();
    let mut applied = std::collections::BTreeSet::new();
    // Each node's host name, which the test driver names its Python variable after.
    let mut host_names: BTreeMap<(String, String), String> = BTreeMap::new();
    for (id, result) in results {
        let ok = match result.and_then(|o| o.into_checked(&id)) {
            Ok(outcome) => {
                // A value that applies only in test VMs still never applies
                // on a real machine: only systems and VMs count as applying.
                let in_test = cases.get(&id).is_some_and(|c| c.context == Context::Test);
                if let (Some(case), Some(host)) = (
                    cases.get(&id),
                    outcome.config["networking.hostName"].as_str(),
                ) && let Some(node) = &case.node
                {
                    host_names.insert((case.features.join(","), node.clone()), host.to_owned());
                }
                drops.extend(outcome.drops.into_iter().map(|d| (id.clone(), d)));
                if !in_test {
                    applied.extend(outcome.applied);
                }
                true
            }
            Err(EvalError::Nix(failure)) => {
                let same = |f: &&mut NixFailure| {
                    (&f.file, &f.option, &f.message)
                        == (&failure.file, &failure.option, &failure.message)
                };
                match shared.iter_mut().find(same) {
                    Some(group) => {
                        group.case = format!("{}`, `{}", group.case, failure.case);
                        group.features.extend(failure.features.iter().cloned());
                        group.features.sort();
                        group.features.dedup();
                    }
                    None => shared.push(*failure),
                }
                false
            }
            Err(e) => {
                details.push(e.to_string());
                false
            }
        };
        if !ok {
            failed_features.insert(owner.get(&id).cloned().unwrap_or(id));
        }
    }
    details.extend(shared.iter().map(ToString::to_string));
    let evaluated = catalog
        .features()
        .filter(|f| wanted(&f.name) && !failed_features.contains(&f.name))
        .count();
    let summary = format!(
        "{evaluated}/{} features against the NixOS contract ({} cases: systems, VMs, VM-test nodes)",
        catalog.features().filter(|f| wanted(&f.name)).count(),
        cases.len()
    );
    let mut tier = Tier::from_problems("module-eval", summary, details);
    tier.warnings = silent_drops(project, drops, &applied);
    let tests = tests
        .into_iter()
        .filter(|(feature, _)| wanted(feature))
        .map(|(feature, test)| {
            let hosts = test
                .nodes
                .iter()
                .map(|node| {
                    host_names
                        .get(&(feature.clone(), node.clone()))
                        .cloned()
                        .unwrap_or_else(|| node.clone())
                })
                .collect();
            (feature, (test, hosts))
        })
        .collect();
    (tier, evaluated, Some(tests))
}

/// A domi-nix definition that loses to nixpkgs' own definition wherever it is
/// active, and applies nowhere, is a value that never takes effect: said once
/// per file, option and attribute, naming both sides and the contexts.
fn silent_drops(
    project: &Project,
    drops: Vec<(String, Drop)>,
    applied: &std::collections::BTreeSet<Applied>,
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
            let what = match &key {
                Some(key) => format!("`{option}.\"{key}\"`"),
                None => format!("`{option}`"),
            };
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
