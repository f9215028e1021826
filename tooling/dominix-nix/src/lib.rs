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

pub mod builds;
mod command;
mod store_path;

pub use command::{
    DEFAULT_TIMEOUT, NixCommand, NixError, Output, Stream, available, default_timeout,
    interrupt_flag, interrupted, parse_version, set_default_timeout, version,
};
pub use store_path::{StorePath, StorePathError, out_paths};

/// The experimental features every Nix call passes: Nix 2.8 needs them for
/// `nix build`, `nix eval` and `builtins.fetchTree`. Spelled here only.
pub const FEATURES: &str = "nix-command flakes";
