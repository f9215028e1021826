//! The matrix's offline levels, per feature × system: `static` (the static
//! tiers of `check` on the branch's own files) and `module-eval` (its
//! module evaluated against the NixOS contract), each batched as `check`
//! batches them — one `nix-instantiate --parse` for every file and composed
//! trunk, one deadnix, one evaluator process for every case.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};
use dominix::{Catalog, RenderOptions, Selection, System, trunk_flake};
use dominix_eval::{Case, Context, Evaluator};

use crate::cells::{Cell, Level, Status};
use crate::nix::NixCommand;
use crate::{Project, fmt, nix};

/// Ends every pending `static` cell of `cells`.
pub fn run_static(project: &Project, catalog: &Catalog, cells: &mut [Cell]) {
    let started = Instant::now();
    let wanted: BTreeSet<String> = cells
        .iter()
        .filter(|c| c.level == Level::Static && c.is_pending())
        .map(|c| c.feature.clone())
        .collect();
    if wanted.is_empty() {
        return;
    }
    let root = &project.root;
    let all = match fmt::nix_files(root) {
        Ok(files) => files,
        Err(e) => {
            for c in cells
                .iter_mut()
                .filter(|c| c.level == Level::Static && c.is_pending())
            {
                c.end(Status::Failed, e.message.clone());
            }
            return;
        }
    };
    let files_of = |feature: &str| -> Vec<Utf8PathBuf> {
        let Some(f) = catalog.get(feature) else {
            return Vec::new();
        };
        all.iter()
            .filter(|file| file.strip_prefix(root).is_ok_and(|r| r.starts_with(&f.dir)))
            .cloned()
            .collect()
    };
    let mut problems: BTreeMap<(String, Option<String>), Vec<String>> = BTreeMap::new();
    let mut files: Vec<Utf8PathBuf> = Vec::new();
    let mut owner: BTreeMap<Utf8PathBuf, String> = BTreeMap::new();
    for feature in &wanted {
        for file in files_of(feature) {
            owner.insert(file.clone(), feature.clone());
            files.push(file);
        }
    }
    // Each feature alone on each system: it resolves, and its composed trunk parses.
    let dir = tempfile::tempdir().ok();
    let mut trunks: BTreeMap<Utf8PathBuf, (String, String)> = BTreeMap::new();
    for cell in cells
        .iter()
        .filter(|c| c.level == Level::Static && c.is_pending())
    {
        let Ok(system) = cell.system.parse::<System>() else {
            continue;
        };
        let selection = Selection::features([cell.feature.as_str()]).with_system(system);
        let key = (cell.feature.clone(), Some(cell.system.clone()));
        match catalog.resolve(&selection) {
            Err(e) => problems
                .entry(key)
                .or_default()
                .push(format!("resolve: {e}")),
            Ok(res) => {
                let Some(dir) = &dir else { continue };
                let opts = RenderOptions {
                    flake_ref: project.flake_ref(),
                    system,
                    command: "cargo xtask matrix".to_owned(),
                };
                let path = dir
                    .path()
                    .join(format!("{}-{}.nix", cell.feature, cell.system));
                if let Ok(path) = Utf8PathBuf::from_path_buf(path)
                    && std::fs::write(&path, trunk_flake(&res, &opts)).is_ok()
                {
                    trunks.insert(path, (cell.feature.clone(), cell.system.clone()));
                }
            }
        }
    }
    let nix_here = dominix_nix::available();
    let mut notes: Vec<String> = Vec::new();
    match &nix_here {
        Ok(_) => {
            let mut parse: Vec<Utf8PathBuf> = files.clone();
            parse.extend(trunks.keys().cloned());
            for (file, error) in nix::parse_files(&parse) {
                let error = error.replace(&format!("{root}/"), "");
                if let Some((feature, system)) = trunks.get(file) {
                    let key = (feature.clone(), Some(system.clone()));
                    problems
                        .entry(key)
                        .or_default()
                        .push(format!("composed trunk: {error}"));
                } else if let Some(feature) = owner.get(file) {
                    problems
                        .entry((feature.clone(), None))
                        .or_default()
                        .push(error);
                }
            }
        }
        Err(e) => notes.push(format!("nix-parse skipped: {e}")),
    }
    match fmt::unformatted(root, &files, false) {
        Ok(found) => {
            for relative in &found.unformatted {
                let file = root.join(relative);
                if let Some(feature) = owner.get(&file) {
                    problems
                        .entry((feature.clone(), None))
                        .or_default()
                        .push(format!(
                            "{relative}: not formatted. Fix: run `cargo xtask fmt`"
                        ));
                }
            }
            for line in found.unparsable_lines() {
                if let Some(feature) = owner.iter().find(|(f, _)| {
                    line.starts_with(f.strip_prefix(root).map_or("", |r| r.as_str()))
                }) {
                    problems
                        .entry((feature.1.clone(), None))
                        .or_default()
                        .push(line);
                }
            }
        }
        Err(e) => notes.push(e.message),
    }
    for (file, feature) in &owner {
        let relative = file.strip_prefix(root).unwrap_or(file);
        if let Ok(text) = std::fs::read_to_string(file) {
            let found = crate::purity::findings(relative, &text);
            problems
                .entry((feature.clone(), None))
                .or_default()
                .extend(found);
        }
    }
    if nix::available_tool(root, "deadnix") {
        for feature in &wanted {
            let mine: Vec<&Utf8PathBuf> = owner
                .iter()
                .filter(|(_, f)| *f == feature)
                .map(|(p, _)| p)
                .collect();
            if let Some(problem) = deadnix(root, &mine) {
                problems
                    .entry((feature.clone(), None))
                    .or_default()
                    .push(problem);
            }
        }
    } else {
        notes
            .push("deadnix skipped: `deadnix` is not on PATH — `cargo install deadnix`".to_owned());
    }
    let seconds = started.elapsed().as_secs_f64();
    for cell in cells
        .iter_mut()
        .filter(|c| c.level == Level::Static && c.is_pending())
    {
        let mut found: Vec<String> = Vec::new();
        for key in [
            (cell.feature.clone(), None),
            (cell.feature.clone(), Some(cell.system.clone())),
        ] {
            found.extend(problems.get(&key).into_iter().flatten().cloned());
        }
        cell.seconds = seconds;
        if found.is_empty() {
            cell.end(Status::Passed, notes.join("; "));
        } else {
            cell.end(Status::Failed, found.join("\n"));
        }
    }
}

