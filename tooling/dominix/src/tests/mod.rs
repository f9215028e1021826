//! Tests on in-memory catalogs: validation, resolution, rendering.

mod render;
mod resolve;
mod validate;

use crate::{Catalog, Category, Feature, FeatureMeta, System};

/// A valid feature supporting every system, with no relations.
pub fn feature(name: &str) -> Feature {
    Feature {
        name: name.to_owned(),
        dir: format!("crates/{name}").into(),
        meta: FeatureMeta {
            category: Category::Features,
            summary: format!("test feature {name}"),
            requires: Vec::new(),
            conflicts: Vec::new(),
            systems: System::ALL.to_vec(),
            ceilings: Default::default(),
        },
    }
}

/// Builder-style edits of a [`Feature`].
pub trait With: Sized {
    fn requires(self, names: &[&str]) -> Self;
    fn conflicts(self, names: &[&str]) -> Self;
    fn systems(self, systems: &[System]) -> Self;
}

impl With for Feature {
    fn requires(mut self, names: &[&str]) -> Self {
        self.meta.requires = names.iter().map(|s| s.to_string()).collect();
        self
    }
    fn conflicts(mut self, names: &[&str]) -> Self {
        self.meta.conflicts = names.iter().map(|s| s.to_string()).collect();
        self
    }
    fn systems(mut self, systems: &[System]) -> Self {
        self.meta.systems = systems.to_vec();
        self
    }
}

pub const X86: System = System::X86_64Linux;
pub const ARM: System = System::Aarch64Linux;

/// A catalog exercising requires, conflicts and systems.
pub fn world() -> Catalog {
    Catalog::from_features(vec![
        feature("hardening"),
        feature("ui").requires(&["hardening"]),
        feature("base"),
        feature("net").requires(&["base"]),
        feature("web").requires(&["net", "hardening"]),
        feature("ssh").requires(&["net"]).conflicts(&["telnet"]),
        feature("telnet"),
        feature("old").requires(&["telnet"]),
        feature("x86only").systems(&[X86]),
        feature("armonly").systems(&[ARM]),
        feature("needs-x86").requires(&["x86only"]).systems(&[X86]),
    ])
}
