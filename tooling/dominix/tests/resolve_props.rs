//! Property tests of `Catalog::resolve`, through the public API only, on
//! arbitrary catalogs (up to 12 features with random `requires`,
//! `conflicts` and `systems`, unknown names, self-references and cycles
//! included) and arbitrary selections (feature names with duplicates,
//! unknown, empty and profile names; the `minimal` and `full` profiles; with
//! or without a system).
//!
//! Every case checks, for one catalog and one selection:
//!
//! - determinism: resolving twice, and resolving in a catalog built from the
//!   same features in another order, gives the same result (or error);
//! - a success is right: it holds the whole `requires` closure of what was
//!   selected and nothing else, each feature after its requirements (in
//!   exactly the order `Resolution::features` documents), no two features
//!   that conflict (either direction), the reasons and systems that were
//!   asked, and for `full` every feature supporting the system either in it
//!   or left out for a true reason (the rule of `LeftOut`);
//! - an error is true (what it names is in the catalog or the selection as
//!   it says), and none is returned when the selection is fine: a features
//!   selection of known names whose closure is acyclic, conflict-free and
//!   shares a system succeeds; `full` never fails with a `Conflict` when the
//!   catalog has no cycle and no unknown requirement (see
//!   [`check_full_error`] for the one exception, which only an invalid
//!   catalog has), and in a valid catalog only with `NoCommonSystem` when no
//!   system is asked;
//! - nothing panics, formatting the error included.
//!
//! `PROPTEST_CASES=<n>` sets the number of cases (default [`CASES`]).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use dominix::{
    Catalog, Category, Feature, FeatureMeta, LeftOutReason, Profile, Reason, Requested, Resolution,
    ResolveError, Selection, System,
};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per run, unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 2048;

/// Names a catalog's features take (the first n of them) and refer to; the
/// last two are never features, and with n < 12 some of the first are not.
const POOL: [&str; 14] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "ghost", "zz",
];
/// Features a catalog has at most.
const MAX_FEATURES: usize = 12;
/// Names a selection may give besides the pool's.
const ODD_NAMES: [&str; 6] = ["", " ", "full", "minimal", "trunk", "A"];

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(CASES);
    Config {
        cases,
        // A failure found is kept as a unit test next to the fix.
        failure_persistence: None,
        ..Config::default()
    }
}

fn systems() -> impl Strategy<Value = Vec<System>> {
    use System::{Aarch64Linux as Arm, X86_64Linux as X86};
    prop_oneof![
        6 => Just(vec![X86, Arm]),
        2 => Just(vec![X86]),
        2 => Just(vec![Arm]),
        1 => Just(vec![Arm, X86]),
        1 => Just(vec![]),
    ]
}

fn feature(
    name: &str,
    requires: Vec<String>,
    conflicts: Vec<String>,
    systems: Vec<System>,
) -> Feature {
    Feature {
        name: name.to_owned(),
        dir: format!("crates/{name}").into(),
        meta: FeatureMeta {
            category: Category::Features,
            summary: format!("feature {name}"),
            requires,
            conflicts,
            systems,
            ceilings: Default::default(),
        },
    }
}

/// How a generated catalog is wired.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `requires`/`conflicts` name anything in the pool, itself included:
    /// unknown names, cycles, duplicates.
    Free,
    /// Each feature requires only earlier ones: no cycle, no unknown
    /// requirement; anything else goes.
    Layered,
    /// Layered, and passes validation (`Catalog::problems` is empty): no
    /// duplicate or unknown names, no feature both required and
    /// conflicting, every requirement supports the systems of its
    /// dependents.
    Valid,
}

