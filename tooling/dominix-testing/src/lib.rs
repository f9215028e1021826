//! Test support for domi-nix feature crates (and, in [`recording`], for
//! tests that keep JSON recorded from a real evaluation).
//!
//! ```no_run
//! # use serde_json::json;
//! let Some(config) = dominix_testing::eval_feature("hardening", json!({})) else { return };
//! assert_eq!(config["boot.kernel.sysctl"]["kernel.kptr_restrict"], 2);
//! ```
//!
//! Evaluation runs the real module through `nix-modules/eval` (see
//! `dominix-eval`). Where it cannot run (no Nix, pinned inputs not in the
//! store), the helpers print one visible line
//! `SKIP module-eval: <reason> — <fix>` straight to the terminal (past the test
//! harness' capture) and return `None`; with `DOMINIX_REQUIRE_EVAL=1` they
//! panic instead, so CI cannot pass by skipping.
//!
//! The workspace evaluated is the one this crate belongs to, or the checkout
//! at `DOMINIX_ROOT` when that is set (`cargo xtask mutants` runs a branch's
//! tests against mutated copies of the tree). `DOMINIX_EVAL_RECORD=<dir>`
//! records every case asked for, and `DOMINIX_EVAL_ANSWERS=<dir>` answers
//! cases from evaluations made beforehand in one batch
//! (`dominix_eval::replay`); neither is set in ordinary runs.

pub mod recording;
pub mod source_set;

use std::sync::OnceLock;

use dominix_eval::{Case, EvalError, Evaluator, Outcome, Unavailable, replay};
use serde_json::Value;

pub use dominix_eval;

/// The workspace this crate belongs to, or the checkout at `DOMINIX_ROOT`.
pub fn evaluator() -> Evaluator {
    if let Some(root) = std::env::var_os("DOMINIX_ROOT") {
        let root = root.into_string().unwrap_or_else(|root| {
            panic!("DOMINIX_ROOT={root:?} is not UTF-8. Fix: point it at a checkout whose path is UTF-8")
        });
        return Evaluator::new(root);
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let root = std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| root.to_owned());
    Evaluator::new(root)
}

/// Whether `DOMINIX_REQUIRE_EVAL=1` turns skips into failures.
pub fn eval_required() -> bool {
    dominix_eval::skip::required()
}

/// `Some(evaluator)` when module evaluation can run here; otherwise prints the
/// SKIP line (or panics under `DOMINIX_REQUIRE_EVAL=1`) and returns `None`.
pub fn evaluator_or_skip(test: &str) -> Option<Evaluator> {
    static AVAILABLE: OnceLock<Result<(), Unavailable>> = OnceLock::new();
    // Whoever wrote the answers (`cargo xtask mutants`) has checked that
    // evaluation runs here: no five Nix processes per test binary to ask again.
    if std::env::var_os(replay::ANSWERS_VAR).is_some() {
        return Some(evaluator());
    }
    match AVAILABLE.get_or_init(|| evaluator().preflight()) {
        Ok(()) => Some(evaluator()),
        // A broken lock, or a Nix that is there but does not answer, is a
        // failure, not a skip.
        Err(reason) if reason.is_failure() => {
            panic!("module evaluation cannot run [{test}]: {reason}")
        }
        Err(reason) => {
            dominix_eval::skip::skip_test(&format!("{} [{test}]", reason.skip_line()));
            None
        }
    }
}

/// Evaluates a case; `None` when skipped. Errors are returned as they are
/// (for tests that expect a failure). Recorded, or answered without Nix,
/// when `DOMINIX_EVAL_RECORD` or `DOMINIX_EVAL_ANSWERS` say so.
pub fn try_eval(id: &str, case: &Case) -> Option<Result<Outcome, EvalError>> {
    if let Some(dir) = std::env::var_os(replay::RECORD_VAR) {
        replay::record(dir.as_ref(), id, case)
            .unwrap_or_else(|e| panic!("cannot record case `{id}` in {dir:?}: {e}"));
    }
    if let Some(dir) = std::env::var_os(replay::ANSWERS_VAR)
        && let Some(outcome) = replay::answer(dir.as_ref(), case)
    {
        return Some(Ok(outcome));
    }
    Some(evaluator_or_skip(id)?.eval(id, case))
}

/// Evaluates `feature` (with what it requires) on the trunk with `settings`
/// applied, and returns the selected configuration: every contract option
/// plus `domi-nix`, keyed by dotted path. Failed assertions, warnings, type
/// errors and undeclared options fail the test with a message naming the
/// feature, the file and the option.
pub fn eval_feature(feature: &str, settings: Value) -> Option<Value> {
    let case = Case::feature(feature).with_settings(settings);
    let outcome = try_eval(feature, &case)?.and_then(|o| o.into_checked(feature));
    Some(outcome.unwrap_or_else(|error| panic!("{error}")).config)
}
