//! `cargo xtask bench`'s matrix measurements, on a flake of tiny
//! `builder = "/bin/sh"` derivations (the only builds Nix can run without
//! full nixpkgs), through `matrix --checks-flake` — the same runner as the
//! catalog's cells:
//!
//! - the matrix in parallel (every build handed to one Nix, `--jobs` the
//!   cores) against the same cells sequentially (`--sequential`: one Nix
//!   per cell for evaluation, cache query and build, as the matrix ran
//!   before), each on fresh derivations (a new nonce per run);
//! - a second run with nothing changed (every cell `cached`) against
//!   evaluation alone (`--levels system-eval`) of the same flake.
//!
//! Each check is CPU-bound work in the builder (a shell loop, about a
//! second) and costs about a tenth of a second to evaluate (a fold over a
//! list of its own), standing in — lightly: a NixOS system takes seconds —
//! for a VM test's build and its system's evaluation.

use std::time::Duration;

use camino::Utf8Path;

use super::{BEGIN_MATRIX, END_MATRIX, Sample, fail, ms, table, tempdir, timed, write};
use crate::Result;
use crate::nix::NixCommand;

/// Cells of the flake, loop iterations of each builder, and list length of
/// each derivation's evaluation.
const CELLS: usize = 8;
const WORK: u64 = 1_000_000;
const EVAL: u64 = 500_000;

/// The measurements.
pub struct MatrixResult {
    parallel: Sample,
    sequential: Sample,
    second: Sample,
    eval_only: Sample,
    /// The medians of the runs' own ratios (sequential ÷ parallel, second
    /// run ÷ evaluation): each run's pair saw the same machine.
    speedup: Option<f64>,
    speedup_range: Option<(f64, f64)>,
    second_ratio: Option<f64>,
    /// The median of the runs' (second run − evaluation alone), in ms.
    difference_ms: Option<f64>,
    jobs: usize,
    load: String,
}

/// The flake of `CELLS` checks, unique to `nonce`.
fn flake(system: &str, nonce: &str) -> String {
    format!(
        r#"{{
  outputs = {{self}}: let
    system = "{system}";
    # Evaluation work of each cell: what a NixOS system costs to evaluate, in small.
    weight = i: builtins.foldl' builtins.add i (builtins.genList (x: x) {EVAL});
    mk = i:
      derivation {{
        name = "bench-c${{toString i}}";
        inherit system;
        builder = "/bin/sh";
        args = ["-c" "i=0; while [ $i -lt {WORK} ]; do i=$((i+1)); done; echo $i > $out"];
        nonce = "{nonce}-${{toString (weight i)}}";
      }};
  in {{
    checks.${{system}} = builtins.listToAttrs (map (i: {{
      name = "c${{toString i}}";
      value = mk i;
    }}) (builtins.genList (i: i) {CELLS}));
  }};
}}
"#
    )
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (n > 0).then(|| (values[(n - 1) / 2] + values[n / 2]) / 2.0)
}

