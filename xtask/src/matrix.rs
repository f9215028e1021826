//! `cargo xtask matrix`: every feature × system × level cell, run in
//! parallel and cache-aware, with a table, JSON, JUnit and GitHub reports.
//!
//! Planning: the catalog's features (or `--features`, or those a change
//! since `--changed-since` can affect, by `check --changed-since`'s rule) ×
//! the Linux systems each supports × `--levels`. A cell this machine cannot
//! run is `skipped` with its reason and fix, never dropped: derivation
//! levels need Nix and the pinned nixpkgs in the store, `build` a machine
//! that builds the system, `vm-test` KVM for it (xtask/src/kvm.rs).
//!
//! Running: the offline levels (`levels.rs`) on threads of their own while
//! the derivation levels (`runner.rs`) evaluate everything in one Nix,
//! skip what is cached and build the rest in one Nix. Ctrl-C stops every
//! Nix child (its process group) and the partial report is still written.
//!
//! `--checks-flake REF` (hidden; the tests and `bench` use it) makes the
//! cells the `checks.<system>.<name>` of another flake, at the levels
//! `system-eval` and `build`, through the same runner.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use camino::Utf8PathBuf;
use dominix::System;
use dominix_nix::builds::{self, BuildOptions};
use serde_json::json;
use xshell::Shell;

use crate::cells::{self, Cell, Level, Status};
use crate::flags::Emit;
use crate::{Failure, Project, Result, changed, fsx, kvm, levels, nix, report, runner};

/// The GitHub runner of each system's jobs, and whether KVM is a must there.
fn runner_of(system: &str) -> (&'static str, &'static str) {
    match system {
        "aarch64-linux" => ("ubuntu-24.04-arm", "optional"),
        _ => ("ubuntu-24.04", "required"),
    }
}

