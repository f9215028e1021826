//! Discovery and validation of the feature catalog.

use std::collections::{BTreeMap, BTreeSet, btree_map};
use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::meta::{Category, Exposure, Feature, FeatureMeta, System, list};
use crate::suggest::{did_you_mean, nearest};

/// Names a feature may not take: they mean something else to the tools.
const RESERVED_NAMES: [&str; 5] = ["trunk", "default", "minimal", "full", "all"];

/// A validation problem in one feature's metadata. `check` reports all of
/// them at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file to edit, relative to the workspace root (e.g. `crates/ui/Cargo.toml`).
    pub file: Utf8PathBuf,
    /// The feature (package name, or directory name when there is none).
    pub feature: String,
    /// The metadata field (or file) at fault, e.g. `requires`, `name`, `feature.nix`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.message.ends_with(['.', '?', '!']) {
            ""
        } else {
            "."
        };
        write!(
            f,
            "{}: feature `{}`: {}: {}{sep} Fix: {}",
            self.file, self.feature, self.field, self.message, self.fix
        )
    }
}

impl Problem {
    /// A problem in `f`'s `Cargo.toml`.
    fn of(f: &Feature, field: &str, message: String, fix: impl Into<String>) -> Problem {
        Problem {
            file: f.manifest_path(),
            feature: f.name.clone(),
            field: field.to_owned(),
            message,
            fix: fix.into(),
        }
    }
}

/// Failure to read the catalog at all.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}. Fix: check that the path exists and is readable")]
    Io {
        /// The file or directory.
        path: Utf8PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A `Cargo.toml` is not valid TOML.
    #[error("`{path}` is not valid TOML: {source}Fix: correct the syntax of `{path}`")]
    Toml {
        /// The manifest.
        path: Utf8PathBuf,
        /// The parse error (with line and column).
        #[source]
        source: toml::de::Error,
    },
    /// A path under `crates/` is not valid UTF-8.
    #[error("path `{}` is not valid UTF-8. Fix: rename it", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: std::path::PathBuf,
    },
    /// The catalog was read but has validation problems.
    #[error("{}", invalid_message(problems))]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn invalid_message(problems: &[Problem]) -> String {
    let n = problems.len();
    let s = if n == 1 { "" } else { "s" };
    let list: String = problems.iter().map(|p| format!("\n  - {p}")).collect();
    format!("the feature catalog has {n} problem{s}:{list}")
}

/// The set of features, by name, plus the problems found in them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    features: BTreeMap<String, Feature>,
    problems: Vec<Problem>,
}

impl Catalog {
    /// Reads every `root/crates/*/Cargo.toml`. Every folder under `crates/`
    /// is a feature: one without a `Cargo.toml`, or whose `Cargo.toml` has no
    /// `[package.metadata.dominix]`, is a problem. Metadata that cannot be
    /// understood, and every validation failure, become
    /// [`Catalog::problems`]; only unreadable files and TOML syntax errors
    /// stop discovery.
    pub fn discover(root: &Utf8Path) -> Result<Catalog, CatalogError> {
        let crates_dir = root.join("crates");
        let io = |path: &Utf8Path| {
            let path = path.to_owned();
            move |source| CatalogError::Io { path, source }
        };
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(&crates_dir).map_err(io(&crates_dir))? {
            let path = entry.map_err(io(&crates_dir))?.path();
            if path.is_dir() {
                let name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
                dirs.push(name.ok_or(CatalogError::NonUtf8Path { path })?);
            }
        }
        dirs.sort();
        // Each manifest is read just before it is parsed, so the first
        // unreadable or unparsable one (in name order) is the error reported.
        let manifests = dirs.into_iter().map(|dir_name| {
            let abs_manifest = root.join("crates").join(&dir_name).join("Cargo.toml");
            let text = abs_manifest
                .is_file()
                .then(|| std::fs::read_to_string(&abs_manifest));
            Ok((dir_name, text.transpose().map_err(io(&abs_manifest))?))
        });
        Catalog::read_folders(manifests, |fragment| root.join(fragment).is_file())
    }

