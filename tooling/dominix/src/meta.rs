//! The feature metadata schema: `[package.metadata.dominix]` in a feature
//! crate's `Cargo.toml`, and the value types it is made of.

use std::fmt;
use std::str::FromStr;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

/// What kind of feature this is; used to group `cargo xtask list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Long-running services.
    Services,
    /// Hardening and other security settings.
    Security,
    /// What the user sees (shells, banners, desktops).
    Ui,
    /// Package sets.
    Packages,
    /// Anything else.
    Features,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 5] = [
        Category::Services,
        Category::Security,
        Category::Ui,
        Category::Packages,
        Category::Features,
    ];

    /// The metadata spelling, e.g. `"security"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Services => "services",
            Category::Security => "security",
            Category::Ui => "ui",
            Category::Packages => "packages",
            Category::Features => "features",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Category::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{given}`; valid categories: {}", list(&Category::ALL))]
pub struct ParseCategoryError {
    /// The rejected input.
    pub given: String,
}

impl FromStr for Category {
    type Err = ParseCategoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseCategoryError {
                given: s.to_owned(),
            })
    }
}

/// A Nix system a feature can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum System {
    /// `x86_64-linux`
    #[serde(rename = "x86_64-linux")]
    X86_64Linux,
    /// `aarch64-linux`
    #[serde(rename = "aarch64-linux")]
    Aarch64Linux,
}

impl System {
    /// Every supported system, in declaration order.
    pub const ALL: [System; 2] = [System::X86_64Linux, System::Aarch64Linux];

    /// The Nix spelling, e.g. `"x86_64-linux"`.
    pub fn as_str(self) -> &'static str {
        match self {
            System::X86_64Linux => "x86_64-linux",
            System::Aarch64Linux => "aarch64-linux",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`System::from_str`]; its message lists the valid systems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown system `{given}`; valid systems: {}", list(&System::ALL))]
pub struct ParseSystemError {
    /// The rejected input.
    pub given: String,
}

impl FromStr for System {
    type Err = ParseSystemError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        System::ALL
            .into_iter()
            .find(|sys| sys.as_str() == s)
            .ok_or_else(|| ParseSystemError {
                given: s.to_owned(),
            })
    }
}

/// Comma-separated list of displayable values.
pub(crate) fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `[package.metadata.dominix]` table of a feature crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureMeta {
    /// Grouping for listings.
    pub category: Category,
    /// One line describing the feature.
    pub summary: String,
    /// Features that must be present whenever this one is.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Features that must never be present together with this one.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// Systems the feature supports (non-empty).
    pub systems: Vec<System>,
}

impl FeatureMeta {
    /// The keys the metadata table accepts.
    pub(crate) const KEYS: [&'static str; 5] =
        ["category", "summary", "requires", "conflicts", "systems"];
}

/// One feature of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// The feature (and crate) name.
    pub name: String,
    /// The crate directory relative to the workspace root, e.g. `crates/hardening`.
    pub dir: Utf8PathBuf,
    /// The metadata from `Cargo.toml`.
    pub meta: FeatureMeta,
}

impl Feature {
    /// Whether the feature can be built for `system`.
    pub fn supports(&self, system: System) -> bool {
        self.meta.systems.contains(&system)
    }

    /// `dir/Cargo.toml`, the file the metadata lives in.
    pub fn manifest_path(&self) -> Utf8PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// `dir/feature.nix`, the feature's flake-parts module.
    pub(crate) fn fragment_path(&self) -> Utf8PathBuf {
        self.dir.join("feature.nix")
    }
}

/// Serialized flat, for `cargo xtask list --json`:
/// `name, category, summary, requires, conflicts, systems, dir`.
impl Serialize for Feature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            name: &'a str,
            category: Category,
            summary: &'a str,
            requires: &'a [String],
            conflicts: &'a [String],
            systems: &'a [System],
            dir: &'a str,
        }
        Flat {
            name: &self.name,
            category: self.meta.category,
            summary: &self.meta.summary,
            requires: &self.meta.requires,
            conflicts: &self.meta.conflicts,
            systems: &self.meta.systems,
            dir: self.dir.as_str(),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_round_trips_and_lists_valid_values() {
        for s in System::ALL {
            assert_eq!(s.as_str().parse::<System>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        let err = "x86_64-darwin"
            .parse::<System>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown system `x86_64-darwin`; valid systems: x86_64-linux, aarch64-linux")
        );
    }

    #[test]
    fn category_round_trips() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        assert!("Security".parse::<Category>().is_err());
    }

    #[test]
    fn serde_spellings_match_display() -> Result<(), serde_json::Error> {
        for s in System::ALL {
            assert_eq!(serde_json::to_value(s)?, serde_json::json!(s.as_str()));
        }
        for c in Category::ALL {
            assert_eq!(serde_json::to_value(c)?, serde_json::json!(c.as_str()));
        }
        Ok(())
    }
}