impl crate::flags::Matrix {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        // Ctrl-C (and TERM, HUP): every running Nix is stopped with its
        // process group; what finished is still reported. A second one
        // ends the xtask at once (exit 1).
        for signal in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ] {
            let flag = dominix_nix::interrupt_flag();
            signal_hook::flag::register_conditional_shutdown(
                signal,
                1,
                std::sync::Arc::clone(&flag),
            )
            .and_then(|_| signal_hook::flag::register(signal, flag))
            .map_err(|e| {
                Failure::new(format!(
                    "cannot watch for interrupts (signal {signal}): {e}"
                ))
            })?;
        }
        let started = Instant::now();
        let levels: Vec<Level> = if self.levels.is_empty() {
            Level::ALL.to_vec()
        } else {
            let set: BTreeSet<Level> = self.levels.iter().copied().collect();
            set.into_iter().collect()
        };
        let options = self.build_options()?;
        let probe = kvm::Probe::new(sh)?.with_builders(options.builders.as_deref());
        let mut plan = match &self.checks_flake {
            Some(flake) => plan_checks(flake, self.system, &levels)?,
            None => plan_catalog(project, &self, &levels)?,
        };
        skip_what_cannot_run(project, &mut plan, &probe, self.dry_run);
        if let Some(spec) = &options.builders
            && !self.dry_run
            && plan
                .cells
                .iter()
                .any(|c| c.is_pending() && c.level.builds())
        {
            check_builders(spec)?;
        }
        // Asked of Nix only when `--substituters` does not replace them.
        let configured_substituters = if options.substituters.is_none()
            && plan
                .cells
                .iter()
                .any(|c| c.is_pending() && c.level.builds())
        {
            probe.substituters()
        } else {
            Vec::new()
        };
        let runner_options = runner::Options {
            build: options,
            rebuild: self.rebuild,
            copy_to: self.copy_to.clone(),
            sequential: self.sequential,
            dry_run: self.dry_run,
            work_dir: project.target_dir().join("matrix"),
            configured_substituters,
        };
        let outcome = execute(project, &mut plan, &runner_options, self.emit.is_some())?;

        // Ended by an interrupt: what did not finish says so.
        let interrupted = dominix_nix::interrupted();
        if interrupted {
            for cell in &mut plan.cells {
                if cell.is_pending() || cell.message.contains("stopped by an interrupt") {
                    cell.end(Status::Interrupted, "interrupted before it finished");
                }
            }
        }
        plan.cells.sort_by(|a, b| {
            (a.level, &a.system, &a.feature).cmp(&(b.level, &b.system, &b.feature))
        });
        let cells = &plan.cells;
        let counts = cells::counts(cells);
        let summary = summary_line(&counts);
        let report = json!({
            "flake": plan.flake,
            "levels": levels,
            "dry_run": self.dry_run,
            "seconds": started.elapsed().as_secs_f64(),
            "cells": cells,
            "passed": counts["passed"],
            "cached": counts["cached"],
            "failed": counts["failed"],
            "timed_out": counts["timed-out"],
            "skipped": counts["skipped"],
            "listed": counts["listed"],
            "interrupted": counts["interrupted"],
            "commands": outcome.commands,
            "problems": outcome.problems,
            "changed_since": plan.changed,
            "github": github_matrix(cells, self.split),
        });
        let to_stdout = self.json.as_ref().is_some_and(|p| p.as_str() == "-");
        let table = report::table(cells);
        if to_stdout {
            eprint!("{table}");
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{table}");
        }
        if let Some(path) = self.json.as_ref().filter(|p| p.as_str() != "-") {
            fsx::write_atomic(path, &serde_json::to_string_pretty(&report)?)?;
        }
        if let Some(path) = &self.junit {
            fsx::write_atomic(path, &report::junit(cells))?;
        }
        if let Some(Emit::Github) = self.emit {
            let summary_file = std::env::var("GITHUB_STEP_SUMMARY")
                .ok()
                .map(Utf8PathBuf::from);
            print!("{}", report::github(cells, &summary, summary_file)?);
        }
        let say = |line: &str| {
            if to_stdout {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        };
        if let Some(text) = plan.changed_text() {
            say(&text);
        }
        say(&summary);
        for problem in &outcome.problems {
            eprintln!("error: {problem}");
        }
        if interrupted {
            return Err(Failure::new(
                "interrupted: every Nix process was stopped; the report above (and --json/--junit) has what finished",
            ));
        }
        let failed = cells.iter().filter(|c| c.status.is_failure()).count();
        crate::ensure(failed == 0 && outcome.problems.is_empty(), || {
            if failed == 0 {
                "the matrix's cells passed, but the run had problems (above)".to_owned()
            } else {
                format!("{failed} matrix cell(s) failed or timed out; see the report above")
            }
        })
    }

    /// The pass-through options, checked.
    fn build_options(&self) -> Result<BuildOptions> {
        let p = &self.nix;
        if p.eval_store.is_some() && p.store.is_none() {
            return Err(Failure::usage(
                "--eval-store only means something with --store (where builds run). Fix: add `--store ssh-ng://<host>`, or drop --eval-store",
            ));
        }
        Ok(BuildOptions {
            builders: p.builders.clone(),
            store: p.store.clone(),
            eval_store: p.eval_store.clone(),
            substituters: p.substituters.clone(),
            trusted_public_keys: p.trusted_public_keys.clone(),
            max_jobs: Some(self.jobs.clone().unwrap_or_else(|| "auto".to_owned())),
            build_timeout: self.cell_timeout,
        })
    }
}

/// `matrix: 3 passed, 1 cached, 1 failed, …` (zero counts of the rarer states left out).
fn summary_line(counts: &BTreeMap<&'static str, usize>) -> String {
    let mut parts: Vec<String> = ["passed", "cached", "failed", "timed-out", "skipped"]
        .iter()
        .map(|s| format!("{} {s}", counts[s]))
        .collect();
    for rare in ["listed", "interrupted"] {
        if counts[rare] > 0 {
            parts.push(format!("{} {rare}", counts[rare]));
        }
    }
    format!("matrix: {}", parts.join(", "))
}

