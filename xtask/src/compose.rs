//! `cargo xtask compose`: a standalone trunk flake for a selection.

use camino::{Utf8Path, Utf8PathBuf};
use dominix::{RenderOptions, Resolution, System, trunk_flake};

use crate::flags::Select;
use crate::{Failure, Project, Result, fsx};

/// Marks a directory as written by `compose`, so it may be rewritten.
pub const MARKER: &str = ".domi-nix-trunk";

/// The guest system for a resolution: `--system`, else this machine's CPU if
/// the selection supports it, else the first system it supports.
pub fn system_for(res: &Resolution) -> System {
    if let Some(system) = res.system {
        return system;
    }
    let native = match std::env::consts::ARCH {
        "aarch64" => System::Aarch64Linux,
        _ => System::X86_64Linux,
    };
    if res.systems.contains(&native) {
        native
    } else {
        res.systems.first().copied().unwrap_or(native)
    }
}

impl crate::flags::Compose {
    pub fn run(self, _sh: &xshell::Shell, project: &Project) -> Result<()> {
        let reference = self
            .flake_ref
            .clone()
            .unwrap_or_else(|| project.flake_ref());
        let path = write(project, &self.select, &self.out, self.flake_ref)?;
        println!("wrote {path}");
        // `path:` because a folder inside a git work tree would otherwise be
        // read as the repository, where the new file is untracked.
        let dir = std::fs::canonicalize(&self.out)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| self.out.to_string());
        // Building today's domi-nix, not the one a lock file pinned.
        let next = crate::nix::NixCommand::nix("build")
            .arg(format!(
                "path:{dir}#packages.{}.vm",
                crate::nix::host_system()
            ))
            .args(dominix::render::current_input_args(&reference));
        let line: Vec<String> = next
            .argv()
            .iter()
            .map(|w| crate::flags::shell_quote(w))
            .collect();
        println!("next: {}", line.join(" "));
        Ok(())
    }
}

/// Resolves the selection and writes `out/flake.nix`; returns its path.
pub fn write(
    project: &Project,
    select: &Select,
    out: &Utf8Path,
    flake_ref: Option<String>,
) -> Result<Utf8PathBuf> {
    let catalog = project.valid_catalog()?;
    let res = catalog.resolve(&select.selection())?;
    if !res.left_out.is_empty() {
        let names: Vec<String> = res.left_out.iter().map(ToString::to_string).collect();
        eprintln!("note: profile `full` leaves out {}", names.join(", "));
    }
    let opts = RenderOptions {
        flake_ref: flake_ref.unwrap_or_else(|| project.flake_ref()),
        system: system_for(&res),
        command: format!("cargo xtask compose {}", select.describe()),
    };
    write_trunk(out, &trunk_flake(&res, &opts))
}

/// Writes a trunk into `out` atomically. A new directory is assembled next to
/// `out` and renamed into place; an existing one is only touched if it carries
/// the compose marker.
///
/// Rewriting a trunk deletes its `flake.lock`: a lock left by an earlier
/// `nix build` pins the domi-nix of that day (and, even under
/// `--override-input domi-nix …`, still supplies that old domi-nix's own
/// inputs), so a recomposed trunk starts unlocked and builds today's tree
/// (see `dominix::render::current_input_args`).
pub fn write_trunk(out: &Utf8Path, flake: &str) -> Result<Utf8PathBuf> {
    let flake_path = out.join("flake.nix");
    if out.exists() {
        if !out.join(MARKER).exists() {
            return Err(Failure::new(format!(
                "{out} already exists and was not written by `cargo xtask compose`; refusing to overwrite it. \
                 Fix: choose another --out, or remove {out} yourself"
            )));
        }
        remove_lock(out)?;
        fsx::write_atomic(&flake_path, flake)?;
        return Ok(flake_path);
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| {
        Failure::new(format!(
            "cannot create {parent}: {e}. Fix: check the --out path"
        ))
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".domi-nix-compose-")
        .tempdir_in(parent)
        .map_err(|e| {
            Failure::new(format!(
                "cannot write in {parent}: {e}. Fix: check that it is writable"
            ))
        })?;
    let staged = Utf8Path::from_path(staging.path())
        .ok_or_else(|| Failure::new(format!("{parent}: temporary directory path is not UTF-8")))?;
    fsx::write_atomic(&staged.join("flake.nix"), flake)?;
    fsx::write_atomic(
        &staged.join(MARKER),
        "written by `cargo xtask compose`; safe to overwrite with it\n",
    )?;
    let staged = staging.keep();
    std::fs::rename(&staged, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        Failure::new(format!(
            "cannot move the trunk into {out}: {e}. Fix: check that {parent} is writable"
        ))
    })?;
    Ok(flake_path)
}

/// Deletes `out/flake.lock` if there is one.
fn remove_lock(out: &Utf8Path) -> Result<()> {
    let lock = out.join("flake.lock");
    match std::fs::remove_file(&lock) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Failure::new(format!(
            "cannot delete the stale {lock}: {e}. Fix: delete it yourself (it pins an old domi-nix), then run the command again"
        ))),
    }
}
