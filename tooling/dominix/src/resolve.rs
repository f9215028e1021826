//! Resolution of a selection (feature names or a profile) into the ordered
//! set of features a trunk imports.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use crate::catalog::Catalog;
use crate::meta::{Feature, System, list, spelled_enum};
use crate::suggest::did_you_mean;

spelled_enum! {
    /// A named selection of features.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Profile {
        /// The trunk alone, no features.
        Minimal = "minimal",
        /// Every feature (with a system given: every feature supporting it),
        /// minus the yielding side of each `conflicts` pair and every feature
        /// that requires one (see [`LeftOut`]).
        Full = "full",
    }
    /// Error of [`Profile::from_str`].
    pub struct ParseProfileError("profile", "profiles");
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// `--features a,b`: these features (and what they require).
    Features(Vec<String>),
    /// `--profile p`.
    Profile(Profile),
}

/// A selection plus the target system, if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Features or profile.
    pub requested: Requested,
    /// `--system`, if given.
    pub system: Option<System>,
}

impl Selection {
    /// Select these features, for any system.
    pub fn features<I, S>(names: I) -> Selection
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Selection {
            requested: Requested::Features(names.into_iter().map(Into::into).collect()),
            system: None,
        }
    }

    /// Select a profile, for any system.
    pub fn profile(profile: Profile) -> Selection {
        Selection {
            requested: Requested::Profile(profile),
            system: None,
        }
    }

    /// Restrict to `system`.
    pub fn with_system(mut self, system: System) -> Selection {
        self.system = Some(system);
        self
    }

    /// What `--features a,b` (names trimmed) or `--profile p` (which wins
    /// when given), and `--system s`, ask for.
    pub fn from_flags(
        features: &[String],
        profile: Option<Profile>,
        system: Option<System>,
    ) -> Selection {
        let requested = match profile {
            Some(profile) => Requested::Profile(profile),
            None => Requested::Features(features.iter().map(|f| f.trim().to_owned()).collect()),
        };
        Selection { requested, system }
    }

    /// The command-line words that ask for this selection, e.g.
    /// `--features ui,hardening --system x86_64-linux`.
    pub fn to_flags(&self) -> String {
        let requested = match &self.requested {
            Requested::Profile(profile) => format!("--profile {profile}"),
            Requested::Features(names) => format!("--features {}", names.join(",")),
        };
        let system = self.system.map(|s| format!(" --system {s}"));
        requested + &system.unwrap_or_default()
    }
}

/// Why a feature is part of a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Named in `--features`.
    Requested,
    /// Part of the selected profile.
    Profile(Profile),
    /// Pulled in by `requires` of these resolved features (sorted).
    RequiredBy(Vec<String>),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Requested => f.write_str("requested"),
            Reason::Profile(p) => write!(f, "in profile `{p}`"),
            Reason::RequiredBy(by) => {
                let by: Vec<String> = by.iter().map(|b| format!("`{b}`")).collect();
                write!(f, "required by {}", by.join(", "))
            }
        }
    }
}

/// One feature of a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFeature {
    /// The feature.
    pub feature: Feature,
    /// Why it is there.
    pub reason: Reason,
}

/// The outcome of [`Catalog::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The features, requirements before dependents: in name order, each
    /// right after those of its requirements not listed before it.
    pub features: Vec<ResolvedFeature>,
    /// The systems every resolved feature supports (all systems when empty),
    /// in [`System::ALL`] order. Never empty.
    pub systems: Vec<System>,
    /// The system the selection asked for, if any (it is in `systems`).
    pub system: Option<System>,
    /// Features the `full` profile leaves out because of `conflicts`, in
    /// name order (empty for every other selection).
    pub left_out: Vec<LeftOut>,
}

/// A feature the `full` profile leaves out.
///
/// The rule: when `a` declares `conflicts = ["b"]`, `a` yields and `b` stays
/// (the declaring side is the alternative to something that already
/// exists); when both declare the conflict, the one later in name order
/// yields. Every feature that requires a yielding one (transitively) is left
/// out too. `cargo xtask check` still resolves and evaluates every feature
/// alone, so a left-out feature is checked as much as any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The feature left out.
    pub name: String,
    /// Why.
    pub because: LeftOutReason,
}

/// Why [`LeftOut::name`] is not in `full`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftOutReason {
    /// It yields to `winner` in a `conflicts` pair.
    Yields {
        /// The feature that stays.
        winner: String,
    },
    /// It requires `yielding`, which is left out.
    Requires {
        /// The left-out requirement.
        yielding: String,
    },
}

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.because {
            LeftOutReason::Yields { winner } => write!(
                f,
                "`{name}` (conflicts with `{winner}`; the side declaring the conflict yields)"
            ),
            LeftOutReason::Requires { yielding } => {
                write!(f, "`{name}` (requires `{yielding}`, which is left out)")
            }
        }
    }
}

