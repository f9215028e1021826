//! Nix invocations as values: every call gets the experimental-feature flags,
//! outputs come back as JSON (`--json`; Nix 2.8 has no `--print-out-paths`),
//! and store paths are validated before they are used.

use camino::Utf8Path;
use xshell::{Shell, cmd};

use crate::{Failure, Result};

pub use dominix_nix::FEATURES as NIX_FEATURES;

pub use dominix_nix::StorePath;

/// Parses `nix build --json` output: the `out` paths of every installable.
pub fn out_paths(json: &str) -> Result<Vec<StorePath>> {
    Ok(dominix_nix::out_paths(json)?)
}

/// `nix build --json --no-link INSTALLABLE [--dry-run]`; the out paths.
/// Nix's own progress and errors go straight to the terminal.
pub fn build(sh: &Shell, installable: &str, dry_run: bool) -> Result<Vec<StorePath>> {
    let dry = dry_run.then_some("--dry-run");
    let stdout = cmd!(sh, "nix --extra-experimental-features {NIX_FEATURES} build --json --no-link {installable} {dry...}")
        .read()
        .map_err(|e| Failure::new(build_failure(installable, &e.to_string())))?;
    if dry_run {
        return Ok(Vec::new());
    }
    out_paths(&stdout)
}

/// What to say when `nix build` fails: Nix's own error is already on the
/// terminal; name what was built and the usual fixes.
fn build_failure(installable: &str, error: &str) -> String {
    format!(
        "building {installable} failed ({error}); Nix's error is above.\n\
         Fix: if Nix could not download (no network), this tier needs full nixpkgs — run it where \
         GitHub and cache.nixos.org are reachable, or use the offline tiers (`cargo xtask check`). \
         If a Linux system cannot be built on this host (macOS), configure a Linux builder \
         (nix-darwin: `nix.linux-builder.enable = true`)."
    )
}

/// Parses files with the real Nix parser: all in one process, and only when
/// that fails (Nix stops at the first error) one by one, so every broken file
/// is reported with Nix's message.
pub fn parse_files<'a>(
    sh: &Shell,
    files: &'a [camino::Utf8PathBuf],
) -> Vec<(&'a Utf8Path, String)> {
    if files.is_empty() || parse(sh, files).is_ok() {
        return Vec::new();
    }
    files
        .iter()
        .filter_map(|file| {
            parse(sh, std::slice::from_ref(file))
                .err()
                .map(|e| (file.as_path(), e))
        })
        .collect()
}

fn parse(sh: &Shell, files: &[camino::Utf8PathBuf]) -> std::result::Result<(), String> {
    let output = cmd!(sh, "nix-instantiate --parse {files...}")
        .quiet()
        .ignore_status()
        .ignore_stdout()
        .output()
        .map_err(|e| format!("cannot run nix-instantiate: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

pub fn available(sh: &Shell, program: &str) -> bool {
    cmd!(sh, "{program} --version")
        .quiet()
        .ignore_stderr()
        .ignore_stdout()
        .run()
        .is_ok()
}

/// The host system of this machine, in Nix's spelling.
pub fn host_system() -> String {
    let os = if cfg!(target_os = "macos") {
        "darwin"
    } else {
        "linux"
    };
    format!("{}-{os}", std::env::consts::ARCH)
}
