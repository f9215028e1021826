//! `cargo xtask bench`: measured numbers (never asserted in tests).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dominix_eval::{Case, Evaluator};

use crate::{Failure, Project, Result};

fn store_entries() -> Option<usize> {
    std::fs::read_dir("/nix/store").ok().map(Iterator::count)
}

/// Module evaluation of every shipped feature in one batched Nix process,
/// `runs` times: min / median / max wall time, and whether the store grew.
pub fn run(project: &Project, runs: usize) -> Result<()> {
    let catalog = project.valid_catalog()?;
    let evaluator = Evaluator::new(project.root.clone());
    evaluator
        .preflight()
        .map_err(|reason| Failure::new(reason.skip_line()))?;
    let cases: BTreeMap<String, Case> = catalog
        .features()
        .map(|f| (f.name.clone(), Case::feature(&f.name)))
        .collect();
    // One warm-up run: the first evaluation after a boot reads the inputs from disk.
    evaluator.eval_batch(&cases);
    let before = store_entries();
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let results = evaluator.eval_batch(&cases);
        times.push(start.elapsed());
        if let Some((id, Err(e))) = results.into_iter().find(|(_, r)| r.is_err()) {
            return Err(Failure::new(format!("{id}: {e}")));
        }
    }
    let after = store_entries();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "module-eval, {} features, one batched process, {} runs: min {:.0} ms, median {:.0} ms, max {:.0} ms",
        cases.len(),
        times.len(),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "nix store entries: {b} before, {a} after ({} added by the runs)",
            a.saturating_sub(b)
        ),
        _ => println!("nix store entries: /nix/store not readable"),
    }
    Ok(())
}
