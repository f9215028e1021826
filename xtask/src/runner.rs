//! The cells that need a derivation (`system-eval`, `build`, `vm-test`, and
//! every cell of a checks flake), run as nix-fast-build runs a flake:
//!
//! 1. **Evaluate** every cell's derivation in one Nix process: a generated
//!    attribute set (`target/dominix/matrix/cells.nix`, one attribute per
//!    distinct expression, each in terms of `flake = builtins.getFlake REF`)
//!    read by `nix eval --json` through `eval.nix`, which returns each
//!    derivation's `drvPath` and outputs, or the error `tryEval` caught. When
//!    the whole batch fails (an error `tryEval` cannot catch), each cell is
//!    evaluated alone, so one broken cell never hides the others. With
//!    nix-eval-jobs on PATH, `nix-eval-jobs --check-cache-status` does
//!    evaluation and the cache query in one pass instead.
//! 2. **Cached?** A cell whose outputs are all valid in the store is
//!    `cached` (`nix path-info --json --no-substitute`, every cell in one
//!    call), then each substituter is asked the same of what is left; such
//!    a cell is not rebuilt (`--rebuild` builds it anyway).
//! 3. **Build** every other derivation in one `nix build --keep-going`
//!    (`--max-jobs`, and Nix's own `--timeout` as the cell timeout), with
//!    progress; then one `nix path-info` says which outputs exist. A cell
//!    whose outputs exist passed; one whose build Nix stopped after the cell
//!    timeout timed out; the others failed, with their last log lines.
//! 4. **Copy** what passed to `--copy-to` (`nix copy --to`).
//!
//! The catalog's cells and a test flake's go through the same code: the
//! flake reference and each cell's expression are parameters.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use dominix_nix::builds::{self, BuildOptions, Derivation};
use dominix_nix::{NixCommand, NixError};
use dominix_nixlog::{State, name_of};
use serde_json::Value;

use crate::cells::{Cell, Status};
use crate::{Failure, Result, fsx, progress};

/// How the derivation cells run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Passed to Nix: builders, stores, substituters, keys, jobs, timeout.
    pub build: BuildOptions,
    /// Build even what is already valid somewhere.
    pub rebuild: bool,
    /// Push the outputs of what passed here (`nix copy --to`).
    pub copy_to: Option<String>,
    /// One Nix process per cell, one cell after the other (evaluation,
    /// cache query and build each): the old matrix, kept for `bench`.
    pub sequential: bool,
    /// Evaluate and ask the caches, but build nothing.
    pub dry_run: bool,
    /// Where the generated Nix files go.
    pub work_dir: Utf8PathBuf,
    /// The substituters Nix is configured with (`nix show-config`), asked
    /// unless `build.substituters` replaces them.
    pub configured_substituters: Vec<String>,
}

/// What the run did besides the cells' states.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every Nix command run (or, in a dry run, that would run), as typed.
    pub commands: Vec<String>,
    /// Problems of the run as a whole (a copy that failed).
    pub problems: Vec<String>,
}

/// Runs every pending cell of `cells` whose level needs a derivation,
/// against the flake `flake`.
pub fn run(flake: &str, cells: &mut [Cell], options: &Options) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let pending: Vec<usize> = (0..cells.len())
        .filter(|&i| cells[i].is_pending() && cells[i].level.needs_derivation())
        .collect();
    if pending.is_empty() {
        return Ok(outcome);
    }
    if options.sequential {
        for i in pending {
            run_batch(flake, cells, &[i], options, &mut outcome)?;
        }
    } else {
        run_batch(flake, cells, &pending, options, &mut outcome)?;
    }
    Ok(outcome)
}