impl Resolution {
    /// Feature names in resolution order.
    pub fn names(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(|r| r.feature.name.as_str())
            .collect()
    }

    /// Whether this is the trunk alone.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The resolved feature called `name`.
    pub fn get(&self, name: &str) -> Option<&ResolvedFeature> {
        self.features.iter().find(|r| r.feature.name == name)
    }
}

/// A feature and the systems it supports, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureSystems {
    /// Feature name.
    pub name: String,
    /// Its systems.
    pub systems: Vec<System>,
}

impl fmt::Display for FeatureSystems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.systems.is_empty() {
            write!(f, "`{}` (no systems)", self.name)
        } else {
            write!(f, "`{}` ({})", self.name, list(&self.systems))
        }
    }
}

/// Why a selection cannot be resolved. Every message ends with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// `--features` with no names.
    #[error(
        "no features selected. Fix: name at least one feature (`cargo xtask list` shows them), or use `--profile minimal` for the trunk alone."
    )]
    EmptyFeatures,
    /// An empty name in the list, e.g. from `ui,,hardening`.
    #[error(
        "empty feature name in the selection (a stray comma?). Fix: remove it, e.g. `--features ui,hardening`."
    )]
    EmptyName,
    /// A profile name passed as a feature.
    #[error("`{name}` is a profile, not a feature. Fix: use `--profile {name}`.")]
    ProfileAsFeature {
        /// The profile name.
        name: String,
    },
    /// A name that is not in the catalog.
    #[error("unknown feature `{name}`{}", unknown_feature_help(suggestion, known))]
    UnknownFeature {
        /// The name given.
        name: String,
        /// The nearest known name, if any is close.
        suggestion: Option<String>,
        /// Every known feature, suggested when none is close.
        known: Vec<String>,
    },
    /// A feature requires a name that is not in the catalog.
    #[error(
        "feature `{feature}` requires `{requirement}`, which is not a known feature{} Fix: correct `requires` in `{feature}`'s [package.metadata.dominix] (`cargo xtask check` lists every such problem).",
        did_you_mean(suggestion.as_deref(), ".")
    )]
    UnknownRequirement {
        /// The feature whose `requires` is wrong.
        feature: String,
        /// The unknown name.
        requirement: String,
        /// The nearest known name, if any is close.
        suggestion: Option<String>,
    },
    /// `requires` forms a cycle.
    #[error(
        "requires cycle: {}. Fix: remove one of these `requires` entries.",
        path.join(" -> ")
    )]
    Cycle {
        /// `a -> b -> c -> a`: the first name repeated at the end.
        path: Vec<String>,
    },
    /// Two resolved features conflict.
    #[error(
        "`{first}` ({first_reason}) conflicts with `{second}` ({second_reason}). Fix: drop one of them from the selection."
    )]
    Conflict {
        /// The feature declaring the conflict (or the first of the pair).
        first: String,
        /// Why it is selected.
        first_reason: Reason,
        /// The other feature.
        second: String,
        /// Why it is selected.
        second_reason: Reason,
    },
    /// `--system` not supported by some resolved features.
    #[error(
        "system `{system}` is not supported by {}. Fix: pick a system they support, or drop them from the selection.",
        list(unsupported)
    )]
    UnsupportedSystem {
        /// The requested system.
        system: System,
        /// The resolved features that do not support it.
        unsupported: Vec<FeatureSystems>,
    },
    /// The resolved features share no system.
    #[error(
        "the selected features share no system: {}. Fix: drop features until the rest share a system.",
        list(features)
    )]
    NoCommonSystem {
        /// Every resolved feature with its systems.
        features: Vec<FeatureSystems>,
    },
}

/// "did you mean X?" when a name is close, otherwise the known names; then the fix.
fn unknown_feature_help(suggestion: &Option<String>, known: &[String]) -> String {
    match suggestion {
        Some(s) => format!(
            " — did you mean `{s}`? Fix: correct the name (`cargo xtask list` shows every feature)."
        ),
        None if known.is_empty() => {
            ". There are no features yet (add a crate under crates/). Fix: add a branch crate under crates/ first.".to_owned()
        }
        None => format!(
            ". Known features: {}. Fix: use one of them (`cargo xtask list` shows every feature).",
            known.join(", ")
        ),
    }
}

/// What one depth-first pass over `requires` found.
#[derive(Default)]
struct DepthFirst<'a> {
    /// Every feature reached, each after its requirements (post-order).
    order: Vec<&'a Feature>,
    /// Each cycle met, `a -> b -> a`: the first name repeated at the end.
    cycles: Vec<Vec<String>>,
    /// The first unknown requirement met: (feature, requirement).
    unknown: Option<(String, String)>,
}

