//! The `packages` branch of domi-nix.
//!
//! This feature has no program of its own: it turns every program a branch
//! names in `dominix.packages` into the overlay `pkgs.domi-nix.<program>`.
//! The crate carries its catalog metadata (`Cargo.toml`), its Nix fragment
//! (`feature.nix`, `nixos.nix`, `vm-test.nix`) and its tests (`tests/`).
