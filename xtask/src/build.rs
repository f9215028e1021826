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

/// A trunk composed under target/dominix/trunks.
struct Trunk {
    /// The trunk's flake reference, `path:<dir>`.
    flake: String,
    /// The domi-nix it imports: this checkout.
    domi_nix: String,
}

/// Composes the selection into target/dominix/trunks/<name>-<system>
/// (deleting a flake.lock an earlier build left there, see
/// [`compose::write_trunk`]).
fn compose_for(project: &Project, select: &Select, host: Option<&str>) -> Result<Trunk> {
    let catalog = project.valid_catalog()?;
    let mut selection = select.selection();
    if let (Some(host), None) = (host, selection.system) {
        selection = selection.with_system(guest_of(host)?);
    }
    let res = compose::resolve(&catalog, &selection)?;
    let system = compose::system_for(&res);
    if let Some(host) = host {
        let guest = guest_of(host)?;
        if guest != system {
            return Err(Failure::usage(format!(
                "host {host} runs {guest} guests, but the selection was asked for {system}. Fix: pass `--system {guest}`"
            )));
        }
    }
    let name = if res.is_empty() {
        "minimal".to_owned()
    } else {
        res.names().join("+")
    };
    let dir = project
        .target_dir()
        .join("trunks")
        .join(format!("{name}-{system}"));
    let domi_nix = project.flake_ref();
    let opts = dominix::RenderOptions {
        flake_ref: domi_nix.clone(),
        system,
        command: format!("cargo xtask compose {}", select.describe()),
    };
    compose::write_trunk(&dir, &dominix::trunk_flake(&res, &opts))?;
    Ok(Trunk {
        flake: format!("path:{dir}"),
        domi_nix,
    })
}

/// `nix build --json --no-link <trunk>#<attr> [--dry-run] --override-input
/// domi-nix <checkout> --no-write-lock-file`: the trunk with today's working
/// tree, whatever an earlier build locked, on Nix 2.8 and current Nix alike
/// (why both flags: `dominix::render::current_input_args`). Returns the out paths.
fn build_trunk(sh: &Shell, trunk: &Trunk, attr: &str, dry_run: bool) -> Result<Vec<StorePath>> {
    let installable = format!("{}#{attr}", trunk.flake);
    nix::build(
        sh,
        &installable,
        dominix::render::current_input_args(&trunk.domi_nix),
        dry_run,
    )
}

/// Builds the VM (or toplevel) of `select` for `host`; prints and returns the out paths.
pub fn build(
    sh: &Shell,
    project: &Project,
    select: &Select,
    host: Option<&str>,
    target: Target,
) -> Result<Vec<StorePath>> {
    let host = host.map(str::to_owned).unwrap_or_else(nix::host_system);
    guest_of(&host)?;
    let trunk = compose_for(project, select, Some(&host))?;
    let attr = if target.toplevel {
        "nixosConfigurations.trunk.config.system.build.toplevel".to_owned()
    } else {
        format!("packages.{host}.vm")
    };
    let paths = build_trunk(sh, &trunk, &attr, target.dry_run)?;
    for path in &paths {
        println!("{}", path.as_str());
    }
    Ok(paths)
}
