//! Evaluations made ahead of the tests that ask for them.
//!
//! `cargo xtask mutants` runs a branch's tests once per mutant. Started as
//! they are, the tests would start one Nix process per evaluation per
//! mutant. Instead, the unmutated run *records* every case the tests ask for
//! ([`RECORD_VAR`]); the xtask evaluates all of them in every mutant's
//! checkout in one batch ([`crate::Evaluator::eval_batch_in`]) and writes the
//! *answers* ([`ANSWERS_VAR`]); each mutant's run of the tests then reads its
//! answers instead of starting Nix. A case without an answer — one the batch
//! could not evaluate (its error message takes a process of its own), or
//! one the unmutated run never asked for — is evaluated as usual.
//!
//! Both directories hold one JSON file per case, named by [`key`]:
//! a record is `{ "id": …, "case": … }`, an answer `{ "case": …, "outcome": … }`.
//! An answer is used only for the very case it holds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Case, Outcome};

/// Names a directory where every case asked for is recorded.
pub const RECORD_VAR: &str = "DOMINIX_EVAL_RECORD";
/// Names a directory of answers to use instead of evaluating.
pub const ANSWERS_VAR: &str = "DOMINIX_EVAL_ANSWERS";

/// A case as recorded: the id the test gave it, and the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub case: Case,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    case: Case,
    outcome: Outcome,
}

/// The file name of a case: FNV-1a (64 bits) of its JSON, in hex. The same
/// case has the same key in every process (no random seed, unlike std's
/// hasher); [`answer`] compares the whole case, so a collision cannot
/// answer the wrong one.
pub fn key(case: &Case) -> String {
    let json = serde_json::to_string(case).unwrap_or_default();
    let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Records `case` in `dir` (once: a case already recorded is left as it is,
/// so the tests of one binary, running in parallel, never write one file twice).
pub fn record(dir: &Path, id: &str, case: &Case) -> std::io::Result<()> {
    let record = Record {
        id: id.to_owned(),
        case: case.clone(),
    };
    let path = dir.join(format!("{}.json", key(case)));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => file.write_all(serde_json::to_string(&record)?.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Every case recorded in `dir`, by key.
pub fn recorded(dir: &Path) -> std::io::Result<BTreeMap<String, Record>> {
    let mut records = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(key) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let record: Record = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        records.insert(key.to_owned(), record);
    }
    Ok(records)
}

/// Writes the answer to the case recorded under `key` into `dir` (the
/// recorded key, not one computed here: another build's JSON of the same
/// case may order its settings differently).
pub fn write_answer(dir: &Path, key: &str, case: &Case, outcome: &Outcome) -> std::io::Result<()> {
    let answer = Answer {
        case: case.clone(),
        outcome: outcome.clone(),
    };
    let path = dir.join(format!("{key}.json"));
    std::fs::write(path, serde_json::to_string(&answer)?)
}

/// The answer to `case` in `dir`, if it holds one for this very case.
pub fn answer(dir: &Path, case: &Case) -> Option<Outcome> {
    let text = std::fs::read_to_string(dir.join(format!("{}.json", key(case)))).ok()?;
    let answer: Answer = serde_json::from_str(&text).ok()?;
    (answer.case == *case).then_some(answer.outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(marker: i64) -> Outcome {
        Outcome {
            features: vec!["hardening".to_owned()],
            assertions: Vec::new(),
            warnings: Vec::new(),
            config: json!({ "boot.kernel.sysctl": { "kernel.sysrq": marker } }),
            drops: Vec::new(),
            applied: Vec::new(),
        }
    }

    #[test]
    fn keys_are_stable_and_tell_cases_apart() {
        let a = Case::feature("hardening");
        let b = Case::feature("hardening").with_settings(json!({ "x": 1 }));
        assert_eq!(key(&a), key(&a.clone()));
        assert_ne!(key(&a), key(&b));
        assert_eq!(key(&a).len(), 16);
        // FNV-1a of the case's JSON: the same in every process and build.
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert!(json.starts_with(r#"{"features":["hardening"]"#), "{json}");
    }

    #[test]
    fn records_are_written_once_and_read_back() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let case = Case::feature("hardening").on_system("aarch64-linux");
        record(dir.path(), "first", &case)?;
        record(dir.path(), "second", &case)?;
        record(dir.path(), "other", &Case::feature("ui"))?;
        let records = recorded(dir.path())?;
        assert_eq!(records.len(), 2);
        assert_eq!(records[&key(&case)].id, "first");
        assert_eq!(records[&key(&case)].case, case);
        Ok(())
    }

    #[test]
    fn an_answer_is_used_for_its_own_case_only() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let case = Case::feature("hardening");
        assert_eq!(answer(dir.path(), &case), None);
        write_answer(dir.path(), &key(&case), &case, &outcome(4))?;
        assert_eq!(answer(dir.path(), &case), Some(outcome(4)));
        // Another case written under this key (a collision) is no answer.
        let other = Case::feature("ui");
        write_answer(dir.path(), &key(&other), &other, &outcome(0))?;
        std::fs::rename(
            dir.path().join(format!("{}.json", key(&other))),
            dir.path().join(format!("{}.json", key(&case))),
        )?;
        assert_eq!(answer(dir.path(), &case), None);
        Ok(())
    }
}