/// The smallest and largest of `values`.
fn range(values: &[f64]) -> Option<(f64, f64)> {
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

/// Measures `runs` timed runs (after one dropped warm-up run) with the xtask `bin`.
pub fn measure(bin: &Utf8Path, root: &Utf8Path, runs: usize) -> Result<MatrixResult> {
    let (_dir, dir) = tempdir("domi-nix-bench-matrix-")?;
    let system = crate::nix::host_system();
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let flake_dir = dir.join("flake");
    std::fs::create_dir_all(&flake_dir)
        .map_err(|e| crate::Failure::new(format!("cannot create {flake_dir}: {e}")))?;
    let matrix = |args: &[&str]| {
        NixCommand::tool(bin.as_str())
            .env("NIX_CONFIG", dominix_nix::nix_config_with_host_shell())
            .env("DOMINIX_ROOT", root)
            .env("DOMINIX_TARGET_DIR", dir.join("target"))
            .env("DOMINIX_PROGRESS", "off")
            .args(["matrix", "--checks-flake", &format!("path:{flake_dir}")])
            .args(["--substituters", "", "--jobs", &jobs.to_string()])
            .args(args)
            .timeout(Some(Duration::from_secs(1800)))
    };
    let (mut parallel, mut sequential, mut second, mut eval_only) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut speedups, mut overheads) = (Vec::new(), Vec::new());
    let mut differences = Vec::new();
    for run in 0..=runs {
        let fresh = |tag: &str| -> Result<()> {
            let nonce = format!("{}-{run}-{tag}", std::process::id());
            write(&flake_dir.join("flake.nix"), flake(&system, &nonce))
        };
        // Parallel and sequential alternate which goes first, so that a
        // machine whose load drifts treats both alike.
        let timed_build = |tag: &str, extra: &[&str]| -> Result<Duration> {
            fresh(tag)?;
            let args: Vec<&str> = ["--levels", "build"]
                .into_iter()
                .chain(extra.iter().copied())
                .collect();
            Ok(timed(&matrix(&args))?.0)
        };
        let (p, s) = if run % 2 == 0 {
            let s = timed_build("sequential", &["--sequential"])?;
            (timed_build("parallel", &[])?, s)
        } else {
            let p = timed_build("parallel", &[])?;
            (p, timed_build("sequential", &["--sequential"])?)
        };
        // The flake now holds the cells just built: nothing changed since.
        // The second run and evaluation alone alternate, three of each; the
        // fastest of each is the pair (a busy machine only adds time).
        let (mut s2, mut e) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            let (t, out) = timed(&matrix(&["--levels", "build", "--json", "-"]))?;
            let cached = out.matches("\"status\": \"cached\"").count();
            if cached != CELLS {
                return fail(format!(
                    "the second run found {cached} of {CELLS} cells cached:\n{out}"
                ));
            }
            s2 = s2.min(t);
            e = e.min(timed(&matrix(&["--levels", "system-eval"]))?.0);
        }
        eprintln!(
            "bench: matrix run {run}: parallel {}, sequential {}, second {}, evaluation {}",
            ms(p),
            ms(s),
            ms(s2),
            ms(e)
        );
        if run > 0 {
            speedups.push(s.as_secs_f64() / p.as_secs_f64().max(1e-9));
            overheads.push(s2.as_secs_f64() / e.as_secs_f64().max(1e-9));
            differences.push((s2.as_secs_f64() - e.as_secs_f64()) * 1000.0);
            parallel.push(p);
            sequential.push(s);
            second.push(s2);
            eval_only.push(e);
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    Ok(MatrixResult {
        parallel: Sample::new(parallel),
        sequential: Sample::new(sequential),
        second: Sample::new(second),
        eval_only: Sample::new(eval_only),
        speedup_range: range(&speedups),
        speedup: median(speedups),
        second_ratio: median(overheads),
        difference_ms: median(differences),
        jobs,
        load,
    })
}

impl MatrixResult {
    /// The matrix section of BENCHMARKS.md, between its markers.
    pub fn markdown(&self, machine: &str, date: &str, runs: usize) -> String {
        let (speedup, second) = (self.speedup, self.second_ratio);
        let difference = self
            .difference_ms
            .map_or("—".to_owned(), |d| format!("{d:+.0} ms"));
        let spread = self.speedup_range.map_or(String::new(), |(lo, hi)| {
            format!(" (runs: {lo:.2}×–{hi:.2}×)")
        });
        let verdict = |met: Option<bool>| match met {
            Some(true) => "met".to_owned(),
            Some(false) => "**missed**".to_owned(),
            None => "not measured".to_owned(),
        };
        let times = |x: Option<f64>| x.map_or("—".to_owned(), |x| format!("{x:.2}×"));
        let mut out = format!(
            "{BEGIN_MATRIX}\n_Generated by `cargo xtask bench` on {date}; do not edit by hand._\n\n\
             Machine: {machine}; load average {} when it ended.\n\n\
             A flake of {CELLS} checks, each a `/bin/sh` builder counting to {WORK} (CPU-bound, about a second) \
             whose derivation folds a list of {EVAL} numbers of its own to evaluate (about 0.1 s; a NixOS system takes seconds); `matrix --checks-flake`, `--jobs {}`, \
             no substituters; median (min–max, runs) of {runs} runs after a dropped warm-up. \
             Parallel and sequential alternate which goes first; in each run the second run and evaluation \
             alone are the fastest of three, alternating. A target's ratio is the median of the runs' own ratios.\n\n",
            self.load, self.jobs
        );
        out += &table(
            &["measurement", "time"],
            &[
                vec![
                    format!("matrix of {CELLS} new cells, parallel (one `nix build` of all)"),
                    self.parallel.cell(),
                ],
                vec![
                    "the same, sequential (one Nix per cell: the matrix before)".to_owned(),
                    self.sequential.cell(),
                ],
                vec![
                    "second run, nothing changed (every cell `cached`)".to_owned(),
                    self.second.cell(),
                ],
                vec![
                    "evaluation alone (`--levels system-eval`)".to_owned(),
                    self.eval_only.cell(),
                ],
            ],
        );
        out += &table(
            &["target", "measured", "verdict"],
            &[
                vec![
                    "parallel ≥ 1.8× faster than sequential on 2 cores".to_owned(),
                    format!("{}{spread}", times(speedup)),
                    verdict(speedup.map(|s| s >= 1.8)),
                ],
                vec![
                    "second run ≤ 1.1× evaluation alone".to_owned(),
                    format!("{} ({difference} a run)", times(second)),
                    verdict(second.map(|s| s <= 1.1)),
                ],
            ],
        );
        out + END_MATRIX
    }
}