/// Up to 12 features, in one of the [`Shape`]s.
fn catalog_features() -> impl Strategy<Value = Vec<Feature>> {
    let refs = |max| prop::collection::vec(0..POOL.len(), 0..=max);
    let one = (
        refs(3),
        prop_oneof![3 => Just(Vec::new()), 1 => refs(2)],
        systems(),
    );
    let shape = prop_oneof![Just(Shape::Free), Just(Shape::Layered), Just(Shape::Valid)];
    (prop::collection::vec(one, 0..=MAX_FEATURES), shape).prop_map(|(specs, shape)| {
        let n = specs.len();
        let mut features: Vec<Feature> = Vec::new();
        for (i, (requires, conflicts, mut systems)) in specs.into_iter().enumerate() {
            let mut requires: Vec<usize> = match shape {
                Shape::Free => requires,
                Shape::Layered | Shape::Valid => requires.into_iter().filter(|&r| r < i).collect(),
            };
            let mut conflicts = conflicts;
            if let Shape::Valid = shape {
                requires.sort_unstable();
                requires.dedup();
                conflicts.sort_unstable();
                conflicts.dedup();
                conflicts.retain(|c| *c < n && *c != i && !requires.contains(c));
                if systems.is_empty() {
                    systems = System::ALL.to_vec();
                }
                systems.dedup();
                let supported = |s: &System| requires.iter().all(|&r| features[r].supports(*s));
                if systems.iter().any(supported) {
                    systems.retain(supported);
                } else {
                    requires.clear();
                }
            }
            features.push(feature(
                POOL[i],
                requires.into_iter().map(|r| POOL[r].to_owned()).collect(),
                conflicts.into_iter().map(|c| POOL[c].to_owned()).collect(),
                systems,
            ));
        }
        features
    })
}

/// A selection for a catalog of `n` features: mostly its names, sometimes
/// names it does not have, odd ones, or none.
fn selection(n: usize) -> impl Strategy<Value = Selection> {
    let known = &POOL[..n.max(1)];
    let name = prop_oneof![
        12 => prop::sample::select(known),
        2 => prop::sample::select(&POOL[..]),
        1 => prop::sample::select(&ODD_NAMES[..]),
    ]
    .prop_map(str::to_owned);
    let names = prop_oneof![
        1 => Just(Vec::new()),
        12 => prop::collection::vec(name, 1..=4),
    ];
    let requested = prop_oneof![
        4 => names.prop_map(Requested::Features),
        1 => Just(Requested::Profile(Profile::Minimal)),
        3 => Just(Requested::Profile(Profile::Full)),
    ];
    let system = prop_oneof![
        2 => Just(None),
        1 => prop::sample::select(System::ALL.to_vec()).prop_map(Some),
    ];
    (requested, system).prop_map(|(requested, system)| Selection { requested, system })
}

/// A catalog's features, the same features in another order, a selection.
fn case() -> impl Strategy<Value = (Vec<Feature>, Vec<Feature>, Selection)> {
    catalog_features().prop_flat_map(|f| {
        let n = f.len();
        (Just(f.clone()), Just(f).prop_shuffle(), selection(n))
    })
}

/// The `requires` closure of `roots` (which must be features), or `None`
/// when it reaches an unknown requirement.
fn closure<'a>(
    catalog: &'a Catalog,
    roots: impl IntoIterator<Item = &'a str>,
) -> Option<BTreeSet<&'a str>> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        let f = catalog.get(name)?;
        if seen.insert(f.name.as_str()) {
            todo.extend(f.meta.requires.iter().map(String::as_str));
        }
    }
    Some(seen)
}

/// Whether `requires` among `set` has no cycle (Kahn: peel off features
/// whose requirements are all peeled).
fn acyclic(catalog: &Catalog, set: &BTreeSet<&str>) -> bool {
    let mut left: BTreeSet<&str> = set.clone();
    loop {
        let ready: Vec<&str> = left
            .iter()
            .copied()
            .filter(|n| {
                catalog
                    .get(n)
                    .is_some_and(|f| f.meta.requires.iter().all(|r| !left.contains(r.as_str())))
            })
            .collect();
        if ready.is_empty() {
            return left.is_empty();
        }
        for n in ready {
            left.remove(n);
        }
    }
}

/// Whether the whole catalog has no cycle and no unknown requirement.
fn sound(catalog: &Catalog) -> bool {
    closure(catalog, catalog.names()).is_some_and(|all| acyclic(catalog, &all))
}