fn run_batch(
    flake: &str,
    cells: &mut [Cell],
    batch: &[usize],
    options: &Options,
    outcome: &mut Outcome,
) -> Result<()> {
    let started = Instant::now();
    // 1. Evaluate each distinct expression once.
    let mut exprs: BTreeMap<String, String> = BTreeMap::new();
    let mut key_of: BTreeMap<usize, String> = BTreeMap::new();
    for &i in batch {
        let Some(expr) = cells[i].expr.clone() else {
            cells[i].end(
                Status::Failed,
                "no expression to evaluate (a bug in the matrix plan)",
            );
            continue;
        };
        let next = format!("c{}", exprs.len());
        let key = exprs.entry(expr).or_insert(next).clone();
        key_of.insert(i, key);
    }
    let by_key: BTreeMap<String, String> =
        exprs.iter().map(|(e, k)| (k.clone(), e.clone())).collect();
    let evaluated = evaluate(flake, &by_key, options, outcome)?;
    let eval_seconds = started.elapsed().as_secs_f64();
    let mut to_check: Vec<usize> = Vec::new();
    for (&i, key) in &key_of {
        let cell = &mut cells[i];
        cell.seconds = eval_seconds;
        match evaluated.get(key) {
            Some(Ok(found)) => {
                cell.drv = Some(found.derivation.drv_path.clone());
                cell.outputs = found.derivation.outputs.clone();
                if let Some(place) = &found.cached {
                    cell.cached = Some(place.clone());
                }
                if !cell.level.builds() {
                    let status = if options.dry_run {
                        Status::Listed
                    } else {
                        Status::Passed
                    };
                    cell.end(status, "");
                } else {
                    to_check.push(i);
                }
            }
            Some(Err(message)) => cell.end(
                Status::Failed,
                format!("evaluation failed: {message}{}", fetch_hint(message)),
            ),
            None => cell.end(Status::Failed, "evaluation gave no answer for this cell"),
        }
    }
    // 2. What is already built, locally or in a cache.
    if !options.rebuild {
        let unknown: Vec<usize> = to_check
            .iter()
            .copied()
            .filter(|&i| cells[i].cached.is_none())
            .collect();
        cache_status(cells, &unknown, options, outcome);
    }
    let mut to_build = Vec::new();
    for i in to_check {
        let cell = &mut cells[i];
        match (&cell.cached, options.rebuild, options.dry_run) {
            (Some(_), false, true) => cell.end(Status::Listed, "cached: would not be rebuilt"),
            (Some(place), false, false) => {
                let place = place.clone();
                cell.end(
                    Status::Cached,
                    format!("already built ({place}): not rebuilt"),
                );
            }
            (_, _, true) => {
                cell.end(Status::Listed, "would be built");
                to_build.push(i);
            }
            _ => to_build.push(i),
        }
    }
    // 3. Build everything else in one Nix.
    let mut drvs: Vec<String> = to_build
        .iter()
        .filter_map(|&i| cells[i].drv.clone())
        .collect();
    drvs.sort();
    drvs.dedup();
    let version = dominix_nix::version();
    let installables: Vec<String> = drvs
        .iter()
        .map(|d| builds::drv_installable(d, version))
        .collect();
    if options.dry_run {
        if !installables.is_empty() {
            let command = builds::build_all(&installables, &options.build);
            outcome.commands.push(command.display());
        }
        return Ok(());
    }
    if !installables.is_empty() {
        build(cells, &to_build, &installables, options, outcome);
    }
    // 4. Push what passed.
    if let Some(url) = &options.copy_to {
        copy(url, cells, batch, options, outcome);
    }
    Ok(())
}

/// A cell's derivation, and where it is already built (nix-eval-jobs only).
struct Evaluated {
    derivation: Derivation,
    cached: Option<String>,
}

/// `cells.nix`: one attribute per expression, `flake` bound to the flake.
fn cells_nix(flake: &str, by_key: &BTreeMap<String, String>) -> String {
    let mut out =
        String::from("# Generated by `cargo xtask matrix`: one attribute per cell's derivation.\n");
    let _ = writeln!(
        out,
        "let\n  flake = builtins.getFlake {};\nin {{",
        dominix::nix::string_literal(flake)
    );
    for (key, expr) in by_key {
        let _ = writeln!(out, "  {} = {expr};", dominix::nix::attr_name(key));
    }
    out.push_str("}\n");
    out
}

