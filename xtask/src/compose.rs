//! `cargo xtask compose`: a standalone trunk flake for a selection.

use camino::{Utf8Path, Utf8PathBuf};
use dominix::{RenderOptions, Resolution, System, trunk_flake};

use crate::flags::{Select, shell_quote};
use crate::{Failure, Project, Result, fsx, nix};

/// Marks a directory as written by `compose`, so it may be rewritten.
pub const MARKER: &str = ".domi-nix-trunk";

/// The guest system for a resolution: `--system`, else this machine's CPU if
/// the selection supports it, else the first system it supports.
pub fn system_for(res: &Resolution) -> System {
    let native = nix::guest_of(&nix::host_system()).unwrap_or(System::X86_64Linux);
    let supported = Some(native).filter(|s| res.systems.contains(s));
    res.system
        .or(supported)
        .or(res.systems.first().copied())
        .unwrap_or(native)
}

impl crate::flags::Compose {
    pub fn run(self, _sh: &xshell::Shell, project: &Project) -> Result<()> {
        let catalog = project.valid_catalog()?;
        let res = resolve(&catalog, &self.select.selection())?;
        if !res.left_out.is_empty() {
            let names: Vec<String> = res.left_out.iter().map(ToString::to_string).collect();
            eprintln!("note: profile `full` leaves out {}", names.join(", "));
        }
        let reference = self.flake_ref.unwrap_or_else(|| project.flake_ref());
        let path = write_trunk(&self.out, &render(&res, reference.clone(), &self.select))?;
        println!("wrote {path}");
        // `path:` because a folder inside a git work tree would otherwise be
        // read as the repository, where the new file is untracked.
        let dir = std::fs::canonicalize(&self.out)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| self.out.to_string());
        // Building today's domi-nix, not the one a lock file pinned.
        let vm = format!("path:{dir}#packages.{}.vm", nix::host_system());
        let next = nix::NixCommand::nix("build")
            .arg(vm)
            .args(dominix::render::current_input_args(&reference));
        let line: Vec<String> = next.argv().iter().map(|w| shell_quote(w)).collect();
        println!("next: {}", line.join(" "));
        Ok(())
    }
}

/// Resolves a selection given on the command line. A selection that cannot
/// be composed (unknown name, conflict, unsupported system) is a usage error
/// (exit 2) in every command; a catalog that is wrong in itself (unknown
/// requirement, `requires` cycle) is a failure (exit 1).
pub fn resolve(catalog: &dominix::Catalog, selection: &dominix::Selection) -> Result<Resolution> {
    catalog.resolve(selection).map_err(|e| {
        use dominix::ResolveError::{Cycle, UnknownRequirement};
        let in_catalog = matches!(e, UnknownRequirement { .. } | Cycle { .. });
        if in_catalog {
            Failure::new(e.to_string())
        } else {
            Failure::usage(e.to_string())
        }
    })
}

/// The trunk flake of `res`, referring to domi-nix as `flake_ref`.
pub fn render(res: &Resolution, flake_ref: String, select: &Select) -> String {
    let opts = RenderOptions {
        flake_ref,
        system: system_for(res),
        command: format!("cargo xtask compose {}", select.selection().to_flags()),
    };
    trunk_flake(res, &opts)
}

/// Writes a trunk into `out`: a whole new directory is assembled next to it
/// and renamed into place (swapped atomically with an existing trunk), so
/// that at any moment — interrupted, killed, or racing another compose —
/// `out` is the old trunk, the new one, or absent, never half of either.
/// An existing `out` is only replaced if it carries the compose marker.
///
/// Runs into the same parent directory serialise on a lock of that
/// directory. SIGINT, SIGTERM and SIGHUP before the swap remove the staging
/// directory and fail (exit 1); a staging directory left by a killed run
/// (SIGKILL) is removed by the next run under the lock.
///
/// A trunk is written without a `flake.lock`: a lock left by an earlier
/// `nix build` pins the domi-nix of that day (and, even under
/// `--override-input domi-nix …`, still supplies that old domi-nix's own
/// inputs), so a recomposed trunk starts unlocked and builds today's tree
/// (see `dominix::render::current_input_args`).
pub fn write_trunk(out: &Utf8Path, flake: &str) -> Result<Utf8PathBuf> {
    let interrupted = fsx::Interrupts::watch()?;
    let parent = fsx::parent_of(out);
    std::fs::create_dir_all(parent).map_err(|e| {
        Failure::new(format!(
            "cannot create {parent}, the parent of --out {out}: {e}. Fix: choose an --out whose parent you can create"
        ))
    })?;
    let _lock = fsx::DirLock::acquire(parent, &interrupted)?;
    fsx::sweep_staging(parent, STAGING_PREFIX);
    let existing = check_out(out)?;
    let staging = fsx::Staging::create(parent, STAGING_PREFIX)?;
    staging.write("flake.nix", flake)?;
    staging.write(
        MARKER,
        "written by `cargo xtask compose`; safe to overwrite with it\n",
    )?;
    interrupted.check("compose", out)?;
    staging.commit(out, existing)?;
    Ok(out.join("flake.nix"))
}

/// Staging directories: `<parent>/.domi-nix-compose-<pid>-<n>`.
const STAGING_PREFIX: &str = ".domi-nix-compose-";

/// Whether `out` exists (and may be replaced); an error when it must not be.
fn check_out(out: &Utf8Path) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(Failure::new(format!(
                "cannot inspect --out {out}: {e}. Fix: choose another --out"
            )));
        }
    };
    if meta.file_type().is_symlink() {
        return Err(Failure::new(format!(
            "--out {out} is a symbolic link; compose writes a directory of its own and never follows a link \
             into another tree. Fix: choose another --out, or remove the link yourself"
        )));
    }
    if !meta.is_dir() {
        return Err(Failure::new(format!(
            "--out {out} exists and is not a directory; refusing to replace it. Fix: choose another --out"
        )));
    }
    if !out.join(MARKER).is_file() {
        return Err(Failure::new(format!(
            "{out} already exists and was not written by `cargo xtask compose`; refusing to overwrite it. \
             Fix: choose another --out, or remove {out} yourself"
        )));
    }
    Ok(true)
}
