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

/// What building a selection will do: the trunk to compose, where, and the
/// installable and arguments of the `nix build` of it.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The host that runs the VM, and the guest system.
    pub host: String,
    pub system: dominix::System,
    /// `hardening+ui`, or `minimal`.
    pub name: String,
    /// target/dominix/trunks/<name>-<system>.
    pub dir: camino::Utf8PathBuf,
    /// The trunk's flake.nix.
    pub flake: String,
    /// The `--features`/`--profile` flags of the selection, for messages.
    pub flags: String,
    pub installable: String,
    pub args: [String; 4],
}

/// Resolves the selection for `host` and plans its build (nothing written).
pub fn plan(
    project: &Project,
    select: &Select,
    host: Option<&str>,
    toplevel: bool,
) -> Result<Planned> {
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
            "guest {system} on host {host}: domi-nix VMs run the guest of the host's own CPU (QEMU with KVM on \
             Linux, HVF on macOS), so host {host} runs {guest} guests. A {system} VM needs a host of that CPU: \
             build and run it there (its system can also be built here with a remote builder of {system}, \
             nix.conf `builders = ssh-ng://<host> {system}`, README.md \"Builders and caches\"). Fix: pass `--system {guest}`"
        )));
    }
    let name = if res.is_empty() {
        "minimal".to_owned()
    } else {
        res.names().join("+")
    };
    let dir = project.target_dir().join(format!("trunks/{name}-{system}"));
    let domi_nix = project.flake_ref();
    let flake = compose::render(&res, domi_nix.clone(), select);
    let attr = if toplevel {
        "nixosConfigurations.trunk.config.system.build.toplevel".to_owned()
    } else {
        format!("packages.{host}.vm")
    };
    Ok(Planned {
        host,
        system,
        name,
        flags: selection.to_flags(),
        installable: format!("path:{dir}#{attr}"),
        args: dominix::render::current_input_args(&domi_nix),
        dir,
        flake,
    })
}

/// Composes the selection into target/dominix/trunks/<name>-<system>
/// (deleting a flake.lock an earlier build left there, see
/// [`compose::write_trunk`]) and builds its VM (or toplevel) for `host` with
/// `nix build --json --no-link … <trunk>#<attr> --override-input domi-nix
/// <checkout> --no-write-lock-file` (see [`nix::build`]): the trunk with
/// today's working tree, whatever an earlier build locked, on Nix 2.8 and
/// current Nix alike (why both flags: `dominix::render::current_input_args`).
/// Prints and returns the out paths.
pub fn build(
    sh: &Shell,
    project: &Project,
    select: &Select,
    host: Option<&str>,
    target: Target,
) -> Result<Vec<StorePath>> {
    let planned = plan(project, select, host, target.toplevel)?;
    build_planned(sh, &planned, target.dry_run)
}

/// Builds what [`plan`] planned.
pub fn build_planned(sh: &Shell, planned: &Planned, dry_run: bool) -> Result<Vec<StorePath>> {
    compose::write_trunk(&planned.dir, &planned.flake)?;
    let paths = nix::build(sh, &planned.installable, &planned.args, dry_run)?;
    for path in &paths {
        println!("{}", path.as_str());
    }
    Ok(paths)
}
