//! `cargo xtask vm`: build a selection's VM and start it (QEMU; KVM or HVF
//! when available), with the knobs people reach for.
//!
//! The knobs are the VM script's own (nixpkgs' `qemu-vm.nix` start script),
//! so changing them rebuilds nothing: `QEMU_OPTS` is appended to QEMU's
//! command line (`-m` memory and `-smp` cores given last win; `-display
//! none` for `--headless`), `QEMU_NET_OPTS` to its user-mode network
//! (`hostfwd=` for each forward, SSH to a free port by default), and
//! `NIX_DISK_IMAGE` says where the disk image lives: kept under
//! target/dominix/vms/<selection>-<system>/, or in a temporary directory
//! removed when the VM exits (`--ephemeral`).
//!
//! Before anything is built: a guest the host's CPU cannot run is a usage
//! error that says what would be needed, and on macOS the Linux builder the
//! guest needs is looked for — nix-darwin's `nix.linux-builder` (a builder
//! named `linux-builder`, its `/etc/ssh/ssh_config.d/100-linux-builder.conf`)
//! or any builder of the guest system in Nix's `builders` setting or
//! /etc/nix/machines — with the exact fix when there is none.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use xshell::Shell;

use crate::build::{self, Planned};
use crate::flags::{Forward, shell_quote};
use crate::nix::{self, NixCommand};
use crate::{Failure, Project, Result, kvm};

/// nix-darwin's `nix.linux-builder` writes this SSH configuration.
const LINUX_BUILDER_SSH: &str = "/etc/ssh/ssh_config.d/100-linux-builder.conf";

/// How the VM script is started: its environment, what is forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Runner {
    env: BTreeMap<&'static str, String>,
    forwards: Vec<Forward>,
    /// The host port SSH is forwarded to.
    ssh: Option<u16>,
    /// Where the disk image is kept; `None` when ephemeral.
    disk: Option<Utf8PathBuf>,
}

impl crate::flags::Vm {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let planned = build::plan(project, &self.select, self.host.as_deref(), false)?;
        let host = planned.host.clone();
        if host.ends_with("-linux")
            && host == nix::host_system()
            && !Utf8Path::new("/dev/kvm").exists()
        {
            eprintln!(
                "note: /dev/kvm is missing; QEMU falls back to emulation (slow). Fix: enable KVM for a fast VM"
            );
        }
        if host.ends_with("-darwin") {
            let probe = kvm::Probe::new(sh)?;
            let builders = probe.builders_for(planned.system);
            let ssh_config = Utf8Path::new(LINUX_BUILDER_SSH).exists();
            match linux_builder(planned.system.as_str(), builders.as_deref(), ssh_config) {
                Ok(found) => eprintln!("vm: the {} guest builds on {found}", planned.system),
                Err(problem) if self.dry_run => eprintln!("warning: {problem}"),
                Err(problem) => return Err(Failure::new(problem)),
            }
        }
        let vms = project.target_dir().join("vms");
        let ephemeral_dir = self
            .ephemeral
            .then(|| tempfile::Builder::new().prefix("domi-nix-vm-").tempdir())
            .transpose()
            .map_err(|e| {
                Failure::new(format!(
                    "cannot create a temporary directory for the disk: {e}"
                ))
            })?;
        let disk = match &ephemeral_dir {
            Some(dir) => {
                Utf8PathBuf::from_path_buf(dir.path().join("disk.qcow2")).map_err(|_| {
                    Failure::new("the temporary directory is not UTF-8. Fix: set TMPDIR")
                })?
            }
            None => vms.join(format!("{}-{}/disk.qcow2", planned.name, planned.system)),
        };
        let ssh = if self.forwards.iter().any(|f| !f.udp && f.guest == 22) {
            None
        } else {
            Some(free_port()?)
        };
        let runner = runner(&self, ssh, &disk);
        if self.dry_run {
            print_plan(&planned, &runner);
            return Ok(());
        }
        if let Some(parent) = disk.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Failure::new(format!(
                    "cannot create {parent}: {e}. Fix: make target/ writable"
                ))
            })?;
        }
        let paths = build::build_planned(sh, &planned, false)?;
        let out = paths
            .first()
            .ok_or_else(|| Failure::new("`nix build` returned no VM"))?;
        let script = run_script(Utf8Path::new(out.as_str()))?;
        describe(&runner);
        eprintln!(
            "starting {script} (log in as `domi`, password `domi-nix`; quit QEMU with Ctrl-a x)"
        );
        let mut command = NixCommand::tool(script.as_str()).interactive();
        for (key, value) in &runner.env {
            command = command.env(key, value);
        }
        let result = command.run();
        drop(ephemeral_dir);
        match result {
            Ok((status, _)) if status.success() => Ok(()),
            Ok((status, _)) => Err(Failure::new(format!("the VM exited with {status}"))),
            Err(e) => Err(Failure::new(format!("the VM could not start: {e}"))),
        }
    }
}