fn conflict(catalog: &Catalog, a: &str, b: &str) -> bool {
    a != b
        && catalog
            .get(a)
            .is_some_and(|f| f.meta.conflicts.iter().any(|c| c == b))
}

fn supports_all(catalog: &Catalog, names: &BTreeSet<&str>, system: System) -> bool {
    names
        .iter()
        .all(|n| catalog.get(n).is_some_and(|f| f.supports(system)))
}

/// The features `full` starts from: all, or those supporting the system.
fn candidates(catalog: &Catalog, system: Option<System>) -> BTreeSet<&str> {
    catalog
        .features()
        .filter(|f| system.is_none_or(|s| f.supports(s)))
        .map(|f| f.name.as_str())
        .collect()
}

/// Checks a successful resolution of `selection` in `catalog`.
fn check_success(
    catalog: &Catalog,
    selection: &Selection,
    res: &Resolution,
) -> Result<(), TestCaseError> {
    let names = res.names();
    let position: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    prop_assert_eq!(position.len(), names.len(), "a feature twice: {:?}", names);
    let resolved: BTreeSet<&str> = position.keys().copied().collect();

    // (i) The closure: what was selected, and everything it requires.
    let direct: BTreeSet<&str> = match &selection.requested {
        Requested::Features(given) => given.iter().map(String::as_str).collect(),
        Requested::Profile(Profile::Minimal) => BTreeSet::new(),
        Requested::Profile(Profile::Full) => {
            let left_out: BTreeSet<&str> = res.left_out.iter().map(|l| l.name.as_str()).collect();
            let candidates = candidates(catalog, selection.system);
            prop_assert!(
                resolved.is_disjoint(&left_out),
                "{:?} both resolved and left out",
                resolved.intersection(&left_out).collect::<Vec<_>>()
            );
            let covered: BTreeSet<&str> = resolved.union(&left_out).copied().collect();
            prop_assert_eq!(
                &covered,
                &candidates,
                "full: resolved + left out = candidates"
            );
            check_left_out(catalog, res, &candidates)?;
            resolved.clone()
        }
    };
    let want = closure(catalog, direct.iter().copied());
    prop_assert_eq!(
        Some(&resolved),
        want.as_ref(),
        "resolved = closure of {:?}",
        direct
    );

    // The documented order: in name order, each feature right after those
    // of its requirements not listed before it.
    prop_assert_eq!(&names, &documented_order(catalog, &resolved), "order");

    for f in &res.features {
        let at = position[f.feature.name.as_str()];
        // The feature is the catalog's.
        prop_assert_eq!(Some(&f.feature), catalog.get(&f.feature.name));
        // (ii) After its requirements.
        for r in &f.feature.meta.requires {
            prop_assert!(
                position.get(r.as_str()).is_some_and(|&p| p < at),
                "`{}` is not after its requirement `{}`: {:?}",
                f.feature.name,
                r,
                names
            );
        }
        // (iii) No conflict, either direction.
        for other in &names {
            prop_assert!(
                !conflict(catalog, &f.feature.name, other),
                "`{}` conflicts with `{}`, both resolved",
                f.feature.name,
                other
            );
        }
        // The reason.
        let want = match &selection.requested {
            Requested::Features(_) if direct.contains(f.feature.name.as_str()) => Reason::Requested,
            Requested::Profile(p) if direct.contains(f.feature.name.as_str()) => {
                Reason::Profile(*p)
            }
            _ => Reason::RequiredBy(
                res.features
                    .iter()
                    .filter(|g| {
                        g.feature.name != f.feature.name
                            && g.feature.meta.requires.contains(&f.feature.name)
                    })
                    .map(|g| g.feature.name.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
        };
        prop_assert_eq!(&f.reason, &want, "reason of `{}`", f.feature.name);
    }

    // Systems: those every resolved feature supports, including the one asked.
    let systems: Vec<System> = System::ALL
        .into_iter()
        .filter(|s| supports_all(catalog, &resolved, *s))
        .collect();
    prop_assert_eq!(&res.systems, &systems);
    prop_assert!(!res.systems.is_empty());
    prop_assert_eq!(res.system, selection.system);
    if let Some(s) = selection.system {
        prop_assert!(res.systems.contains(&s));
    }
    if selection.requested != Requested::Profile(Profile::Full) {
        prop_assert!(res.left_out.is_empty());
    }
    Ok(())
}

/// `set` (acyclic, closed under `requires`) in the order `Resolution`
/// documents.
fn documented_order<'a>(catalog: &'a Catalog, set: &BTreeSet<&'a str>) -> Vec<&'a str> {
    fn visit<'a>(
        catalog: &'a Catalog,
        name: &'a str,
        done: &mut BTreeSet<&'a str>,
        out: &mut Vec<&'a str>,
    ) {
        if !done.insert(name) {
            return;
        }
        let mut requires: Vec<&str> = catalog
            .get(name)
            .map(|f| f.meta.requires.iter().map(String::as_str).collect())
            .unwrap_or_default();
        requires.sort_unstable();
        for r in requires {
            visit(catalog, r, done, out);
        }
        out.push(name);
    }
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for name in set {
        visit(catalog, name, &mut done, &mut out);
    }
    out
}

/// `left_out` is in name order, and each entry's reason is true.
fn check_left_out(
    catalog: &Catalog,
    res: &Resolution,
    candidates: &BTreeSet<&str>,
) -> Result<(), TestCaseError> {
    let names: Vec<&str> = res.left_out.iter().map(|l| l.name.as_str()).collect();
    prop_assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "left_out order: {:?}",
        names
    );
    for l in &res.left_out {
        match &l.because {
            LeftOutReason::Yields { winner } => {
                // `l` declares the conflict with `winner`, a candidate; when
                // both declare it, the later name yields.
                prop_assert!(conflict(catalog, &l.name, winner), "{}", l);
                prop_assert!(candidates.contains(winner.as_str()), "{}", l);
                if conflict(catalog, winner, &l.name) {
                    prop_assert!(l.name.as_str() > winner.as_str(), "{}", l);
                }
            }
            LeftOutReason::Requires { yielding } => {
                let requires = catalog.get(&l.name).map(|f| &f.meta.requires);
                prop_assert!(requires.is_some_and(|r| r.contains(yielding)), "{}", l);
                prop_assert!(names.contains(&yielding.as_str()), "{}", l);
            }
        }
    }
    Ok(())
}

