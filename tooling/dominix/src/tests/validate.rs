//! Validation of in-memory catalogs (discovery adds `feature.nix` and metadata parsing: tests/discover.rs).
#![allow(clippy::unwrap_used)]

use super::{ARM, With, X86, feature};
use crate::Catalog;

/// Validation shared with in-memory catalogs.
#[test]
fn validation_problems() {
    let f = feature;
    let mut multiline = f("multi");
    multiline.meta.summary = "one\ntwo".into();
    let mut blank = f("blank");
    blank.meta.summary = "  ".into();
    let cases: Vec<(Vec<crate::Feature>, Vec<&str>)> = vec![
        (
            vec![f("hardening"), f("ui").requires(&["hardening"])],
            vec![],
        ),
        (
            vec![f("full")],
            vec![
                "crates/full/Cargo.toml: feature `full`: name: `full` is a reserved name. Fix: pick another name; reserved: trunk, default, minimal, full, all",
            ],
        ),
        (
            vec![f("Bad_Name")],
            vec![
                "crates/Bad_Name/Cargo.toml: feature `Bad_Name`: name: `Bad_Name` is not a valid feature name (lowercase ASCII letter, then lowercase letters, digits or `-`). Fix: rename the crate, e.g. `my-feature`",
            ],
        ),
        (
            vec![blank, multiline],
            vec![
                "crates/blank/Cargo.toml: feature `blank`: summary: summary is empty. Fix: write one line describing the feature",
                "crates/multi/Cargo.toml: feature `multi`: summary: summary spans several lines. Fix: shorten it to a single line",
            ],
        ),
        (
            vec![f("a").systems(&[]), f("b").systems(&[X86, X86])],
            vec![
                "crates/a/Cargo.toml: feature `a`: systems: no systems listed. Fix: list the systems the feature supports, from: x86_64-linux, aarch64-linux",
                "crates/b/Cargo.toml: feature `b`: systems: `x86_64-linux` is listed more than once. Fix: list each system once",
            ],
        ),
        (
            vec![f("a").requires(&["a"]).conflicts(&["a"])],
            vec![
                "crates/a/Cargo.toml: feature `a`: requires: `a` names the feature itself. Fix: remove `a` from requires",
                "crates/a/Cargo.toml: feature `a`: conflicts: `a` names the feature itself. Fix: remove `a` from conflicts",
            ],
        ),
        (
            vec![f("a").requires(&["b"]).conflicts(&["b"]), f("b")],
            vec![
                "crates/a/Cargo.toml: feature `a`: conflicts: `b` is both required and conflicting. Fix: remove `b` from either requires or conflicts",
            ],
        ),
        (
            vec![f("a").requires(&["b", "b"]), f("b")],
            vec![
                "crates/a/Cargo.toml: feature `a`: requires: `b` is listed more than once. Fix: list it once",
            ],
        ),
        (
            vec![f("a").conflicts(&["zzz"]), f("b")],
            vec![
                "crates/a/Cargo.toml: feature `a`: conflicts: `zzz`: no such feature. Fix: correct the name in [package.metadata.dominix] conflicts",
            ],
        ),
        (
            vec![f("a").requires(&["b"]), f("b").systems(&[ARM])],
            vec![
                "crates/a/Cargo.toml: feature `a`: systems: supports x86_64-linux but requires `b`, which does not. Fix: drop those systems here or add them to `b`",
            ],
        ),
        (
            vec![
                f("c").requires(&["a"]),
                f("a").requires(&["b"]),
                f("b").requires(&["c"]),
                f("d").requires(&["a"]),
            ],
            vec![
                "crates/a/Cargo.toml: feature `a`: requires: requires cycle: a -> b -> c -> a. Fix: remove one `requires` entry along the cycle",
            ],
        ),
        (
            vec![f("a"), f("a")],
            vec![
                "crates/a/Cargo.toml: feature `a`: name: another feature is already named `a`. Fix: give each feature crate a unique package name",
            ],
        ),
    ];
    for (features, expected) in cases {
        let names: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
        let c = Catalog::from_features(features);
        let got: Vec<String> = c.problems().iter().map(ToString::to_string).collect();
        assert_eq!(got, expected, "features {names:?}");
    }
}

#[test]
fn problem_fields_are_structured() {
    let c = Catalog::from_features(vec![
        feature("ui").requires(&["hardenin"]),
        feature("hardening"),
    ]);
    let p = &c.problems()[0];
    assert_eq!(p.file, "crates/ui/Cargo.toml");
    assert_eq!(p.feature, "ui");
    assert_eq!(p.field, "requires");
    assert!(p.message.contains("did you mean `hardening`?"));
}

#[test]
fn json_listing() {
    let c = Catalog::from_features(vec![
        feature("ui").requires(&["hardening"]).systems(&[X86]),
        feature("hardening"),
    ]);
    let json = c.to_json();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "hardening", "category": "features", "summary": "test feature hardening",
             "requires": [], "conflicts": [], "systems": ["x86_64-linux", "aarch64-linux"], "dir": "crates/hardening"},
            {"name": "ui", "category": "features", "summary": "test feature ui",
             "requires": ["hardening"], "conflicts": [], "systems": ["x86_64-linux"], "dir": "crates/ui"},
        ])
    );
    // Serialize on Feature gives the same objects.
    assert_eq!(
        serde_json::to_value(c.features().collect::<Vec<_>>()).unwrap(),
        json
    );
}
