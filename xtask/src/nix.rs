//! The xtask's Nix calls, built by `dominix-nix` (the one place that spells
//! Nix's command lines): outputs come back as JSON (`--json`; Nix 2.8 has no
//! `--print-out-paths`), and store paths are validated before they are used.

use camino::Utf8Path;
use xshell::Shell;

use dominix::System;

use crate::{Failure, Result};

pub use dominix_nix::{NixCommand, StorePath};

/// No extra arguments for [`build`].
pub const NO_ARGS: [&str; 0] = [];

/// `nix build --json --no-link --log-format internal-json -v INSTALLABLE
/// EXTRA…`, its progress shown (xtask/src/progress.rs); the out paths. A
/// failed build's last log lines and the `nix log` command are printed.
/// With `dry_run`, `nix build --json --no-link INSTALLABLE --dry-run EXTRA…`
/// instead, whose list of what would be built goes straight to the terminal.
pub fn build<S: AsRef<std::ffi::OsStr>>(
    sh: &Shell,
    installable: &str,
    extra: impl IntoIterator<Item = S>,
    dry_run: bool,
) -> Result<Vec<StorePath>> {
    let command = build_command(installable, extra, dry_run).current_dir(sh.current_dir());
    if dry_run {
        command
            .stderr_to_terminal()
            .output()
            .map_err(|e| Failure::new(build_failure(installable, &e)))?;
        return Ok(Vec::new());
    }
    let label = installable.rsplit('#').next().unwrap_or(installable);
    let finished = crate::progress::run(&command, label);
    let failed = |error: dominix_nix::NixError| {
        crate::progress::print_failures(&finished.state);
        Failure::new(build_failure(installable, &error))
    };
    match finished.result {
        Ok(status) if status.success() => Ok(dominix_nix::out_paths(&finished.stdout)?),
        Ok(status) => Err(failed(dominix_nix::NixError::Failed {
            command: command.display(),
            status: status.to_string(),
            stderr: finished.state.errors().join("\n"),
        })),
        Err(e) => Err(failed(e)),
    }
}

/// The command line of [`build`].
pub fn build_command<S: AsRef<std::ffi::OsStr>>(
    installable: &str,
    extra: impl IntoIterator<Item = S>,
    dry_run: bool,
) -> NixCommand {
    let build = NixCommand::nix("build").args(["--json", "--no-link"]);
    let build = if dry_run {
        build.args([installable, "--dry-run"])
    } else {
        build
            .args(dominix_nix::builds::PROGRESS_ARGS)
            .arg(installable)
    };
    build.args(extra)
}

/// What to say when `nix build` fails. Only when Nix ran and failed is its
/// own error on the terminal already; then name what was built and the
/// usual fixes. Otherwise (not installed, timed out) the error says it all.
fn build_failure(installable: &str, error: &dominix_nix::NixError) -> String {
    match error {
        dominix_nix::NixError::Failed { status, .. } => format!(
            "building {installable} failed ({status}); Nix's error is printed above. \
             Fix: if Nix could not download (no network), this tier needs full nixpkgs — run it where \
             GitHub and cache.nixos.org are reachable, or use the offline tiers (`cargo xtask check`). \
             If a Linux system cannot be built on this host (macOS), configure a Linux builder \
             (nix-darwin: `nix.linux-builder.enable = true`)."
        ),
        other => format!("building {installable}: {other}"),
    }
}

/// Parses files with the real Nix parser: all in one process, and only when
/// that fails (Nix stops at the first error) one by one, so every broken file
/// is reported with Nix's message.
pub fn parse_files(files: &[camino::Utf8PathBuf]) -> Vec<(&Utf8Path, String)> {
    if files.is_empty() || parse_error(files).is_none() {
        return Vec::new();
    }
    let one = |file: &camino::Utf8PathBuf| parse_error(std::slice::from_ref(file));
    files
        .iter()
        .filter_map(|file| Some((file.as_path(), one(file)?)))
        .collect()
}

/// Nix's error when `files` do not all parse.
fn parse_error(files: &[camino::Utf8PathBuf]) -> Option<String> {
    match NixCommand::instantiate().arg("--parse").args(files).run() {
        Ok((status, _)) if status.success() => None,
        Ok((_, output)) => Some(output.stderr.trim().to_owned()),
        Err(e) => Some(e.to_string()),
    }
}

/// Whether `program --version` runs (for tools other than Nix; Nix itself
/// is asked with `dominix_nix::available`).
pub fn available(sh: &Shell, program: &str) -> bool {
    available_tool(sh.current_dir(), program)
}

/// [`available`], run in `dir`.
pub fn available_tool(dir: impl AsRef<std::path::Path>, program: &str) -> bool {
    NixCommand::tool(program)
        .arg("--version")
        .current_dir(dir)
        .run()
        .is_ok_and(|(status, _)| status.success())
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

/// The Linux guest a host runs (mirrors `guestOf` in nix-modules/systems.nix).
pub fn guest_of(host: &str) -> Result<System> {
    match host {
        "x86_64-linux" | "x86_64-darwin" => Ok(System::X86_64Linux),
        "aarch64-linux" | "aarch64-darwin" => Ok(System::Aarch64Linux),
        other => Err(Failure::usage(format!(
            "unsupported host `{other}`. Fix: use one of x86_64-linux, aarch64-linux, aarch64-darwin, x86_64-darwin"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_guests() {
        assert_eq!(guest_of("aarch64-darwin").ok(), Some(System::Aarch64Linux));
        assert_eq!(guest_of("x86_64-darwin").ok(), Some(System::X86_64Linux));
        assert!(guest_of("riscv64-linux").is_err_and(|e| e.code == 2));
    }
}