/// `eval.nix`: each cell's drvPath and outputs, or the error `tryEval`
/// caught (a `throw` or a failed `assert`); `only` evaluates one cell.
const EVAL_NIX: &str = r#"# Generated by `cargo xtask matrix`: the derivations of cells.nix.
{only ? null}: let
  cells = import ./cells.nix;
  chosen =
    if only == null
    then cells
    else {${only} = cells.${only};};
  outputsOf = d:
    builtins.listToAttrs (map (o: {
      name = o;
      value = d.${o}.outPath;
    }) (d.outputs or ["out"]));
  describe = d: let
    r = builtins.tryEval (let
      v = {
        drvPath = d.drvPath;
        outputs = outputsOf d;
      };
    in
      builtins.deepSeq v v);
  in
    if r.success
    then r.value
    else {error = "it throws or fails an assertion (evaluate it alone for Nix's message)";};
in
  builtins.mapAttrs (_: describe) chosen
"#;

fn write(path: &Utf8Path, text: &str) -> Result<()> {
    fsx::write_atomic(path, text)
}

fn evaluate(
    flake: &str,
    by_key: &BTreeMap<String, String>,
    options: &Options,
    outcome: &mut Outcome,
) -> Result<BTreeMap<String, std::result::Result<Evaluated, String>>> {
    if by_key.is_empty() {
        return Ok(BTreeMap::new());
    }
    std::fs::create_dir_all(&options.work_dir).map_err(|e| {
        Failure::new(format!(
            "cannot create {}: {e}. Fix: make the target directory writable",
            options.work_dir
        ))
    })?;
    let cells_file = options.work_dir.join("cells.nix");
    write(&cells_file, &cells_nix(flake, by_key))?;
    write(&options.work_dir.join("eval.nix"), EVAL_NIX)?;
    if eval_jobs_installed() {
        return Ok(eval_jobs(&cells_file, by_key, options, outcome));
    }
    let entry = options.work_dir.join("eval.nix");
    let call = |only: Option<&str>| {
        let arg = only.map_or("{}".to_owned(), |k| {
            format!("{{only = {};}}", dominix::nix::string_literal(k))
        });
        let expr = format!(
            "import {} {arg}",
            dominix::nix::string_literal(entry.as_str())
        );
        builds::eval_json(&expr)
    };
    let batch = call(None);
    outcome.commands.push(batch.display());
    let answer = batch.output().map_err(|e| e.to_string()).and_then(|out| {
        serde_json::from_str::<BTreeMap<String, Value>>(&out.stdout)
            .map_err(|e| format!("`nix eval` answered something that is not JSON: {e}"))
    });
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) if error.contains("is not on PATH") || dominix_nix::interrupted() => {
            return Err(Failure::new(error));
        }
        // One cell's error Nix cannot catch: each alone, with its message.
        Err(_) => {
            let mut answer = BTreeMap::new();
            for key in by_key.keys() {
                let one = call(Some(key));
                outcome.commands.push(one.display());
                let value = match one.output() {
                    Ok(out) => serde_json::from_str::<BTreeMap<String, Value>>(&out.stdout)
                        .ok()
                        .and_then(|mut m| m.remove(key))
                        .unwrap_or_else(|| serde_json::json!({"error": "no answer"})),
                    Err(e) => serde_json::json!({"error": nix_message(&e)}),
                };
                answer.insert(key.clone(), value);
            }
            answer
        }
    };
    Ok(by_key
        .keys()
        .map(|key| {
            let value = answer.get(key).cloned().unwrap_or(Value::Null);
            let result = match value.get("error").and_then(Value::as_str) {
                Some(error) => Err(error.to_owned()),
                None => serde_json::from_value::<Derivation>(value)
                    .map(|derivation| Evaluated {
                        derivation,
                        cached: None,
                    })
                    .map_err(|e| format!("unexpected answer ({e})")),
            };
            (key.clone(), result)
        })
        .collect())
}

/// Nix's own error, without the command line around it: its `error:` lines.
fn nix_message(error: &NixError) -> String {
    match error.stderr() {
        Some(stderr) => {
            let text = dominix_nixlog::strip_ansi(stderr);
            let start = text.find("error:").unwrap_or(0);
            let lines: Vec<&str> = text[start..].lines().take(30).collect();
            lines.join("\n").trim().to_owned()
        }
        None => error.to_string(),
    }
}

