//! The `remote-access` branch of domi-nix.
//!
//! This feature has no program of its own: the crate carries its catalog
//! metadata (`Cargo.toml`), its Nix fragment (`feature.nix`, `nixos.nix`,
//! `vm-test.nix`) and its tests (`tests/`), so `cargo test -p remote-access`
//! tests exactly this branch.