    /// A catalog from manifest texts instead of the file system:
    /// `(dir_name, text)` is the `Cargo.toml` of `crates/<dir_name>/`
    /// (`dir_name` one path component, as a folder's name would be). Each
    /// manifest is parsed and validated exactly as [`Catalog::discover`]
    /// does, in `dir_name` order, except that `feature.nix` is not looked
    /// for. A manifest that is not valid TOML is [`CatalogError::Toml`].
    pub fn from_manifests<I, D, T>(manifests: I) -> Result<Catalog, CatalogError>
    where
        I: IntoIterator<Item = (D, T)>,
        D: Into<String>,
        T: Into<String>,
    {
        let mut dirs: Vec<(String, Option<String>)> = manifests
            .into_iter()
            .map(|(dir, text)| (dir.into(), Some(text.into())))
            .collect();
        dirs.sort_by(|a, b| a.0.cmp(&b.0));
        Catalog::read_folders(dirs.into_iter().map(Ok), |_| true)
    }

    /// The code shared by [`Catalog::discover`] and
    /// [`Catalog::from_manifests`]: `folders` yields each folder under
    /// `crates/` in name order with its `Cargo.toml` text (`None`: it has
    /// none); `has_fragment` says whether a feature's `feature.nix` exists.
    fn read_folders(
        folders: impl IntoIterator<Item = Result<(String, Option<String>), CatalogError>>,
        has_fragment: impl Fn(&Utf8Path) -> bool,
    ) -> Result<Catalog, CatalogError> {
        let mut features = Vec::new();
        let mut problems = Vec::new();
        // Folders whose metadata could not be read still count as known
        // names, so that references to them do not cascade into more problems.
        let mut broken = BTreeSet::new();
        for folder in folders {
            let (dir_name, text) = folder?;
            let dir = Utf8PathBuf::from("crates").join(&dir_name);
            let table = text.map(|text| {
                toml::from_str(&text).map_err(|source| CatalogError::Toml {
                    path: dir.join("Cargo.toml"),
                    source,
                })
            });
            match read_feature(&dir, &dir_name, table.transpose()?.as_ref()) {
                Err((name, p)) => {
                    problems.extend(p);
                    broken.insert(name);
                }
                Ok(feature) => {
                    let fragment = feature.dir.join("feature.nix");
                    if !has_fragment(&fragment) {
                        problems.push(Problem {
                            file: fragment.clone(),
                            feature: feature.name.clone(),
                            field: "feature.nix".into(),
                            message: format!("missing Nix fragment `{fragment}`"),
                            fix: format!(
                                "create `{fragment}` (a flake-parts module for the feature)"
                            ),
                        });
                    }
                    features.push(feature);
                }
            }
        }
        let mut catalog = Catalog::build(features, &broken);
        // Keep each feature's problems together, in name order.
        problems.append(&mut catalog.problems);
        problems.sort_by(|a, b| a.file.parent().cmp(&b.file.parent()));
        catalog.problems = problems;
        Ok(catalog)
    }

    /// An in-memory catalog, validated like a discovered one except that
    /// `feature.nix` is not looked for. Duplicate names are a problem; the
    /// first feature of that name is kept.
    pub fn from_features(features: Vec<Feature>) -> Catalog {
        Catalog::build(features, &BTreeSet::new())
    }

    fn build(features: Vec<Feature>, broken: &BTreeSet<String>) -> Catalog {
        let mut catalog = Catalog::default();
        for f in features {
            if catalog.features.contains_key(&f.name) {
                catalog.problems.push(Problem::of(
                    &f,
                    "name",
                    format!("another feature is already named `{}`", f.name),
                    "give each feature crate a unique package name",
                ));
            } else {
                catalog.features.insert(f.name.clone(), f);
            }
        }
        catalog.problems.extend(validate(&catalog, broken));
        catalog
    }

