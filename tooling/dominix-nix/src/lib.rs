//! Every Nix command line domi-nix runs, built and run in one place.
//!
//! ```
//! use dominix_nix::NixCommand;
//! let cmd = NixCommand::instantiate().args(["--parse", "flake.nix"]);
//! assert_eq!(
//!     cmd.argv(),
//!     ["nix-instantiate", "--extra-experimental-features", "nix-command flakes", "--parse", "flake.nix"]
//! );
//! ```
//!
//! Programs are taken from `PATH`, so tests put a recording `nix` first.

mod command;
mod store_path;

pub use command::{
    DEFAULT_TIMEOUT, NixCommand, NixError, Output, available, default_timeout, set_default_timeout,
};
pub use store_path::{StorePath, StorePathError, out_paths};

/// The experimental features every Nix call passes: Nix 2.8 needs them for
/// `nix build`, `nix eval` and `builtins.fetchTree`. Spelled here only.
pub const FEATURES: &str = "nix-command flakes";