/// The fix when an evaluation failed for want of a flake input it could not fetch.
fn fetch_hint(message: &str) -> &'static str {
    let fetch = [
        "unable to download",
        "Couldn't resolve host",
        "cannot fetch",
        "unable to fetch",
        "Could not resolve",
    ];
    if fetch.iter().any(|f| message.contains(f)) {
        " Fix: an input of flake.lock could not be fetched — run `cargo xtask seed --all` where the network is \
         reachable, or `cargo xtask seed <input> --from <a copy>` (README.md, \"Air-gapped machines\")"
    } else {
        ""
    }
}

/// Whether nix-eval-jobs runs here (`--help`; it has no `--version` in
/// every release).
fn eval_jobs_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        NixCommand::tool("nix-eval-jobs")
            .arg("--help")
            .timeout(Some(Duration::from_secs(30)))
            .run()
            .is_ok_and(|(status, _)| status.success())
    })
}

/// nix-eval-jobs over cells.nix: one JSON line per attribute, with its
/// derivation and `cacheStatus` (`local`, `cached`, `notBuilt`; releases
/// before 2.23 say only `isCached`), or its `error`.
fn eval_jobs(
    file: &Utf8Path,
    by_key: &BTreeMap<String, String>,
    options: &Options,
    outcome: &mut Outcome,
) -> BTreeMap<String, std::result::Result<Evaluated, String>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let roots = options.work_dir.join("gcroots");
    let command = builds::eval_jobs(file.as_str(), workers, roots.as_str(), &options.build);
    outcome.commands.push(command.display());
    let stdout = match command.run() {
        Ok((_, out)) => out.stdout,
        Err(e) => {
            let message = e.to_string();
            return by_key
                .keys()
                .map(|k| (k.clone(), Err(message.clone())))
                .collect();
        }
    };
    let mut found: BTreeMap<String, std::result::Result<Evaluated, String>> = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(attr) = value.get("attr").and_then(Value::as_str) else {
            continue;
        };
        let result = match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(error.trim().to_owned()),
            None => serde_json::from_value::<Derivation>(value.clone())
                .map_err(|e| format!("unexpected nix-eval-jobs answer ({e})"))
                .map(|derivation| {
                    let status = value.get("cacheStatus").and_then(Value::as_str);
                    let cached = match status {
                        Some("local") => Some("local".to_owned()),
                        Some("cached") => Some("a substituter".to_owned()),
                        Some(_) => None,
                        None => (value.get("isCached") == Some(&Value::Bool(true)))
                            .then(|| "a substituter".to_owned()),
                    };
                    Evaluated { derivation, cached }
                }),
        };
        found.insert(attr.to_owned(), result);
    }
    by_key
        .keys()
        .map(|k| {
            let result = found
                .remove(k)
                .unwrap_or_else(|| Err("nix-eval-jobs gave no answer for this cell".to_owned()));
            (k.clone(), result)
        })
        .collect()
}

/// The outputs of `cells[indices]` valid in `store` (the configured one
/// when `None`); `Err` with the reason when the store does not answer.
fn valid_outputs(
    cells: &[Cell],
    indices: &[usize],
    store: Option<&str>,
    outcome: &mut Outcome,
    timeout: Duration,
) -> std::result::Result<BTreeSet<String>, String> {
    let paths: BTreeSet<&String> = indices
        .iter()
        .flat_map(|&i| cells[i].outputs.values())
        .collect();
    if paths.is_empty() {
        return Ok(BTreeSet::new());
    }
    let paths: Vec<&String> = paths.into_iter().collect();
    let command = builds::path_info(&paths, store)
        .timeout(Some(timeout))
        .uninterruptible();
    outcome.commands.push(command.display());
    let out = command.output().map_err(|e| e.to_string())?;
    builds::valid_paths(&out.stdout)
}

