//! The domi-nix feature catalog.
//!
//! domi-nix is a NixOS system split into a *trunk* (the central
//! configuration) and *features* (branches), one Cargo crate per feature.
//! A feature crate `crates/<name>/` declares itself in its `Cargo.toml`:
//!
//! ```toml
//! [package.metadata.dominix]
//! category = "security"   # services | security | ui | packages | features
//! summary = "one line"
//! requires = []           # feature names
//! conflicts = []          # feature names
//! systems = ["x86_64-linux", "aarch64-linux"]
//! ```
//!
//! and ships its Nix fragment, a flake-parts module, as `crates/<name>/feature.nix`.
//!
//! This crate is the single Rust reader of that metadata:
//!
//! - [`Catalog::discover`] finds and validates the features ([`Problem`]s are
//!   collected, not thrown one at a time);
//! - [`Catalog::resolve`] turns a [`Selection`] (feature names or a
//!   [`Profile`], optionally a [`System`]) into a [`Resolution`]: the
//!   `requires` closure in dependency order, each feature with its
//!   [`Reason`], after checking conflicts, cycles and systems;
//! - [`render::trunk_flake`] writes the `flake.nix` of a trunk, escaping
//!   every string through its Nix quoting (`nix::string_literal`).
//!
//! ```
//! use dominix::{Catalog, RenderOptions, Selection, System};
//!
//! # let root = camino::Utf8Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
//! // `root`: the domi-nix checkout.
//! let catalog = Catalog::discover(root)?.into_valid()?;
//!
//! let res = catalog.resolve(&Selection::features(["ui", "hardening"]))?;
//! // ui requires packages: the closure, in dependency order.
//! assert_eq!(res.names(), ["hardening", "packages", "ui"]);
//!
//! let flake = dominix::trunk_flake(&res, &RenderOptions {
//!     flake_ref: "github:o/domi-nix".into(),
//!     system: System::X86_64Linux,
//!     command: "cargo xtask compose --features ui,hardening".into(),
//! });
//! assert!(flake.contains("        m.hardening\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! It is pure: it reads `Cargo.toml` files and produces values and text. It
//! never runs `nix` or any other program (that is the xtask's job), and it
//! knows nothing about the xtask or its command line beyond the hints its
//! error messages give.

mod catalog;
mod meta;
pub mod nix;
pub mod render;
mod resolve;
mod suggest;
#[cfg(test)]
mod tests;

pub use catalog::{Catalog, CatalogError, Problem};
pub use meta::{
    Category, Exposure, Feature, FeatureMeta, ParseCategoryError, ParseExposureError,
    ParseSystemError, System,
};
pub use render::{RenderOptions, trunk_flake};
pub use resolve::{
    FeatureSystems, LeftOut, LeftOutReason, ParseProfileError, Profile, Reason, Requested,
    Resolution, ResolveError, ResolvedFeature, Selection,
};