    /// `Ok(self)` if there are no problems, else [`CatalogError::Invalid`].
    pub fn into_valid(self) -> Result<Catalog, CatalogError> {
        if self.problems.is_empty() {
            Ok(self)
        } else {
            Err(CatalogError::Invalid {
                problems: self.problems,
            })
        }
    }

    /// Every feature, sorted by name.
    pub fn features(&self) -> btree_map::Values<'_, String, Feature> {
        self.features.values()
    }

    /// The feature called `name`.
    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.features.get(name)
    }

    /// Every feature name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.features.keys().map(String::as_str)
    }

    /// The validation problems found (empty when the catalog is valid).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The nearest feature name to `given`, for "did you mean" hints.
    pub fn suggest(&self, given: &str) -> Option<String> {
        nearest(given, self.names())
    }

    /// The catalog as a JSON array of features (`cargo xtask list --json`):
    /// each `{name, category, summary, requires, conflicts, systems, dir}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!(self.features().collect::<Vec<_>>())
    }
}

/// Turns a parsed manifest (`None`: the folder has none) into a feature; else
/// the name it goes by and its problems.
fn read_feature(
    dir: &Utf8Path,
    dir_name: &str,
    manifest: Option<&toml::Table>,
) -> Result<Feature, (String, Vec<Problem>)> {
    let file = dir.join("Cargo.toml");
    let package = manifest
        .and_then(|m| m.get("package"))
        .and_then(|p| p.as_table());
    let name = package.and_then(|p| p.get("name")).and_then(|n| n.as_str());
    let shown = name.unwrap_or(dir_name).to_owned();
    let problem = |field: &str, message: String, fix: String| Problem {
        file: file.clone(),
        feature: shown.clone(),
        field: field.to_owned(),
        message,
        fix,
    };
    let Some(meta) = package
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.as_table())
        .and_then(|m| m.get("dominix"))
    else {
        let (field, missing, add) = match manifest {
            None => (
                "Cargo.toml",
                format!("`{dir}` has no Cargo.toml"),
                "the feature's Cargo.toml",
            ),
            Some(_) => (
                "metadata",
                "no [package.metadata.dominix] table".into(),
                "it",
            ),
        };
        let message = format!("{missing}, but every folder under crates/ is a feature");
        let fix = format!(
            "add {add} (README, 'Adding a feature'), or move it out of crates/ (tooling crates live in tooling/)"
        );
        return Err((shown.clone(), vec![problem(field, message, fix)]));
    };
    let mut problems = Vec::new();
    if name.is_none() {
        problems.push(problem(
            "name",
            "[package] has no string `name`".into(),
            format!("set `name = \"{dir_name}\"` in [package]"),
        ));
    }
    let parsed = parse_meta(meta, problem).map_err(|errs| problems.extend(errs));
    match (name, parsed) {
        (Some(name), Ok(meta)) if problems.is_empty() => Ok(Feature {
            name: name.to_owned(),
            dir: dir.to_owned(),
            meta,
        }),
        _ => Err((shown, problems)),
    }
}