/// The script's environment for these knobs.
fn runner(flags: &crate::flags::Vm, ssh: Option<u16>, disk: &Utf8Path) -> Runner {
    let mut forwards = flags.forwards.clone();
    if let Some(port) = ssh {
        forwards.push(Forward {
            udp: false,
            host: port,
            guest: 22,
        });
    }
    let mut qemu = Vec::new();
    if let Some(memory) = flags.memory {
        qemu.push(format!("-m {memory}"));
    }
    if let Some(cores) = flags.cores {
        qemu.push(format!("-smp {cores}"));
    }
    if flags.headless {
        qemu.push("-display none".to_owned());
    }
    let net: Vec<String> = forwards
        .iter()
        .map(|f| {
            let proto = if f.udp { "udp" } else { "tcp" };
            format!("hostfwd={proto}:127.0.0.1:{}-:{}", f.host, f.guest)
        })
        .collect();
    let mut env = BTreeMap::new();
    if !qemu.is_empty() {
        env.insert("QEMU_OPTS", qemu.join(" "));
    }
    if !net.is_empty() {
        env.insert("QEMU_NET_OPTS", net.join(","));
    }
    env.insert("NIX_DISK_IMAGE", disk.to_string());
    Runner {
        env,
        forwards,
        ssh,
        disk: (!flags.ephemeral).then(|| disk.to_owned()),
    }
}

/// A TCP port nothing listens on now (the kernel's choice).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| {
        Failure::new(format!(
            "cannot find a free port for SSH: {e}. Fix: forward one yourself (`--forward 2222:22`)"
        ))
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Failure::new(format!("cannot find a free port for SSH: {e}")))
}

fn describe(runner: &Runner) {
    if let Some(port) = runner.ssh {
        eprintln!(
            "vm: SSH is forwarded to 127.0.0.1:{port}: `ssh -p {port} domi@127.0.0.1` (when the guest runs sshd)"
        );
    }
    for f in runner
        .forwards
        .iter()
        .filter(|f| Some(f.host) != runner.ssh)
    {
        let proto = if f.udp { "udp" } else { "tcp" };
        eprintln!(
            "vm: forwarding {proto} 127.0.0.1:{} to the guest's port {}",
            f.host, f.guest
        );
    }
    match &runner.disk {
        Some(disk) => eprintln!("vm: its disk is kept in {disk} (`--ephemeral` keeps none)"),
        None => eprintln!("vm: ephemeral: no disk is kept"),
    }
}

