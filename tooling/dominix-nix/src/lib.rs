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

/// The host's shell and the libraries it links, bound into Nix's build
/// chroot for the tiny `builder = "/bin/sh"` derivations domi-nix's tests
/// and benchmarks build without nixpkgs. Nix builds in a chroot whenever
/// the store is diverted (`store = <dir>`, as on a machine whose Nix store
/// starts empty) even with `sandbox = false`, and there `/bin/sh` would not
/// exist. Each path is optional (`?`): one the host lacks is no error.
pub const HOST_SHELL_SANDBOX_PATHS: &str = "extra-sandbox-paths = /bin? /usr? /lib? /lib64?";

/// `NIX_CONFIG` as this process has it, with [`HOST_SHELL_SANDBOX_PATHS`]
/// after it, for a Nix that builds `builder = "/bin/sh"` derivations.
pub fn nix_config_with_host_shell() -> String {
    match std::env::var("NIX_CONFIG") {
        Ok(config) if !config.trim().is_empty() => format!("{config}\n{HOST_SHELL_SANDBOX_PATHS}"),
        _ => HOST_SHELL_SANDBOX_PATHS.to_owned(),
    }
}