/// The cells and what they were planned from.
struct Plan {
    /// The flake the derivation levels evaluate.
    flake: String,
    cells: Vec<Cell>,
    /// What `--changed-since` selected.
    changed: Option<serde_json::Value>,
    changed_description: Option<String>,
    /// Whether the cells come from a checks flake (not the catalog).
    checks: bool,
}

impl Plan {
    fn changed_text(&self) -> Option<String> {
        self.changed_description.clone()
    }
}

/// The catalog's cells: feature × system × level.
fn plan_catalog(project: &Project, flags: &crate::flags::Matrix, levels: &[Level]) -> Result<Plan> {
    let catalog = project.valid_catalog()?;
    let systems = flags.system.map_or(System::ALL.to_vec(), |s| vec![s]);
    for name in &flags.features {
        if catalog.get(name).is_none() {
            return Err(Failure::usage(
                dominix::ResolveError::UnknownFeature {
                    name: name.clone(),
                    suggestion: catalog.suggest(name),
                    known: catalog.names().map(str::to_owned).collect(),
                }
                .to_string(),
            ));
        }
    }
    let (mut changed, mut changed_description) = (None, None);
    let mut wanted: Option<BTreeSet<String>> =
        (!flags.features.is_empty()).then(|| flags.features.iter().cloned().collect());
    if let Some(rev) = &flags.changed_since {
        let selected = changed::since(&project.root, rev, &catalog)?;
        changed_description = Some(selected.describe(rev));
        changed = Some(json!({
            "rev": rev, "features": selected.features, "changed": selected.changed,
            "everything": selected.everything, "skipped": selected.skipped(),
        }));
        wanted = Some(match wanted {
            Some(w) => w.intersection(&selected.features).cloned().collect(),
            None => selected.features.clone(),
        });
    }
    let mut cells = Vec::new();
    for system in systems {
        for feature in catalog.features().filter(|f| f.supports(system)) {
            if wanted.as_ref().is_some_and(|w| !w.contains(&feature.name)) {
                continue;
            }
            for &level in levels {
                let mut cell = Cell::new(&feature.name, system.as_str(), level);
                let (s, f) = (
                    dominix::nix::string_literal(system.as_str()),
                    dominix::nix::string_literal(&feature.name),
                );
                match level {
                    Level::VmTest => {
                        cell.attr = Some(format!("checks.{system}.{}", feature.name));
                        cell.expr = Some(format!("flake.checks.{s}.{f}"));
                    }
                    Level::SystemEval | Level::Build => {
                        cell.expr = Some(format!(
                            "(flake.lib.mkSystem {{system = {s}; features = [{f}];}}).config.system.build.toplevel"
                        ));
                    }
                    Level::Static | Level::ModuleEval => {}
                }
                cells.push(cell);
            }
        }
    }
    Ok(Plan {
        flake: project.flake_ref(),
        cells,
        changed,
        changed_description,
        checks: false,
    })
}

/// A checks flake's cells: every `checks.<system>.<name>`, at `system-eval`
/// and `build` (the other levels are the catalog's).
fn plan_checks(flake: &str, system: Option<System>, levels: &[Level]) -> Result<Plan> {
    let levels: Vec<Level> = levels
        .iter()
        .copied()
        .filter(|l| matches!(l, Level::SystemEval | Level::Build))
        .collect();
    if levels.is_empty() {
        return Err(Failure::usage(
            "a checks flake's cells have the levels system-eval and build only. Fix: pass `--levels system-eval,build` (or drop --levels)",
        ));
    }
    let names = builds::check_names(flake).output().map_err(|e| {
        Failure::new(format!(
            "cannot list the checks of {flake}: {e}. Fix: pass a flake with a `checks.<system>.<name>` output"
        ))
    })?;
    let names: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&names.stdout).map_err(|e| {
            Failure::new(format!(
                "the checks of {flake} are not systems of names ({e})"
            ))
        })?;
    let mut cells = Vec::new();
    for (sys, checks) in &names {
        if system.is_some_and(|s| s.as_str() != sys) {
            continue;
        }
        for name in checks {
            for &level in &levels {
                let mut cell = Cell::new(name, sys, level);
                cell.attr = Some(format!("checks.{sys}.{name}"));
                cell.expr = Some(format!(
                    "flake.checks.{}.{}",
                    dominix::nix::attr_name(sys),
                    dominix::nix::attr_name(name)
                ));
                cells.push(cell);
            }
        }
    }
    Ok(Plan {
        flake: flake.to_owned(),
        cells,
        changed: None,
        changed_description: None,
        checks: true,
    })
}