/// `--dry-run`: the compose, the build and the start, as commands.
fn print_plan(planned: &Planned, runner: &Runner) {
    let words = |argv: &[String]| {
        argv.iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("# 1. compose the trunk (written atomically; its flake.nix imports the selection)");
    println!(
        "cargo xtask compose {} --out {}",
        planned.flags,
        shell_quote(planned.dir.as_str())
    );
    println!(
        "# 2. build the VM for host {} (guest {})",
        planned.host, planned.system
    );
    let build = nix::build_command(&planned.installable, &planned.args, false);
    println!("{}", words(&build.argv()));
    println!("# 3. start it (<out> is the path step 2 prints)");
    let env: Vec<String> = runner
        .env
        .iter()
        .map(|(k, v)| format!("{k}={}", shell_quote(v)))
        .collect();
    println!("{} <out>/bin/run-*-vm", env.join(" "));
    describe(runner);
}

/// Whether the `guest` system can be built from this Mac: the builder it
/// will use, or the problem with the exact fix. `builders` are Nix's
/// builders of `guest` (`None`: Nix's configuration could not be read);
/// `ssh_config`: nix-darwin's linux-builder SSH configuration exists.
fn linux_builder(
    guest: &str,
    builders: Option<&[String]>,
    ssh_config: bool,
) -> std::result::Result<String, String> {
    let nix_darwin = "with nix-darwin, set `nix.linux-builder.enable = true;` in your darwin configuration and run \
                      `darwin-rebuild switch` (it starts a Linux VM as a builder and adds it to nix.buildMachines)";
    match builders {
        None => Ok(
            "whatever builder Nix is configured with (its configuration could not be read)"
                .to_owned(),
        ),
        Some(found) if !found.is_empty() => {
            let linux_builder = found.iter().find(|uri| uri.contains("linux-builder"));
            Ok(match linux_builder {
                Some(uri) => format!("nix-darwin's linux-builder ({uri})"),
                None => found.join(", "),
            })
        }
        Some(_) if ssh_config => Err(format!(
            "nix-darwin's linux-builder is set up ({LINUX_BUILDER_SSH} exists) but Nix's builders do not offer {guest}, \
             so the {guest} guest cannot be built. Fix: {nix_darwin}; check with `nix show-config | grep builders` \
             (the builder is `ssh-ng://builder@linux-builder {guest} …`)"
        )),
        Some(_) => Err(format!(
            "building the {guest} guest on this Mac needs a Linux builder, and Nix has none for {guest} \
             (neither its `builders` setting nor /etc/nix/machines lists one). Fix: {nix_darwin}; or add a remote \
             Linux machine to /etc/nix/nix.conf: `builders = ssh-ng://<host> {guest}` (README.md, \"Builders and caches\")"
        )),
    }
}

/// `bin/run-<host>-vm` inside a VM package.
fn run_script(out: &Utf8Path) -> Result<Utf8PathBuf> {
    let bin = out.join("bin");
    let entries = bin
        .read_dir_utf8()
        .map_err(|e| Failure::new(format!("cannot read {bin}: {e}")))?;
    let is_script = |name: &str| name.starts_with("run-") && name.ends_with("-vm");
    let script = entries.flatten().find(|e| is_script(e.file_name()));
    script
        .map(|e| e.into_path())
        .ok_or_else(|| Failure::new(format!("{bin} has no run-*-vm script; is this a NixOS VM?")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_needs_a_linux_builder_and_is_told_how() {
        let none: Vec<String> = Vec::new();
        let problem = linux_builder("aarch64-linux", Some(&none), false).expect_err("no builder");
        assert!(
            problem.contains("nix.linux-builder.enable = true;"),
            "{problem}"
        );
        assert!(
            problem.contains("builders = ssh-ng://<host> aarch64-linux"),
            "{problem}"
        );
        let problem =
            linux_builder("aarch64-linux", Some(&none), true).expect_err("not in builders");
        assert!(
            problem.contains("100-linux-builder.conf exists"),
            "{problem}"
        );
        let found = vec!["ssh-ng://builder@linux-builder".to_owned()];
        assert_eq!(
            linux_builder("aarch64-linux", Some(&found), true),
            Ok("nix-darwin's linux-builder (ssh-ng://builder@linux-builder)".to_owned())
        );
        let other = vec!["ssh://big".to_owned()];
        assert_eq!(
            linux_builder("x86_64-linux", Some(&other), false),
            Ok("ssh://big".to_owned())
        );
        assert!(linux_builder("aarch64-linux", None, false).is_ok());
    }
}
