//! The VM test's server, audited offline: its sshd unit rendered from the
//! test node's evaluation (the NixOS test framework's context) and scored by
//! systemd-analyze here gets the band vm-test.nix expects systemd to give it
//! on the booted machine, stays under the ceiling the branch declares, and
//! keeps every directive of the profile that no exception names.

use camino::Utf8PathBuf;
use dominix::{Catalog, Exposure};
use dominix_audit::analyze::Analyzer;
use dominix_audit::{AuditError, sandbox, unit};
use dominix_testing::dominix_eval::Case;
use dominix_testing::try_eval;

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

/// `ceilings = { sshd = … }` in this crate's metadata.
fn ceiling() -> Exposure {
    let root = Utf8PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let catalog = Catalog::discover(&root).expect("the catalog");
    let feature = catalog.get("remote-access").expect("remote-access");
    *feature
        .meta
        .ceilings
        .get("sshd")
        .expect("a ceiling for sshd")
}

#[test]
fn the_vm_tests_sshd_scores_the_band_the_vm_test_expects() {
    let analyzer = match Analyzer::probe() {
        Ok(analyzer) => analyzer,
        Err(AuditError::Unavailable(reason)) => {
            dominix_testing::dominix_eval::skip::skip_test(&reason.skip_line());
            return;
        }
        Err(other) => panic!("{other}"),
    };
    let case = Case::test_node("remote-access", "server");
    let Some(outcome) = try_eval("remote-access test node", &case) else {
        return;
    };
    let outcome = outcome
        .and_then(|o| o.into_checked("remote-access test node"))
        .unwrap_or_else(|e| panic!("{e}"));
    let service = &outcome.config["systemd.services"]["sshd"];
    let global = outcome.config["systemd.globalEnvironment"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let rendered = unit::render("sshd", service, &global).expect("renders");

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
        "sshd scores {} ({}); failing: {failing:?}\n{}",
        score.exposure,
        score.band,
        rendered.text
    );
    assert!(
        score.exposure <= ceiling(),
        "sshd scores {}, above its ceiling {} in Cargo.toml",
        score.exposure,
        ceiling()
    );
    // systemd before 253 does not know `Type=notify-reload`, which nixpkgs
    // gives sshd; it ignores the line, which scores nothing either way.
    let expected: Vec<&str> = if analyzer.version < 253 {
        vec!["Failed to parse service type, ignoring: notify-reload"]
    } else {
        vec![]
    };
    assert_eq!(
        score.warnings.len(),
        expected.len(),
        "warnings: {:?}",
        score.warnings
    );
    for (warning, wanted) in score.warnings.iter().zip(&expected) {
        assert!(warning.ends_with(wanted), "{warning}");
    }

    // What the profile promises and no exception names, systemd finds kept.
    let named = &outcome.config["domi-nix"]["sandboxing"]["services"]["sshd"]["exceptions"];
    let excepted = named
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, e)| !e.is_null())
        .map(|(d, _)| d.clone())
        .collect();
    let unkept = sandbox::unkept(&score, &excepted);
    assert!(unkept.is_empty(), "{unkept:?}");
    // And it does not keep what the exceptions name.
    let relaxed = sandbox::unkept(&score, &Default::default());
    assert!(
        relaxed.iter().any(|u| u.directive == "ProtectSystem"),
        "{relaxed:?}"
    );
}