/// Ends as `skipped` every cell this machine cannot run, with why and the fix.
fn skip_what_cannot_run(project: &Project, plan: &mut Plan, probe: &kvm::Probe<'_>, dry_run: bool) {
    let derivations = plan.cells.iter().any(|c| c.level.needs_derivation());
    let nix = derivations.then(dominix_nix::available);
    let nixpkgs = match (&nix, plan.checks) {
        (Some(Ok(_)), false) => nixpkgs_missing(project),
        _ => None,
    };
    for cell in &mut plan.cells {
        if dry_run && !cell.level.needs_derivation() {
            cell.end(Status::Listed, "");
            continue;
        }
        if !cell.level.needs_derivation() {
            continue;
        }
        if let Some(Err(e)) = &nix {
            cell.end(Status::Skipped, format!("{} needs Nix: {e}", cell.level));
            continue;
        }
        if let Some(reason) = &nixpkgs {
            cell.end(
                Status::Skipped,
                format!("{} needs full nixpkgs: {reason}", cell.level),
            );
            continue;
        }
        let system = cell.system.parse::<System>().ok();
        let skip = match (cell.level, system) {
            // The KVM probe knows builders and extra platforms too.
            (Level::VmTest, Some(system)) => probe.skip(system),
            (Level::Build, Some(system)) => probe.skip_build(system),
            (Level::Build | Level::VmTest, None) if cell.system != nix::host_system() => {
                Some(kvm::Skip {
                    reason: format!("{} derivations are not built by this matrix", cell.system),
                    fix: "run it on a machine of that system".to_owned(),
                })
            }
            _ => None,
        };
        if let Some(skip) = skip {
            eprintln!("SKIP {}: {skip}", cell.id());
            cell.end(Status::Skipped, skip.to_string());
        }
    }
}

/// Why the pinned nixpkgs is not usable here, if it is not: its locked
/// source must be in the store (`cargo xtask seed` puts it there).
fn nixpkgs_missing(project: &Project) -> Option<String> {
    let lock = match dominix_eval::Lock::read(&project.root.join("flake.lock")) {
        Ok(lock) => lock,
        Err(e) => return Some(e.to_string()),
    };
    let input = match lock.input("nixpkgs") {
        Ok(input) => input,
        Err(e) => return Some(e.to_string()),
    };
    let fix = format!(
        "the pinned nixpkgs ({}) is not in the Nix store. Fix: `cargo xtask seed --all` where GitHub is reachable, \
         or `cargo xtask seed nixpkgs --from <a checkout of {}>`",
        input.short_rev(),
        input.url()
    );
    let path = dominix_nix::NixCommand::store()
        .args([
            "--print-fixed-path",
            "--recursive",
            "sha256",
            &input.nar_hash,
            "source",
        ])
        .output();
    let Ok(path) = path else {
        return Some(fix);
    };
    let path = path.stdout.trim().to_owned();
    let valid = builds::path_info(&[&path], None)
        .output()
        .ok()
        .and_then(|out| builds::valid_paths(&out.stdout).ok());
    match valid {
        Some(valid) if valid.contains(&path) => None,
        _ => Some(fix),
    }
}