/// Deserializes the metadata table with serde; on failure, works out which
/// fields are at fault so that every one of them is reported.
fn parse_meta(
    meta: &toml::Value,
    problem: impl Fn(&str, String, String) -> Problem,
) -> Result<FeatureMeta, Vec<Problem>> {
    let Some(table) = meta.as_table() else {
        let found = meta.type_str();
        return Err(vec![problem(
            "metadata",
            format!("[package.metadata.dominix] must be a table, found {found}"),
            "write it as a `[package.metadata.dominix]` table".into(),
        )]);
    };
    let whole = match FeatureMeta::deserialize(meta.clone()) {
        Ok(meta) => return Ok(meta),
        Err(e) => e,
    };
    let mut errs = Vec::new();
    for key in table.keys() {
        if !FeatureMeta::KEYS.contains(&key.as_str()) {
            let hint = did_you_mean(nearest(key, FeatureMeta::KEYS).as_deref(), "");
            let valid = FeatureMeta::KEYS.join(", ");
            errs.push(problem(
                key,
                format!("unknown key `{key}`{hint}"),
                format!("rename or remove it; valid keys: {valid}"),
            ));
        }
    }
    fn check<T: DeserializeOwned>(value: toml::Value) -> Result<(), toml::de::Error> {
        T::deserialize(value).map(drop)
    }
    type Check = fn(toml::Value) -> Result<(), toml::de::Error>;
    // Each key: whether it is required, and the type its value must have.
    let fields: [(&str, bool, Check); 6] = [
        ("category", true, check::<Category>),
        ("summary", true, check::<String>),
        ("requires", false, check::<Vec<String>>),
        ("conflicts", false, check::<Vec<String>>),
        ("systems", true, check::<Vec<System>>),
        ("ceilings", false, check::<BTreeMap<String, Exposure>>),
    ];
    for (key, required, check) in fields {
        match table.get(key).cloned().map(check) {
            None if required => errs.push(problem(
                key,
                format!("missing required key `{key}`"),
                format!("add `{key}` to [package.metadata.dominix]"),
            )),
            Some(Err(e)) => errs.push(problem(
                key,
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                format!("correct `{key}` in [package.metadata.dominix]"),
            )),
            _ => {}
        }
    }
    if errs.is_empty() {
        errs.push(problem(
            "metadata",
            whole.to_string().trim().to_owned(),
            "correct [package.metadata.dominix]".into(),
        ));
    }
    Err(errs)
}