/// Marks the cells whose outputs are all valid locally (or in `--store`),
/// then in a substituter, with where.
fn cache_status(cells: &mut [Cell], indices: &[usize], options: &Options, outcome: &mut Outcome) {
    let all_in = |cells: &[Cell], i: usize, valid: &BTreeSet<String>| {
        !cells[i].outputs.is_empty() && cells[i].outputs.values().all(|p| valid.contains(p))
    };
    let store = options.build.store.as_deref();
    let local = store.unwrap_or("local");
    let query = Duration::from_secs(120).min(dominix_nix::default_timeout());
    match valid_outputs(cells, indices, store, outcome, query) {
        Ok(valid) => {
            for &i in indices {
                if all_in(cells, i, &valid) {
                    cells[i].cached = Some(local.to_owned());
                }
            }
        }
        Err(e) => {
            eprintln!("note: cannot ask the store which outputs exist ({e}); every cell is built")
        }
    }
    let substituters: Vec<String> = match &options.build.substituters {
        Some(list) => list.split_whitespace().map(str::to_owned).collect(),
        None => options.configured_substituters.clone(),
    };
    for url in substituters {
        let left: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| cells[i].cached.is_none())
            .collect();
        if left.is_empty() {
            break;
        }
        match valid_outputs(cells, &left, Some(&url), outcome, query) {
            Ok(valid) => {
                for i in left {
                    if all_in(cells, i, &valid) {
                        cells[i].cached = Some(url.clone());
                    }
                }
            }
            Err(e) => eprintln!(
                "note: cannot ask the substituter {url} ({}); its cells count as not cached",
                e.lines().next().unwrap_or_default()
            ),
        }
    }
}

/// Builds `installables` in one Nix and ends the cells `to_build` from
/// what it reported and which outputs then exist.
fn build(
    cells: &mut [Cell],
    to_build: &[usize],
    installables: &[String],
    options: &Options,
    outcome: &mut Outcome,
) {
    let command = builds::build_all(installables, &options.build);
    outcome.commands.push(command.display());
    let label = if to_build.len() == 1 {
        cells[to_build[0]].id()
    } else {
        format!("matrix ({} derivations)", installables.len())
    };
    let finished = progress::run(&command, &label);
    let query = Duration::from_secs(60);
    let valid = valid_outputs(
        cells,
        to_build,
        options.build.store.as_deref(),
        outcome,
        query,
    );
    let stopped_by_us = match &finished.result {
        Err(e @ (NixError::TimedOut { .. } | NixError::Interrupted { .. })) => Some(e),
        _ => None,
    };
    let failed_drvs: BTreeSet<String> = finished
        .state
        .errors()
        .iter()
        .filter_map(|e| dominix_nixlog::drv_in(e).map(str::to_owned))
        .collect();
    for &i in to_build {
        let cell = &mut cells[i];
        let drv = cell.drv.clone().unwrap_or_default();
        let record = finished.state.build_of(&drv);
        cell.seconds += record
            .map_or(finished.elapsed, |b| b.elapsed(finished.elapsed))
            .as_secs_f64();
        let built = valid.as_ref().is_ok_and(|v| {
            !cell.outputs.is_empty() && cell.outputs.values().all(|p| v.contains(p))
        });
        if built {
            cell.end(Status::Passed, "");
            continue;
        }
        let (status, message) = verdict(
            &finished,
            &drv,
            stopped_by_us,
            &failed_drvs,
            options,
            valid.as_ref().err(),
        );
        let (log, command) = match record {
            Some(_) => progress::failure_log(&finished.state, &drv),
            // It never started: the log of what failed under it.
            None => failed_drvs
                .iter()
                .find(|d| finished.state.build_of(d).is_some())
                .map(|d| progress::failure_log(&finished.state, d))
                .unwrap_or_default(),
        };
        cell.log = log;
        cell.log_command = (!command.is_empty()).then_some(command);
        cell.end(status, message);
    }
    for i in to_build {
        let cell = &cells[*i];
        if cell.status.is_failure() && !cell.log.is_empty() {
            eprintln!(
                "--- {} {}: last {} log lines",
                cell.id(),
                cell.status.as_str(),
                cell.log.len()
            );
            for line in &cell.log {
                eprintln!("    {line}");
            }
            if let Some(command) = &cell.log_command {
                eprintln!("--- the whole log: {command}");
            }
        }
    }
}

