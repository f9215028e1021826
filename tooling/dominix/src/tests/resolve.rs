//! Resolution: closure, order, reasons, conflicts, cycles, names, systems, profiles.
#![allow(clippy::unwrap_used)]

use super::{ARM, With, X86, feature, world};
use crate::{Catalog, Profile, Reason, ResolveError, Selection};

/// `"name<reason>, …; systems: …"` or `"error: …"`.
fn outcome(catalog: &Catalog, selection: &Selection) -> String {
    match catalog.resolve(selection) {
        Ok(res) => {
            let features: Vec<String> = res
                .features
                .iter()
                .map(|r| format!("{}<{}>", r.feature.name, r.reason))
                .collect();
            let systems: Vec<String> = res.systems.iter().map(|s| s.to_string()).collect();
            format!("{}; systems: {}", features.join(", "), systems.join(", "))
        }
        Err(e) => format!("error: {e}"),
    }
}

fn check(catalog: &Catalog, selection: Selection, expected: &str) {
    assert_eq!(
        outcome(catalog, &selection),
        expected,
        "selection {selection:?}"
    );
}

fn sel(names: &[&str]) -> Selection {
    Selection::features(names.iter().copied())
}

const BOTH: &str = "systems: x86_64-linux, aarch64-linux";

#[test]
fn requires_closure_order_and_reasons() {
    let w = world();
    let cases: &[(&[&str], &str)] = &[
        (
            &["hardening"],
            "hardening<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        (
            &["ui"],
            "hardening<required by `ui`>, ui<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        (
            &["web"],
            "base<required by `net`>, hardening<required by `web`>, net<required by `web`>, web<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        (
            &["web", "ui"],
            "base<required by `net`>, hardening<required by `ui`, `web`>, net<required by `web`>, ui<requested>, web<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        // Requested wins over required.
        (
            &["ui", "hardening"],
            "hardening<requested>, ui<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        // Order does not depend on the order given.
        (
            &["hardening", "ui"],
            "hardening<requested>, ui<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        // Duplicates are dropped.
        (
            &["ui", "ui", "ui"],
            "hardening<required by `ui`>, ui<requested>; systems: x86_64-linux, aarch64-linux",
        ),
        (&["x86only"], "x86only<requested>; systems: x86_64-linux"),
        (
            &["needs-x86"],
            "x86only<required by `needs-x86`>, needs-x86<requested>; systems: x86_64-linux",
        ),
    ];
    for (names, expected) in cases {
        check(&w, sel(names), expected);
    }
}

#[test]
fn name_errors() {
    let w = world();
    let cases: &[(&[&str], &str)] = &[
        (
            &[],
            "error: no features selected. Fix: name at least one feature (`cargo xtask list` shows them), or use `--profile minimal` for the trunk alone.",
        ),
        (
            &["nope"],
            "error: unknown feature `nope`. Known features: armonly, base, hardening, needs-x86, net, old, ssh, telnet, ui, web, x86only. Fix: use one of them (`cargo xtask list` shows every feature).",
        ),
        (
            &["ui", "hardenin"],
            "error: unknown feature `hardenin` — did you mean `hardening`? Fix: correct the name (`cargo xtask list` shows every feature).",
        ),
        (
            &["sshh"],
            "error: unknown feature `sshh` — did you mean `ssh`? Fix: correct the name (`cargo xtask list` shows every feature).",
        ),
        (
            &["UI"],
            "error: unknown feature `UI` — did you mean `ui`? Fix: correct the name (`cargo xtask list` shows every feature).",
        ),
        (
            &["ui", ""],
            "error: empty feature name in the selection (a stray comma?). Fix: remove it, e.g. `--features ui,hardening`.",
        ),
        (
            &["minimal"],
            "error: `minimal` is a profile, not a feature. Fix: use `--profile minimal`.",
        ),
    ];
    for (names, expected) in cases {
        check(&w, sel(names), expected);
    }
}

#[test]
fn unknown_feature_error_is_structured() {
    let err = world().resolve(&sel(&["hardenin"])).unwrap_err();
    let ResolveError::UnknownFeature {
        name,
        suggestion,
        known,
    } = err
    else {
        panic!("expected UnknownFeature, got {err:?}");
    };
    assert_eq!(
        (name.as_str(), suggestion.as_deref()),
        ("hardenin", Some("hardening"))
    );
    assert!(known.contains(&"hardening".to_owned()), "{known:?}");
}

#[test]
fn unknown_feature_far_from_every_name_lists_the_known_ones() {
    let w = world();
    let err = w.resolve(&sel(&["zzzzzzzz"])).unwrap_err().to_string();
    let names: Vec<&str> = w.names().collect();
    assert!(err.contains("Known features:"), "{err}");
    for name in names {
        assert!(err.contains(name), "{name} missing from: {err}");
    }
}

#[test]
fn conflicts_are_symmetric_and_name_the_cause() {
    let w = world();
    let cases: &[(&[&str], &str)] = &[
        (
            &["ssh", "telnet"],
            "error: `ssh` (requested) conflicts with `telnet` (requested). Fix: drop one of them from the selection.",
        ),
        // Declared only on `ssh`, detected from either side.
        (
            &["telnet", "ssh"],
            "error: `ssh` (requested) conflicts with `telnet` (requested). Fix: drop one of them from the selection.",
        ),
        // Via requires.
        (
            &["ssh", "old"],
            "error: `ssh` (requested) conflicts with `telnet` (required by `old`). Fix: drop one of them from the selection.",
        ),
        (
            &["ssh"],
            "base<required by `net`>, net<required by `ssh`>, ssh<requested>; systems: x86_64-linux, aarch64-linux",
        ),
    ];
    for (names, expected) in cases {
        check(&w, sel(names), expected);
    }
}

#[test]
fn conflict_between_two_requirements() {
    let c = Catalog::from_features(vec![
        feature("a").requires(&["b", "c"]),
        feature("b").conflicts(&["c"]),
        feature("c"),
    ]);
    // The catalog itself is fine: nothing says `a` cannot be resolved.
    check(
        &c,
        sel(&["a"]),
        "error: `b` (required by `a`) conflicts with `c` (required by `a`). Fix: drop one of them from the selection.",
    );
}

#[test]
fn cycles_report_the_path() {
    let c = Catalog::from_features(vec![
        feature("a").requires(&["b"]),
        feature("b").requires(&["c"]),
        feature("c").requires(&["a"]),
        feature("d").requires(&["a"]),
        feature("e").requires(&["e"]),
        feature("f"),
    ]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["a"],
            "error: requires cycle: a -> b -> c -> a. Fix: remove one of these `requires` entries.",
        ),
        (
            &["c"],
            "error: requires cycle: c -> a -> b -> c. Fix: remove one of these `requires` entries.",
        ),
        (
            &["d"],
            "error: requires cycle: a -> b -> c -> a. Fix: remove one of these `requires` entries.",
        ),
        (
            &["e"],
            "error: requires cycle: e -> e. Fix: remove one of these `requires` entries.",
        ),
        (&["f"], "f<requested>; systems: x86_64-linux, aarch64-linux"),
    ];
    for (names, expected) in cases {
        check(&c, sel(names), expected);
    }
    assert_eq!(
        c.resolve(&sel(&["d"])).unwrap_err(),
        ResolveError::Cycle {
            path: vec!["a".into(), "b".into(), "c".into(), "a".into()]
        }
    );
}

#[test]
fn unknown_requirement_is_an_error_not_a_panic() {
    let c = Catalog::from_features(vec![
        feature("hardening"),
        feature("ui").requires(&["hardenin"]),
    ]);
    assert!(!c.problems().is_empty());
    check(
        &c,
        sel(&["ui"]),
        "error: feature `ui` requires `hardenin`, which is not a known feature — did you mean `hardening`? Fix: correct `requires` in `ui`'s [package.metadata.dominix] (`cargo xtask check` lists every such problem).",
    );
}

#[test]
fn systems() {
    let w = world();
    let cases: &[(Selection, &str)] = &[
        (
            sel(&["x86only", "armonly"]),
            "error: the selected features share no system: `armonly` (aarch64-linux), `x86only` (x86_64-linux). Fix: drop features until the rest share a system.",
        ),
        (
            sel(&["x86only"]).with_system(ARM),
            "error: system `aarch64-linux` is not supported by `x86only` (x86_64-linux). Fix: pick a system they support, or drop them from the selection.",
        ),
        (
            sel(&["needs-x86", "ui"]).with_system(ARM),
            "error: system `aarch64-linux` is not supported by `x86only` (x86_64-linux), `needs-x86` (x86_64-linux). Fix: pick a system they support, or drop them from the selection.",
        ),
        (
            sel(&["x86only"]).with_system(X86),
            "x86only<requested>; systems: x86_64-linux",
        ),
        (
            sel(&["ui"]).with_system(ARM),
            &format!("hardening<required by `ui`>, ui<requested>; {BOTH}"),
        ),
    ];
    for (selection, expected) in cases {
        check(&w, selection.clone(), expected);
    }
    let res = w.resolve(&sel(&["ui"]).with_system(ARM)).unwrap();
    assert_eq!(res.system, Some(ARM));
}

#[test]
fn profiles() {
    let w = world();
    check(
        &w,
        Selection::profile(Profile::Minimal),
        &format!("; {BOTH}"),
    );
    check(
        &w,
        Selection::profile(Profile::Minimal).with_system(ARM),
        &format!("; {BOTH}"),
    );
    // `ssh` declares `conflicts = ["telnet"]`: in `full`, `ssh` yields.
    let full = Selection::profile(Profile::Full).with_system(X86);
    check(
        &w,
        full.clone(),
        "base<in profile `full`>, hardening<in profile `full`>, x86only<in profile `full`>, needs-x86<in profile `full`>, net<in profile `full`>, telnet<in profile `full`>, old<in profile `full`>, ui<in profile `full`>, web<in profile `full`>; systems: x86_64-linux",
    );
    let left_out: Vec<String> = w
        .resolve(&full)
        .unwrap()
        .left_out
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        left_out,
        ["`ssh` (conflicts with `telnet`; the side declaring the conflict yields)"]
    );

    let c = Catalog::from_features(vec![
        feature("hardening"),
        feature("ui").requires(&["hardening"]),
        feature("x86only").systems(&[X86]),
        feature("armonly").systems(&[ARM]),
    ]);
    check(
        &c,
        Selection::profile(Profile::Full).with_system(ARM),
        "armonly<in profile `full`>, hardening<in profile `full`>, ui<in profile `full`>; systems: aarch64-linux",
    );
    check(
        &c,
        Selection::profile(Profile::Full).with_system(X86),
        "hardening<in profile `full`>, ui<in profile `full`>, x86only<in profile `full`>; systems: x86_64-linux",
    );
    check(
        &c,
        Selection::profile(Profile::Full),
        "error: the selected features share no system: `armonly` (aarch64-linux), `hardening` (x86_64-linux, aarch64-linux), `ui` (x86_64-linux, aarch64-linux), `x86only` (x86_64-linux). Fix: drop features until the rest share a system.",
    );
    // An empty catalog still has a minimal and a (trunk-only) full profile.
    let empty = Catalog::from_features(Vec::new());
    check(
        &empty,
        Selection::profile(Profile::Full),
        &format!("; {BOTH}"),
    );
}

#[test]
fn reasons_are_structured() {
    let res = world().resolve(&sel(&["web", "ui"])).unwrap();
    assert_eq!(
        res.get("hardening").map(|r| &r.reason),
        Some(&Reason::RequiredBy(vec!["ui".into(), "web".into()]))
    );
    assert!(res.get("ui").is_some_and(|r| r.reason == Reason::Requested));
    assert!(
        res.get("base")
            .is_some_and(|r| matches!(r.reason, Reason::RequiredBy(_)))
    );
}

#[test]
fn deep_chains_do_not_overflow() {
    let n = 20_000;
    let mut features = Vec::new();
    for i in 0..n {
        let name = format!("f{i}");
        let f = feature(&name);
        features.push(if i + 1 < n {
            f.requires(&[&format!("f{}", i + 1)])
        } else {
            f
        });
    }
    let c = Catalog::from_features(features);
    let res = c.resolve(&sel(&["f0"])).unwrap();
    assert_eq!(res.features.len(), n);
    assert_eq!(res.names().first().copied(), Some("f19999"));
    assert_eq!(res.names().last().copied(), Some("f0"));
}

#[test]
fn each_feature_comes_right_after_its_requirements() {
    let c = Catalog::from_features(vec![
        feature("a").requires(&["z"]),
        feature("b"),
        feature("z"),
    ]);
    check(
        &c,
        sel(&["b", "a"]),
        &format!("z<required by `a`>, a<requested>, b<requested>; {BOTH}"),
    );
}

#[test]
fn full_leaves_out_the_yielding_side_and_what_requires_it() {
    let left_out = |c: &Catalog| -> Vec<String> {
        c.resolve(&Selection::profile(Profile::Full))
            .unwrap()
            .left_out
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    // Both declare: the later name yields; what requires it goes too,
    // transitively.
    let mutual = Catalog::from_features(vec![
        feature("alpha").conflicts(&["beta"]),
        feature("beta").conflicts(&["alpha"]),
        feature("gamma").requires(&["beta"]),
        feature("delta").requires(&["gamma"]),
        feature("free"),
    ]);
    check(
        &mutual,
        Selection::profile(Profile::Full),
        &format!("alpha<in profile `full`>, free<in profile `full`>; {BOTH}"),
    );
    assert_eq!(
        left_out(&mutual),
        [
            "`beta` (conflicts with `alpha`; the side declaring the conflict yields)",
            "`delta` (requires `gamma`, which is left out)",
            "`gamma` (requires `beta`, which is left out)",
        ]
    );
    // A conflict with a feature that is not there (another system) costs nothing.
    let elsewhere = Catalog::from_features(vec![
        feature("armish").systems(&[ARM]),
        feature("common").conflicts(&["armish"]),
    ]);
    check(
        &elsewhere,
        Selection::profile(Profile::Full).with_system(X86),
        &format!("common<in profile `full`>; {BOTH}"),
    );
    // Naming both explicitly is still an error, with the fix that applies.
    check(
        &mutual,
        sel(&["alpha", "beta"]),
        "error: `alpha` (requested) conflicts with `beta` (requested). Fix: drop one of them from the selection.",
    );
}