/// The checks shared by discovered and in-memory catalogs.
fn validate(catalog: &Catalog, broken: &BTreeSet<String>) -> Vec<Problem> {
    let known = |name: &str| catalog.get(name).is_some() || broken.contains(name);
    let mut problems = Vec::new();
    for f in catalog.features() {
        let problem =
            |field: &str, message: String, fix: String| Problem::of(f, field, message, fix);
        let dir_name = f.dir.file_name().unwrap_or("");
        if f.name != dir_name {
            problems.push(problem(
                "name",
                format!("name `{}` does not match its directory `{}`", f.name, f.dir),
                format!("rename the crate or its directory so both are `{}`", f.name),
            ));
        }
        if !is_valid_name(&f.name) {
            problems.push(problem(
                "name",
                format!(
                    "`{}` is not a valid feature name (lowercase ASCII letter, then lowercase letters, digits or `-`)",
                    f.name
                ),
                "rename the crate, e.g. `my-feature`".into(),
            ));
        }
        if RESERVED_NAMES.contains(&f.name.as_str()) {
            problems.push(problem(
                "name",
                format!("`{}` is a reserved name", f.name),
                format!("pick another name; reserved: {}", RESERVED_NAMES.join(", ")),
            ));
        }
        if f.meta.summary.trim().is_empty() {
            problems.push(problem(
                "summary",
                "summary is empty".into(),
                "write one line describing the feature".into(),
            ));
        } else if f.meta.summary.contains(['\n', '\r']) {
            problems.push(problem(
                "summary",
                "summary spans several lines".into(),
                "shorten it to a single line".into(),
            ));
        }
        if f.meta.systems.is_empty() {
            problems.push(problem(
                "systems",
                "no systems listed".into(),
                format!(
                    "list the systems the feature supports, from: {}",
                    list(&System::ALL)
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for s in &f.meta.systems {
            if !seen.insert(*s) {
                problems.push(problem(
                    "systems",
                    format!("`{s}` is listed more than once"),
                    "list each system once".into(),
                ));
            }
        }
        for (field, list) in [
            ("requires", &f.meta.requires),
            ("conflicts", &f.meta.conflicts),
        ] {
            let mut seen = BTreeSet::new();
            for other in list {
                if other == &f.name {
                    problems.push(problem(
                        field,
                        format!("`{other}` names the feature itself"),
                        format!("remove `{other}` from {field}"),
                    ));
                } else if !known(other) {
                    let hint = did_you_mean(catalog.suggest(other).as_deref(), "");
                    problems.push(problem(
                        field,
                        format!("`{other}`: no such feature{hint}"),
                        format!("correct the name in [package.metadata.dominix] {field}"),
                    ));
                } else if !seen.insert(other.as_str()) {
                    problems.push(problem(
                        field,
                        format!("`{other}` is listed more than once"),
                        "list it once".into(),
                    ));
                }
            }
        }
        for other in &f.meta.requires {
            if f.meta.conflicts.contains(other) && other != &f.name {
                problems.push(problem(
                    "conflicts",
                    format!("`{other}` is both required and conflicting"),
                    format!("remove `{other}` from either requires or conflicts"),
                ));
            }
            if let Some(req) = catalog.get(other) {
                let systems = f.meta.systems.iter().copied();
                let missing: Vec<System> = systems.filter(|s| !req.supports(*s)).collect();
                if !missing.is_empty() {
                    problems.push(problem(
                        "systems",
                        format!(
                            "supports {} but requires `{other}`, which does not",
                            list(&missing)
                        ),
                        format!("drop those systems here or add them to `{other}`"),
                    ));
                }
            }
        }
    }
    problems.extend(cycle_problems(catalog));
    problems
}

/// `^[a-z][a-z0-9-]*$`
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

/// One problem per `requires` cycle, reported on its alphabetically first member.
fn cycle_problems(catalog: &Catalog) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut reported = BTreeSet::new();
    for mut ring in crate::resolve::all_cycles(catalog) {
        // The path is `a -> b -> a`; rotate the ring to start at its smallest
        // name so each cycle is reported once.
        ring.pop();
        let start = (0..ring.len()).min_by_key(|&i| &ring[i]).unwrap_or(0);
        ring.rotate_left(start);
        let first = ring.first().and_then(|name| catalog.get(name));
        // A feature requiring itself is already reported on its own.
        let Some(first) = first.filter(|_| ring.len() > 1) else {
            continue;
        };
        if reported.insert(ring.clone()) {
            ring.push(first.name.clone());
            problems.push(Problem::of(
                first,
                "requires",
                format!("requires cycle: {}", ring.join(" -> ")),
                "remove one `requires` entry along the cycle",
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This checkout (`tooling/dominix/../..`).
    fn repo_root() -> Utf8PathBuf {
        Utf8PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    #[test]
    fn from_manifests_reads_like_discover() -> Result<(), Box<dyn std::error::Error>> {
        let root = repo_root();
        let discovered = Catalog::discover(&root)?;
        let mut manifests = Vec::new();
        for f in discovered.features() {
            manifests.push((
                f.dir.file_name().unwrap_or_default().to_owned(),
                std::fs::read_to_string(root.join(f.manifest_path()))?,
            ));
        }
        // Given in reverse order: the catalog sorts them by folder name.
        manifests.reverse();
        let read = Catalog::from_manifests(manifests)?;
        assert_eq!(
            read.features().collect::<Vec<_>>(),
            discovered.features().collect::<Vec<_>>()
        );
        assert_eq!(read.problems(), discovered.problems());
        Ok(())
    }

    #[test]
    fn from_manifests_reports_problems_and_syntax_errors() {
        let no_meta = "[package]\nname = \"other\"\n";
        let requires = "[package]\nname = \"a\"\n[package.metadata.dominix]\ncategory = \"ui\"\n\
                        summary = \"s\"\nrequires = [\"other\", \"nope\"]\nsystems = [\"x86_64-linux\"]\n";
        let catalog = Catalog::from_manifests([("a", requires), ("other", no_meta)]);
        let problems: Vec<(String, String)> = catalog
            .iter()
            .flat_map(Catalog::problems)
            .map(|p| (p.file.to_string(), p.field.clone()))
            .collect();
        // `other` is broken but known, so only `nope` is unknown.
        assert_eq!(
            problems,
            [
                ("crates/a/Cargo.toml".into(), "requires".into()),
                ("crates/other/Cargo.toml".into(), "metadata".into()),
            ]
        );
        let err = Catalog::from_manifests([("a", "[package")]).map(drop);
        assert!(
            matches!(&err, Err(CatalogError::Toml { path, .. }) if path == "crates/a/Cargo.toml"),
            "{err:?}"
        );
    }
}