/// Checks that an error says something true.
fn check_error(
    catalog: &Catalog,
    selection: &Selection,
    error: &ResolveError,
) -> Result<(), TestCaseError> {
    let given: &[String] = match &selection.requested {
        Requested::Features(given) => given,
        Requested::Profile(_) => &[],
    };
    let is_features = matches!(selection.requested, Requested::Features(_));
    match error {
        ResolveError::EmptyFeatures => prop_assert!(is_features && given.is_empty()),
        ResolveError::EmptyName => prop_assert!(given.iter().any(|n| n.trim().is_empty())),
        ResolveError::ProfileAsFeature { name } => {
            prop_assert!(given.contains(name) && catalog.get(name).is_none());
            prop_assert!(name.parse::<Profile>().is_ok());
        }
        ResolveError::UnknownFeature { name, .. } => {
            prop_assert!(given.contains(name) && catalog.get(name).is_none());
        }
        ResolveError::UnknownRequirement {
            feature,
            requirement,
            ..
        } => {
            let f = catalog.get(feature);
            prop_assert!(f.is_some_and(|f| f.meta.requires.contains(requirement)));
            prop_assert!(catalog.get(requirement).is_none());
        }
        ResolveError::Cycle { path } => {
            prop_assert!(path.len() >= 2 && path.first() == path.last(), "{:?}", path);
            for w in path.windows(2) {
                let f = catalog.get(&w[0]);
                prop_assert!(
                    f.is_some_and(|f| f.meta.requires.contains(&w[1])),
                    "{:?}",
                    path
                );
            }
        }
        ResolveError::Conflict { first, second, .. } => {
            prop_assert!(conflict(catalog, first, second));
            if is_features {
                let selected = closure(catalog, given.iter().map(String::as_str));
                let both = selected
                    .is_some_and(|s| s.contains(first.as_str()) && s.contains(second.as_str()));
                prop_assert!(both, "`{}` and `{}` are not both selected", first, second);
            }
        }
        ResolveError::UnsupportedSystem {
            system,
            unsupported,
        } => {
            prop_assert_eq!(selection.system, Some(*system));
            prop_assert!(!unsupported.is_empty());
            for u in unsupported {
                let f = catalog.get(&u.name);
                prop_assert!(
                    f.is_some_and(|f| !f.supports(*system) && f.meta.systems == u.systems)
                );
            }
        }
        ResolveError::NoCommonSystem { features } => {
            prop_assert!(!features.is_empty());
            for s in System::ALL {
                prop_assert!(features.iter().any(|f| !f.systems.contains(&s)));
            }
        }
    }
    Ok(())
}

