//! JSON recorded from a real evaluation and kept in the repository, so that
//! tests without Nix can use it: [`check`] compares a fresh evaluation with
//! the recording, and with `UPDATE_FIXTURES=1` rewrites the recording instead.

use std::io::Write as _;
use std::path::Path;

use serde_json::Value;

/// The variable that turns comparing into re-recording.
pub const UPDATE: &str = "UPDATE_FIXTURES";

/// Whether `UPDATE_FIXTURES=1`: recordings are rewritten, not compared.
pub fn updating() -> bool {
    std::env::var(UPDATE).as_deref() == Ok("1")
}

/// Compares `actual` with the JSON recorded in `path`; panics, saying the
/// recording is stale, what differs and `fix` (the command that refreshes
/// it), when they differ. With `UPDATE_FIXTURES=1` it writes `actual` to
/// `path` instead (pretty-printed; atomically: a temporary file in the same
/// directory, then a rename).
#[track_caller]
pub fn check(path: &Path, actual: &Value, fix: &str) {
    check_or_write(path, actual, fix, updating());
}

#[track_caller]
fn check_or_write(path: &Path, actual: &Value, fix: &str, write: bool) {
    let shown = path.display();
    if write {
        let mut text = serde_json::to_string_pretty(actual)
            .unwrap_or_else(|err| panic!("cannot print the JSON for {shown}: {err}"));
        text.push('\n');
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .unwrap_or_else(|err| panic!("cannot create a file in {}: {err}", dir.display()));
        tmp.write_all(text.as_bytes())
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", tmp.path().display()));
        // Keep the recording's permissions (a temporary file is private).
        if let Ok(meta) = std::fs::metadata(path) {
            tmp.as_file()
                .set_permissions(meta.permissions())
                .unwrap_or_else(|err| {
                    panic!(
                        "cannot set the permissions of {}: {err}",
                        tmp.path().display()
                    )
                });
        }
        tmp.persist(path)
            .unwrap_or_else(|err| panic!("cannot replace {shown}: {err}"));
        eprintln!("recorded {shown}");
        return;
    }
    let recorded = std::fs::read_to_string(path)
        .map_err(|err| err.to_string())
        .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|err| err.to_string()))
        .unwrap_or_else(|err| panic!("cannot read the recording {shown}: {err}. Fix: run `{fix}`"));
    if recorded != *actual {
        panic!(
            "the recording {shown} is stale: {}. Fix: if the change is intended, run `{fix}` and review the diff",
            differences(&recorded, actual).join("; ")
        );
    }
}

/// What differs between two JSON objects, by member: for members that are
/// objects themselves (`options`, `pkgs`), which of their entries were
/// added (in `actual`, not `recorded`), removed or changed.
pub fn differences(recorded: &Value, actual: &Value) -> Vec<String> {
    let (Some(old), Some(new)) = (recorded.as_object(), actual.as_object()) else {
        return vec!["the whole document differs".to_owned()];
    };
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        match (old.get(key), new.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                let names = |pick: &dyn Fn(&String) -> bool| -> Vec<&str> {
                    a.keys()
                        .chain(b.keys().filter(|k| !a.contains_key(*k)))
                        .filter(|k| pick(k))
                        .map(String::as_str)
                        .collect()
                };
                let added = names(&|k| !a.contains_key(k));
                let removed = names(&|k| !b.contains_key(k));
                let changed = names(&|k| a.contains_key(k) && b.contains_key(k) && a[k] != b[k]);
                for (what, list) in [("added", added), ("removed", removed), ("changed", changed)] {
                    if !list.is_empty() {
                        out.push(format!("{key} {what}: {}", shortened(&list)));
                    }
                }
            }
            _ => out.push(format!("`{key}` differs")),
        }
    }
    out
}

/// At most ten names, then how many more.
fn shortened(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut text = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_the_entries() {
        let old = json!({ "schema": 2, "options": { "a": 1, "b": 2, "c": 3 }, "pkgs": {} });
        let new = json!({ "schema": 3, "options": { "a": 1, "b": 5, "d": 4 }, "pkgs": {} });
        assert_eq!(
            differences(&old, &new),
            [
                "options added: d",
                "options removed: c",
                "options changed: b",
                "`schema` differs"
            ]
        );
        assert!(differences(&old, &old).is_empty());
        assert_eq!(differences(&json!(1), &old), ["the whole document differs"]);
    }

    #[test]
    fn many_names_are_counted() {
        let names: Vec<String> = (0..12).map(|i| format!("o{i:02}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            shortened(&names),
            "o00, o01, o02, o03, o04, o05, o06, o07, o08, o09 and 2 more"
        );
    }

    #[test]
    fn a_recording_is_written_then_found_stale_naming_file_and_fix() {
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
        let path = dir.path().join("r.json");
        check_or_write(&path, &json!({ "options": { "a": 1 } }), "refresh", true);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(text, "{\n  \"options\": {\n    \"a\": 1\n  }\n}\n");
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|err| panic!("{err}"))
            .map(|e| e.map(|e| e.file_name()).unwrap_or_default())
            .collect();
        assert_eq!(files, ["r.json"], "no temporary file is left");
        check_or_write(&path, &json!({ "options": { "a": 1 } }), "refresh", false);
        let stale = std::panic::catch_unwind(|| {
            check_or_write(
                &path,
                &json!({ "options": { "a": 2 } }),
                "the refresh command",
                false,
            )
        });
        let message = stale
            .err()
            .and_then(|e| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(
            message.contains("r.json is stale: options changed: a"),
            "{message}"
        );
        assert!(
            message.contains("Fix: if the change is intended, run `the refresh command`"),
            "{message}"
        );
    }
}
