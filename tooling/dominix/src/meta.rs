//! The feature metadata schema: `[package.metadata.dominix]` in a feature
//! crate's `Cargo.toml`, and the value types it is made of.

use std::fmt;
use std::str::FromStr;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

/// Defines a fieldless enum whose variants each have one spelling, with
/// `ALL` (every value, in declaration order), `as_str`, `Display`, and
/// `FromStr` failing with `$error`, whose message lists the valid spellings.
/// Where it is used, `std::fmt` and `std::str::FromStr` must be in scope.
macro_rules! spelled_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $($(#[$variant_attr:meta])* $variant:ident = $spelling:literal,)+
        }
        $(#[$error_attr:meta])*
        pub struct $error:ident ($one:literal, $many:literal);
    ) => {
        $(#[$attr])*
        pub enum $name {
            $($(#[$variant_attr])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($name::$variant),+].len()] = [$($name::$variant),+];

            /// The spelling used in metadata and on the command line.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $spelling,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $(#[$error_attr])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown {} `{given}`; valid {}: {}", $one, $many, $crate::meta::list(&$name::ALL))]
        pub struct $error {
            /// The rejected input.
            pub given: String,
        }

        impl FromStr for $name {
            type Err = $error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let found = $name::ALL.into_iter().find(|v| v.as_str() == s);
                found.ok_or_else(|| $error { given: s.to_owned() })
            }
        }
    };
}
pub(crate) use spelled_enum;

spelled_enum! {
    /// What kind of feature this is; used to group `cargo xtask list`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Category {
        /// Long-running services.
        Services = "services",
        /// Hardening and other security settings.
        Security = "security",
        /// What the user sees (shells, banners, desktops).
        Ui = "ui",
        /// Package sets.
        Packages = "packages",
        /// Anything else.
        Features = "features",
    }
    /// Error of [`Category::from_str`].
    pub struct ParseCategoryError("category", "categories");
}

spelled_enum! {
    /// A Nix system a feature can be built for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    pub enum System {
        /// `x86_64-linux`
        #[serde(rename = "x86_64-linux")]
        X86_64Linux = "x86_64-linux",
        /// `aarch64-linux`
        #[serde(rename = "aarch64-linux")]
        Aarch64Linux = "aarch64-linux",
    }
    /// Error of [`System::from_str`]; its message lists the valid systems.
    pub struct ParseSystemError("system", "systems");
}

/// Comma-separated list of displayable values.
pub(crate) fn list<T: fmt::Display>(items: &[T]) -> String {
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    items.join(", ")
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

/// One feature of the catalog. Serialized flat, for `cargo xtask list --json`:
/// `name, category, summary, requires, conflicts, systems, dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    /// The feature (and crate) name.
    pub name: String,
    /// The metadata from `Cargo.toml`.
    #[serde(flatten)]
    pub meta: FeatureMeta,
    /// The crate directory relative to the workspace root, e.g. `crates/hardening`.
    pub dir: Utf8PathBuf,
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