/// (v) `full` leaves conflicting features out instead of failing: in a
/// catalog without cycles and unknown requirements it never fails with
/// `Conflict` — unless a system is asked and some feature supporting it
/// requires, maybe transitively, one that does not (only an invalid catalog
/// has that: validation's `systems` rule; the selection is unsupported
/// anyway). In a valid catalog it fails only when no system is asked and
/// the features share none.
fn check_full_error(
    catalog: &Catalog,
    selection: &Selection,
    error: &ResolveError,
) -> Result<(), TestCaseError> {
    if catalog.problems().is_empty() {
        let no_common = matches!(error, ResolveError::NoCommonSystem { .. });
        prop_assert!(
            no_common && selection.system.is_none(),
            "full failed in a valid catalog: {}",
            error
        );
    }
    if !sound(catalog) {
        return Ok(());
    }
    let wrong = match error {
        ResolveError::Cycle { .. } | ResolveError::UnknownRequirement { .. } => true,
        ResolveError::Conflict { .. } => selection.system.is_none_or(|s| {
            let candidates = candidates(catalog, Some(s));
            closure(catalog, candidates.iter().copied())
                .is_some_and(|reached| reached.is_subset(&candidates))
        }),
        _ => false,
    };
    prop_assert!(!wrong, "full failed in a sound catalog: {}", error);
    Ok(())
}

/// When a resolution must succeed: a features selection of known names
/// whose closure is known, acyclic, conflict-free and shares a system (the
/// one asked, if any).
fn must_succeed(catalog: &Catalog, selection: &Selection) -> bool {
    let Requested::Features(given) = &selection.requested else {
        return false;
    };
    if given.is_empty() || given.iter().any(|n| catalog.get(n).is_none()) {
        return false;
    }
    let Some(set) = closure(catalog, given.iter().map(String::as_str)) else {
        return false;
    };
    let conflict_free = set
        .iter()
        .all(|a| set.iter().all(|b| !conflict(catalog, a, b)));
    let system_ok = match selection.system {
        Some(s) => supports_all(catalog, &set, s),
        None => System::ALL
            .into_iter()
            .any(|s| supports_all(catalog, &set, s)),
    };
    acyclic(catalog, &set) && conflict_free && system_ok
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn resolution_is_right_or_the_error_is_true(
        (features, shuffled, selection) in case()
    ) {
        let catalog = Catalog::from_features(features);
        // (vi) Never a panic: a panic in here fails the case.
        let result = catalog.resolve(&selection);

        // (iv) Same input, same output; the order of the features does not matter.
        prop_assert_eq!(&result, &catalog.resolve(&selection));
        let reordered = Catalog::from_features(shuffled);
        prop_assert_eq!(&result, &reordered.resolve(&selection), "catalog order changed the result");

        match &result {
            Ok(res) => check_success(&catalog, &selection, res)?,
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                check_error(&catalog, &selection, e)?;
                prop_assert!(
                    !must_succeed(&catalog, &selection),
                    "a fine selection failed: {}", e
                );
                if selection.requested == Requested::Profile(Profile::Full) {
                    check_full_error(&catalog, &selection, e)?;
                }
            }
        }
    }
}
