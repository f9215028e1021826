//! The VM test's server, audited offline: its unit rendered from the test
//! node's evaluation (the NixOS test framework's context) and scored by
//! systemd-analyze here gets the band vm-test.nix expects systemd to give it
//! on the booted machine, and the profile's every promise is kept.

use camino::Utf8PathBuf;
use dominix_audit::analyze::Analyzer;
use dominix_audit::{AuditError, sandbox, unit};
use dominix_testing::dominix_eval::Case;
use dominix_testing::try_eval;
use serde_json::Value;

/// `band = "…";` in vm-test.nix.
fn expected_band() -> String {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/vm-test.nix");
    let text = std::fs::read_to_string(file).expect("vm-test.nix");
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("band = \""))
        .expect("vm-test.nix sets `band`");
    line.trim_end_matches("\";").to_owned()
}

#[test]
fn the_vm_tests_server_scores_the_band_the_vm_test_expects() {
    let analyzer = match Analyzer::probe() {
        Ok(analyzer) => analyzer,
        Err(AuditError::Unavailable(reason)) => {
            dominix_testing::dominix_eval::skip::skip_test(&reason.skip_line());
            return;
        }
        Err(other) => panic!("{other}"),
    };
    let case = Case::test_node("status-api", "server");
    let Some(outcome) = try_eval("status-api test node", &case) else {
        return;
    };
    let outcome = outcome
        .and_then(|o| o.into_checked("status-api test node"))
        .unwrap_or_else(|e| panic!("{e}"));
    let service = &outcome.config["systemd.services"]["domi-nix-status"];
    let global = outcome.config["systemd.globalEnvironment"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let rendered = unit::render("domi-nix-status", service, &global).expect("renders");

    let dir = tempfile::tempdir().expect("tempdir");
    let dir = Utf8PathBuf::from_path_buf(dir.path().to_owned()).expect("UTF-8");
    rendered.write_to(&dir).expect("written");
    let score = analyzer
        .score(&dir, std::slice::from_ref(&rendered.name))
        .expect("scored")
        .remove(0);
    let failing: Vec<(&str, String)> = score
        .failing()
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.exposure.map(|e| e.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        score.band.to_string(),
        expected_band(),
        "the server scores {} ({}); failing: {failing:?}\n{}",
        score.exposure,
        score.band,
        rendered.text
    );
    assert!(score.warnings.is_empty(), "{:?}", score.warnings);
    let exceptions =
        &outcome.config["domi-nix"]["sandboxing"]["services"]["domi-nix-status"]["exceptions"];
    let excepted = exceptions
        .as_object()
        .map(|e| {
            e.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        excepted,
        std::collections::BTreeSet::from(["IPAddressAllow".to_owned()])
    );
    let unkept = sandbox::unkept(&score, &excepted);
    assert!(unkept.is_empty(), "{unkept:?}");
    assert_eq!(exceptions["DynamicUser"], Value::Null);
}
