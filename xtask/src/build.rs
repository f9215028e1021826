//! `cargo xtask build`: a composed selection's VM or toplevel, built from a
//! trunk under target/dominix/trunks with today's working tree.

use xshell::Shell;

use crate::flags::Select;
use crate::nix::{self, StorePath, guest_of};
use crate::{Failure, Project, Result, compose};

/// What to build of a composed selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target {
    /// The NixOS toplevel instead of the VM.
    pub toplevel: bool,
    /// Evaluate and show what would be built, without building.
    pub dry_run: bool,
}

impl crate::flags::Build {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let target = Target {
            toplevel: self.toplevel,
            dry_run: self.dry_run,
        };
        build(sh, project, &self.select, self.host.as_deref(), target).map(|_| ())
    }
}

/// Composes the selection into target/dominix/trunks/<name>-<system>
/// (deleting a flake.lock an earlier build left there, see
/// [`compose::write_trunk`]) and builds its VM (or toplevel) for `host` with
/// `nix build --json --no-link <trunk>#<attr> [--dry-run] --override-input
/// domi-nix <checkout> --no-write-lock-file`: the trunk with today's working
/// tree, whatever an earlier build locked, on Nix 2.8 and current Nix alike
/// (why both flags: `dominix::render::current_input_args`). Prints and
/// returns the out paths.
pub fn build(
    sh: &Shell,
    project: &Project,
    select: &Select,
    host: Option<&str>,
    target: Target,
) -> Result<Vec<StorePath>> {
    let host = host.map(str::to_owned).unwrap_or_else(nix::host_system);
    let guest = guest_of(&host)?;
    let catalog = project.valid_catalog()?;
    let mut selection = select.selection();
    if selection.system.is_none() {
        selection = selection.with_system(guest);
    }
    let res = compose::resolve(&catalog, &selection)?;
    let system = compose::system_for(&res);
    if guest != system {
        return Err(Failure::usage(format!(
            "host {host} runs {guest} guests, but the selection was asked for {system}. Fix: pass `--system {guest}`"
        )));
    }
    let name = if res.is_empty() {
        "minimal".to_owned()
    } else {
        res.names().join("+")
    };
    let dir = project.target_dir().join(format!("trunks/{name}-{system}"));
    let domi_nix = project.flake_ref();
    compose::write_trunk(&dir, &compose::render(&res, domi_nix.clone(), select))?;
    let attr = if target.toplevel {
        "nixosConfigurations.trunk.config.system.build.toplevel".to_owned()
    } else {
        format!("packages.{host}.vm")
    };
    let args = dominix::render::current_input_args(&domi_nix);
    let paths = nix::build(sh, &format!("path:{dir}#{attr}"), args, target.dry_run)?;
    for path in &paths {
        println!("{}", path.as_str());
    }
    Ok(paths)
}