/// Why the cell whose derivation is `drv` did not build.
fn verdict(
    finished: &progress::Finished,
    drv: &str,
    stopped_by_us: Option<&NixError>,
    failed: &BTreeSet<String>,
    options: &Options,
    query_error: Option<&String>,
) -> (Status, String) {
    let state: &State = &finished.state;
    let own: Vec<&str> = state.errors_of(drv).collect();
    if let Some(error) = own.iter().find(|e| e.contains("timed out")) {
        return (Status::TimedOut, (*error).to_owned());
    }
    if let Some(error) = own.first() {
        return (Status::Failed, (*error).to_owned());
    }
    let record = state.build_of(drv);
    // Nix 2.8 names a build it stopped for its timeout only when that is
    // the last error; a build that ran the whole timeout and left nothing
    // was stopped by it.
    if let (Some(build), Some(limit)) = (record, options.build.build_timeout)
        && build.elapsed(finished.elapsed) + Duration::from_millis(500) >= limit
    {
        return (
            Status::TimedOut,
            format!(
                "the build of {} ran longer than --cell-timeout ({} s) and was stopped, with every process it started. \
                 Fix: if it was only slow, give it longer (`--cell-timeout`); if it hangs, see its log",
                name_of(drv),
                limit.as_secs()
            ),
        );
    }
    match stopped_by_us {
        Some(NixError::TimedOut { .. }) => {
            return (
                Status::TimedOut,
                format!(
                    "not finished when the build stopped: {}",
                    stopped_by_us.map(ToString::to_string).unwrap_or_default()
                ),
            );
        }
        Some(_) => {
            return (
                Status::Interrupted,
                "interrupted before it finished".to_owned(),
            );
        }
        None => {}
    }
    if let Some(e) = query_error {
        return (
            Status::Failed,
            format!("cannot tell whether it was built: {e}"),
        );
    }
    let names: Vec<&str> = failed.iter().map(|d| name_of(d)).collect();
    let message = match (record, names.is_empty()) {
        (Some(_), _) => format!("the build of {} failed; see its log", name_of(drv)),
        (None, false) => format!(
            "not built: a derivation it needs failed ({}). Fix: see that build's log below",
            names.join(", ")
        ),
        (None, true) => {
            let errors = state.errors().join("\n");
            match &finished.result {
                Ok(status) if status.success() => {
                    "Nix reported success but its outputs are not in the store".to_owned()
                }
                Ok(_) if !errors.is_empty() => format!("not built: {errors}"),
                Ok(status) => format!("not built (nix build exited with {status})"),
                Err(e) => format!("not built: {e}"),
            }
        }
    };
    (Status::Failed, message)
}

/// Pushes the outputs of the cells of `batch` that passed (or were only
/// cached in the local store) to `url`.
fn copy(url: &str, cells: &[Cell], batch: &[usize], options: &Options, outcome: &mut Outcome) {
    let local = options.build.store.as_deref().unwrap_or("local");
    let mut paths: Vec<&String> = batch
        .iter()
        .map(|&i| &cells[i])
        .filter(|c| {
            c.level.builds()
                && (c.status == Status::Passed
                    || (c.status == Status::Cached && c.cached.as_deref() == Some(local)))
        })
        .flat_map(|c| c.outputs.values())
        .collect();
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return;
    }
    let command = builds::copy_to(url, &paths, &options.build);
    outcome.commands.push(command.display());
    eprintln!("matrix: copying {} path(s) to {url}", paths.len());
    if let Err(e) = command.output() {
        outcome.problems.push(format!(
            "--copy-to {url}: {}. Fix: check the cache's URL and that this machine may write to it (credentials, signing key)",
            nix_message(&e)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_that_cannot_be_fetched_says_how_to_seed_it() {
        let message = "error: unable to download 'https://github.com/NixOS/nixpkgs/archive/3cea.tar.gz': Couldn't resolve host name (6)";
        assert!(fetch_hint(message).contains("cargo xtask seed --all"));
        assert_eq!(fetch_hint("error: attribute 'x' missing"), "");
    }

    #[test]
    fn the_cells_file_binds_the_flake_and_quotes_keys() {
        let by_key = BTreeMap::from([
            (
                "c0".to_owned(),
                "flake.checks.\"x86_64-linux\".ok".to_owned(),
            ),
            ("c1".to_owned(), "flake.lib.x".to_owned()),
        ]);
        let text = cells_nix("path:/a b/\"q\"", &by_key);
        assert!(
            text.contains("flake = builtins.getFlake \"path:/a b/\\\"q\\\"\";"),
            "{text}"
        );
        assert!(
            text.contains("  c0 = flake.checks.\"x86_64-linux\".ok;\n"),
            "{text}"
        );
        assert!(text.ends_with("}\n"), "{text}");
    }
}
