//! `cargo xtask vm`: build a selection's VM and start it (QEMU; KVM or HVF
//! when available).

use camino::{Utf8Path, Utf8PathBuf};
use xshell::{Shell, cmd};

use crate::build::{Target, build};
use crate::nix;
use crate::{Failure, Project, Result};

impl crate::flags::Vm {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let host = self.host.unwrap_or_else(nix::host_system);
        if host.ends_with("-linux") && !Utf8Path::new("/dev/kvm").exists() {
            eprintln!(
                "note: /dev/kvm is missing; QEMU falls back to emulation (slow). Fix: enable KVM for a fast VM"
            );
        }
        let paths = build(sh, project, &self.select, Some(&host), Target::default())?;
        let out = paths
            .first()
            .ok_or_else(|| Failure::new("`nix build` returned no VM"))?;
        let script = run_script(Utf8Path::new(out.as_str()))?;
        eprintln!(
            "starting {script} (log in as `domi`, password `domi-nix`; quit QEMU with Ctrl-a x)"
        );
        cmd!(sh, "{script}")
            .run()
            .map_err(|e| Failure::new(format!("the VM exited with an error: {e}")))?;
        Ok(())
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