/// The depth-first pass: from `roots` in the order given (unknown roots are
/// ignored), each feature's `requires` in name order. Every back edge closes
/// a cycle. With `stop_early` it stops at the first cycle or unknown
/// requirement; without, it skips unknown requirements and finds at least one
/// cycle in every cyclic part of the graph. Iterative, so deep chains cannot
/// overflow the stack.
fn depth_first<'a, 'r>(
    catalog: &'a Catalog,
    roots: impl IntoIterator<Item = &'r str>,
    stop_early: bool,
) -> DepthFirst<'a> {
    let mut out = DepthFirst::default();
    // false: on the path being walked; true: finished.
    let mut done: HashMap<&'a str, bool> = HashMap::new();
    // The path: each feature with its sorted requires still to visit, reversed.
    let mut path: Vec<(&'a Feature, Vec<&'a str>)> = Vec::new();
    let enter = |f: &'a Feature| {
        let mut requires: Vec<&str> = f.meta.requires.iter().map(String::as_str).collect();
        requires.sort_unstable_by(|a, b| b.cmp(a));
        (f, requires)
    };
    for root in roots {
        let Some(root) = catalog.get(root) else {
            continue;
        };
        if done.contains_key(root.name.as_str()) {
            continue;
        }
        done.insert(&root.name, false);
        path.push(enter(root));
        while let Some((f, requires)) = path.last_mut() {
            let f = *f;
            let Some(req) = requires.pop() else {
                done.insert(&f.name, true);
                out.order.push(f);
                path.pop();
                continue;
            };
            let Some(r) = catalog.get(req) else {
                if stop_early {
                    out.unknown = Some((f.name.clone(), req.to_owned()));
                    return out;
                }
                continue;
            };
            match done.get(r.name.as_str()) {
                Some(true) => {}
                Some(false) => {
                    let on_path = path.iter().map(|(g, _)| g.name.clone());
                    let cycle = on_path.skip_while(|g| *g != r.name).chain([r.name.clone()]);
                    out.cycles.push(cycle.collect());
                    if stop_early {
                        return out;
                    }
                }
                None => {
                    done.insert(&r.name, false);
                    path.push(enter(r));
                }
            }
        }
    }
    out
}

/// At least one cycle for every cyclic part of the `requires` graph
/// (unknown requirements are skipped; they are reported elsewhere).
pub(crate) fn all_cycles(catalog: &Catalog) -> Vec<Vec<String>> {
    depth_first(catalog, catalog.names(), false).cycles
}

impl Catalog {
    /// The `full` profile's features for `system` (every system when `None`)
    /// and what it leaves out: see [`LeftOut`] for the rule.
    fn full_profile(&self, system: Option<System>) -> (Vec<&Feature>, Vec<LeftOut>) {
        let candidate = |f: &&Feature| system.is_none_or(|s| f.supports(s));
        let mut candidates: Vec<&Feature> = self.features().filter(candidate).collect();
        // Yielding sides: `a` declares `b`: `a` yields, unless `b` also
        // declares `a` and `a` sorts first.
        let mut out: BTreeMap<&str, LeftOutReason> = BTreeMap::new();
        for f in &candidates {
            let mut conflicts = f.meta.conflicts.iter().filter_map(|other| self.get(other));
            let winner = conflicts.find(|g| {
                let mutual = g.meta.conflicts.contains(&f.name);
                g.name != f.name && candidate(g) && !(mutual && f.name < g.name)
            });
            if let Some(winner) = winner {
                let winner = winner.name.clone();
                out.insert(&f.name, LeftOutReason::Yields { winner });
            }
        }
        // Everything requiring a yielding feature, transitively.
        let mut required_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for f in &candidates {
            for r in &f.meta.requires {
                required_by.entry(r).or_default().push(&f.name);
            }
        }
        let mut queue: Vec<&str> = out.keys().copied().collect();
        while let Some(name) = queue.pop() {
            for dependent in required_by.get(name).into_iter().flatten() {
                if !out.contains_key(dependent) {
                    let yielding = name.to_owned();
                    out.insert(dependent, LeftOutReason::Requires { yielding });
                    queue.push(dependent);
                }
            }
        }
        candidates.retain(|f| !out.contains_key(f.name.as_str()));
        let left_out = out.into_iter().map(|(name, because)| LeftOut {
            name: name.to_owned(),
            because,
        });
        (candidates, left_out.collect())
    }

