//! The feature metadata schema: `[package.metadata.dominix]` in a feature
//! crate's `Cargo.toml`, and the value types it is made of.

use std::collections::BTreeMap;
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
    /// The highest exposure `cargo xtask audit` accepts for each systemd
    /// service this feature defines or sandboxes, by unit name (without
    /// `.service`), e.g. `ceilings = { domi-nix-status = 1.5 }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ceilings: BTreeMap<String, Exposure>,
}

impl FeatureMeta {
    /// The keys the metadata table accepts.
    pub(crate) const KEYS: [&'static str; 6] = [
        "category",
        "summary",
        "requires",
        "conflicts",
        "systems",
        "ceilings",
    ];
}

/// An exposure level as `systemd-analyze security` scores a unit: 0.0
/// (perfect) to 10.0 (dangerous), in tenths, the precision systemd prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Exposure(u8);

/// Error of [`Exposure::from_str`] and of reading one from metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{given}` is not an exposure: use a number from 0.0 to 10.0 with at most one decimal, e.g. 1.5"
)]
pub struct ParseExposureError {
    /// The rejected input.
    pub given: String,
}

impl Exposure {
    /// The worst score systemd gives.
    pub const MAX: Exposure = Exposure(100);

    /// From tenths (15 is 1.5); `None` above 100.
    pub const fn from_tenths(tenths: u8) -> Option<Exposure> {
        if tenths <= 100 {
            Some(Exposure(tenths))
        } else {
            None
        }
    }

    /// In tenths: 1.5 is 15.
    pub fn tenths(self) -> u8 {
        self.0
    }

    /// As a number, e.g. 1.5.
    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// From a number; `None` outside 0..=10 or with more than one decimal.
    pub fn from_value(value: f64) -> Option<Exposure> {
        let tenths = (value * 10.0).round();
        let exact = (value * 10.0 - tenths).abs() < 1e-6;
        (exact && (0.0..=100.0).contains(&tenths)).then_some(Exposure(tenths as u8))
    }
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

impl FromStr for Exposure {
    type Err = ParseExposureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ParseExposureError {
            given: s.to_owned(),
        };
        let (whole, tenth) = s.trim().split_once('.').unwrap_or((s.trim(), "0"));
        let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
        if !digits(whole) || !digits(tenth) || tenth.len() > 1 || whole.len() > 2 {
            return Err(error());
        }
        let tenths = whole.parse::<u8>().map_err(|_| error())? * 10
            + tenth.parse::<u8>().map_err(|_| error())?;
        Exposure::from_tenths(tenths).ok_or_else(error)
    }
}

impl Serialize for Exposure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.value())
    }
}

impl<'de> Deserialize<'de> for Exposure {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Exposure;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an exposure from 0.0 to 10.0 with at most one decimal, e.g. 1.5")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Exposure, E> {
                Exposure::from_value(v).ok_or_else(|| {
                    E::custom(ParseExposureError {
                        given: v.to_string(),
                    })
                })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Exposure, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Exposure, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
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
    fn exposures_are_tenths_from_zero_to_ten() {
        for (text, tenths) in [
            ("0", 0),
            ("1.5", 15),
            ("10", 100),
            ("10.0", 100),
            ("9.9", 99),
        ] {
            assert_eq!(
                text.parse::<Exposure>().map(Exposure::tenths),
                Ok(tenths),
                "{text}"
            );
        }
        for bad in ["", "-1", "10.1", "1.55", "1.", ".5", "abc", "100", "1e1"] {
            assert!(bad.parse::<Exposure>().is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            Exposure::from_value(1.5).map(|e| e.to_string()),
            Some("1.5".into())
        );
        assert_eq!(Exposure::from_value(1.55), None);
        assert_eq!(Exposure::from_value(10.5), None);
        let meta: BTreeMap<String, Exposure> =
            toml::from_str("a = 1.5\nb = 2\n").expect("valid ceilings");
        assert_eq!(meta["a"].tenths(), 15);
        assert_eq!(meta["b"].tenths(), 20);
        assert!(toml::from_str::<BTreeMap<String, Exposure>>("a = 11.0").is_err());
        assert!(toml::from_str::<BTreeMap<String, Exposure>>("a = \"1\"").is_err());
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