/// deadnix over `files`; its findings, when there are any.
fn deadnix(root: &Utf8Path, files: &[&Utf8PathBuf]) -> Option<String> {
    if files.is_empty() {
        return None;
    }
    let run = NixCommand::tool("deadnix")
        .arg("--fail")
        .args(files)
        .current_dir(root)
        .run();
    match run {
        Ok((status, _)) if status.success() => None,
        Ok((_, out)) => Some(format!(
            "{}\nFix: remove the unused bindings, or prefix them with `_`",
            out.stdout.replace(&format!("{root}/"), "").trim()
        )),
        Err(e) => Some(format!("cannot run deadnix: {e}")),
    }
}

/// Ends every pending `module-eval` cell: each feature on each system, as
/// a system, its VM and every node of its VM test, in one Nix process.
pub fn run_module_eval(project: &Project, cells: &mut [Cell]) {
    let started = Instant::now();
    let mine = |c: &Cell| c.level == Level::ModuleEval && c.is_pending();
    if !cells.iter().any(mine) {
        return;
    }
    let evaluator = Evaluator::new(project.root.clone());
    let fail_all = |cells: &mut [Cell], status: Status, message: String| {
        for c in cells.iter_mut().filter(|c| mine(c)) {
            c.end(status, message.clone());
        }
    };
    if let Err(reason) = evaluator.preflight() {
        let status = if reason.is_failure() {
            Status::Failed
        } else {
            Status::Skipped
        };
        return fail_all(cells, status, reason.to_string());
    }
    let tests = match evaluator.vm_tests() {
        Ok(tests) => tests,
        Err(e) => return fail_all(cells, Status::Failed, e.to_string()),
    };
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    let mut of_cell: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate().filter(|(_, c)| mine(c)) {
        let (name, system) = (&cell.feature, cell.system.as_str());
        let nodes = tests.get(name).map_or(&[][..], |t| &t.nodes[..]);
        let ids = of_cell.entry(i).or_default();
        for context in [Context::System, Context::Vm] {
            let id = format!("{name} [{context}, {system}]");
            cases.insert(
                id.clone(),
                Case::feature(name).in_context(context).on_system(system),
            );
            ids.push(id);
        }
        for node in nodes {
            let id = format!("{name} [test node `{node}`, {system}]");
            cases.insert(id.clone(), Case::test_node(name, node).on_system(system));
            ids.push(id);
        }
    }
    let results = evaluator.eval_batch(&cases);
    let seconds = started.elapsed().as_secs_f64();
    for (i, ids) in of_cell {
        let errors: Vec<String> = ids
            .iter()
            .filter_map(|id| match results.get(id)? {
                Ok(outcome) => outcome
                    .clone()
                    .into_checked(id)
                    .err()
                    .map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            })
            .collect();
        let cell = &mut cells[i];
        cell.seconds = seconds;
        if errors.is_empty() {
            cell.end(Status::Passed, format!("{} cases", ids.len()));
        } else {
            cell.end(Status::Failed, errors.join("\n"));
        }
    }
}