    /// Resolves `selection`: the `requires` closure in dependency order, with
    /// the reason for each feature, after checking names, cycles, conflicts
    /// and systems.
    pub fn resolve(&self, selection: &Selection) -> Result<Resolution, ResolveError> {
        // 1. The directly selected features, deduplicated, in given order.
        let (direct, base_reason, left_out) = match &selection.requested {
            Requested::Features(names) => {
                if names.is_empty() {
                    return Err(ResolveError::EmptyFeatures);
                }
                let mut direct: Vec<&Feature> = Vec::new();
                for name in names {
                    if name.trim().is_empty() {
                        return Err(ResolveError::EmptyName);
                    }
                    let Some(f) = self.get(name) else {
                        if Profile::from_str(name).is_ok() {
                            return Err(ResolveError::ProfileAsFeature { name: name.clone() });
                        }
                        return Err(ResolveError::UnknownFeature {
                            name: name.clone(),
                            suggestion: self.suggest(name),
                            known: self.names().map(str::to_owned).collect(),
                        });
                    };
                    if !direct.iter().any(|d| d.name == f.name) {
                        direct.push(f);
                    }
                }
                (direct, Reason::Requested, Vec::new())
            }
            Requested::Profile(Profile::Full) => {
                let (direct, left_out) = self.full_profile(selection.system);
                (direct, Reason::Profile(Profile::Full), left_out)
            }
            Requested::Profile(profile) => (Vec::new(), Reason::Profile(*profile), Vec::new()),
        };
        let direct_names: BTreeSet<&str> = direct.iter().map(|f| f.name.as_str()).collect();

        // 2. The requires closure, rejecting cycles and unknown requirements.
        let walk = depth_first(self, direct.iter().map(|f| f.name.as_str()), true);
        if let Some(path) = walk.cycles.into_iter().next() {
            return Err(ResolveError::Cycle { path });
        }
        if let Some((feature, requirement)) = walk.unknown {
            return Err(ResolveError::UnknownRequirement {
                suggestion: self.suggest(&requirement),
                feature,
                requirement,
            });
        }
        let closure: BTreeSet<&str> = walk.order.iter().map(|f| f.name.as_str()).collect();

        // 3. Order: the same pass over the closure in name order, so each
        // feature comes right after those of its requirements not yet listed.
        let ordered = depth_first(self, closure.iter().copied(), false).order;

        // 4. Why each feature is there.
        let mut required_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for g in &ordered {
            for r in &g.meta.requires {
                required_by.entry(r).or_default().insert(&g.name);
            }
        }
        let reason_of = |name: &str| {
            if direct_names.contains(name) {
                base_reason.clone()
            } else {
                let by = required_by.get(name).into_iter().flatten();
                Reason::RequiredBy(by.map(|s| s.to_string()).collect())
            }
        };

        // 5. Conflicts, either direction.
        for f in &ordered {
            for other in &f.meta.conflicts {
                if other != &f.name && closure.contains(other.as_str()) {
                    return Err(ResolveError::Conflict {
                        first: f.name.clone(),
                        first_reason: reason_of(&f.name),
                        second: other.clone(),
                        second_reason: reason_of(other),
                    });
                }
            }
        }

        // 6. Systems.
        let systems_of = |f: &&Feature| FeatureSystems {
            name: f.name.clone(),
            systems: f.meta.systems.clone(),
        };
        if let Some(system) = selection.system {
            let unsupported: Vec<FeatureSystems> = ordered
                .iter()
                .filter(|f| !f.supports(system))
                .map(systems_of)
                .collect();
            if !unsupported.is_empty() {
                return Err(ResolveError::UnsupportedSystem {
                    system,
                    unsupported,
                });
            }
        }
        let systems: Vec<System> = System::ALL
            .into_iter()
            .filter(|s| ordered.iter().all(|f| f.supports(*s)))
            .collect();
        if systems.is_empty() {
            return Err(ResolveError::NoCommonSystem {
                features: ordered.iter().map(systems_of).collect(),
            });
        }

        Ok(Resolution {
            features: ordered
                .iter()
                .map(|f| ResolvedFeature {
                    feature: (*f).clone(),
                    reason: reason_of(&f.name),
                })
                .collect(),
            systems,
            system: selection.system,
            left_out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_round_trips() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
        }
        let err = "max".parse::<Profile>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown profile `max`; valid profiles: minimal, full")
        );
    }

    #[test]
    fn reasons_display() {
        assert_eq!(Reason::Requested.to_string(), "requested");
        assert_eq!(
            Reason::Profile(Profile::Full).to_string(),
            "in profile `full`"
        );
        assert_eq!(
            Reason::RequiredBy(vec!["a".into(), "b".into()]).to_string(),
            "required by `a`, `b`"
        );
    }
}