/// Checks `--builders` before any build: the spec as Nix parses it, then
/// each machine reachable (`nix store ping`, Nix's own message if not).
fn check_builders(spec: &str) -> Result<()> {
    kvm::check_builders(spec).map_err(|e| {
        Failure::usage(format!(
            "--builders: {e}. Fix: write each machine as `URI SYSTEMS [SSH-KEY MAX-JOBS SPEED FEATURES MANDATORY HOST-KEY]`, \
             `-` for a default (https://nix.dev/manual/nix/latest/advanced-topics/distributed-builds)"
        ))
    })?;
    for uri in kvm::builder_uris(spec) {
        let ping = builds::store_ping(&uri).timeout(Some(std::time::Duration::from_secs(60)));
        if let Err(e) = ping.output() {
            let nix = e
                .stderr()
                .map(|s| dominix_nixlog::strip_ansi(s.trim()))
                .unwrap_or_else(|| e.to_string());
            return Err(Failure::new(format!(
                "--builders: Nix cannot reach the builder {uri}: {nix}. Fix: check the host name, that `ssh {}` works for \
                 the user Nix builds as (root, with a daemon) without a prompt, and that Nix is installed there; or drop it from --builders",
                uri.split("://").nth(1).unwrap_or(&uri)
            )));
        }
    }
    Ok(())
}

/// Runs the plan: the offline levels on threads of their own, the
/// derivation levels here.
fn execute(
    project: &Project,
    plan: &mut Plan,
    options: &runner::Options,
    github: bool,
) -> Result<runner::Outcome> {
    let (mut offline_static, mut offline_eval, mut rest): (Vec<Cell>, Vec<Cell>, Vec<Cell>) =
        (Vec::new(), Vec::new(), Vec::new());
    for cell in plan.cells.drain(..) {
        match cell.level {
            Level::Static if cell.is_pending() => offline_static.push(cell),
            Level::ModuleEval if cell.is_pending() => offline_eval.push(cell),
            _ => rest.push(cell),
        }
    }
    let catalog = (!offline_static.is_empty())
        .then(|| project.valid_catalog())
        .transpose()?;
    let flake = plan.flake.clone();
    let outcome = std::thread::scope(|scope| {
        let statics = scope.spawn(|| {
            if let Some(catalog) = &catalog {
                levels::run_static(project, catalog, &mut offline_static);
            }
        });
        let evals = scope.spawn(|| levels::run_module_eval(project, &mut offline_eval));
        if github {
            println!("::group::matrix: derivations (evaluate, cache, build)");
        }
        let outcome = runner::run(&flake, &mut rest, options).unwrap_or_else(|e| {
            // Nix stopped answering: what it did not do fails, named.
            for cell in rest.iter_mut().filter(|c| c.is_pending()) {
                cell.end(Status::Failed, e.message.clone());
            }
            runner::Outcome::default()
        });
        if github {
            println!("::endgroup::");
        }
        let _ = statics.join();
        let _ = evals.join();
        outcome
    });
    plan.cells = offline_static
        .into_iter()
        .chain(offline_eval)
        .chain(rest)
        .collect();
    Ok(outcome)
}

/// The GitHub jobs for the cells that build: one per system (the features
/// and levels it runs), or with `--split` one per cell.
fn github_matrix(cells: &[Cell], split: bool) -> serde_json::Value {
    let building: Vec<&Cell> = cells.iter().filter(|c| c.level.builds()).collect();
    type Job = (BTreeSet<String>, BTreeSet<&'static str>);
    let mut jobs: BTreeMap<(String, String), Job> = BTreeMap::new();
    for cell in building {
        let key = (
            cell.system.clone(),
            if split {
                cell.feature.clone()
            } else {
                String::new()
            },
        );
        let entry = jobs.entry(key).or_default();
        entry.0.insert(cell.feature.clone());
        entry.1.insert(cell.level.as_str());
    }
    let include: Vec<serde_json::Value> = jobs
        .into_iter()
        .map(|((system, one), (features, levels))| {
            let (runner, kvm) = runner_of(&system);
            let features: Vec<String> = features.into_iter().collect();
            let levels: Vec<&str> = levels.into_iter().collect();
            let name = if one.is_empty() {
                system.clone()
            } else {
                format!("{system} {one}")
            };
            json!({
                "name": name,
                "system": system,
                "runner": runner,
                "kvm": kvm,
                "features": features.join(","),
                "levels": levels.join(","),
            })
        })
        .collect();
    json!({ "include": include })
}
