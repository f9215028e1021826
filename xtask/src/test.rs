//! `cargo xtask test`: the NixOS VM tests (`checks.<system>.<feature>`) of
//! features; a cell this host cannot run for want of KVM is skipped with its
//! reason (xtask/src/kvm.rs).

use dominix::{Catalog, System};
use xshell::Shell;

use crate::nix::{self, NixCommand, guest_of};
use crate::{Failure, Project, Result, kvm};

fn features_for(catalog: &Catalog, requested: &[String], system: System) -> Result<Vec<String>> {
    if requested.is_empty() {
        return Ok(catalog
            .features()
            .filter(|f| f.supports(system))
            .map(|f| f.name.clone())
            .collect());
    }
    requested
        .iter()
        .map(|name| match catalog.get(name) {
            Some(f) if f.supports(system) => Ok(name.clone()),
            Some(f) => {
                let flags: Vec<String> = f.meta.systems.iter().map(|s| format!("`--system {s}`")).collect();
                Err(Failure::usage(format!(
                    "feature `{name}` does not support {system}. Fix: test it on a system it supports ({})",
                    flags.join(", "),
                )))
            }
            None => Err(Failure::usage(
                dominix::ResolveError::UnknownFeature {
                    name: name.clone(),
                    suggestion: catalog.suggest(name),
                    known: catalog.names().map(str::to_owned).collect(),
                }
                .to_string(),
            )),
        })
        .collect()
}

impl crate::flags::Test {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let catalog = project.valid_catalog()?;
        let system = self
            .system
            .unwrap_or_else(|| guest_of(&nix::host_system()).unwrap_or(System::X86_64Linux));
        let features = features_for(&catalog, &self.features, system)?;
        let flake = project.flake_ref();
        if self.interactive {
            let [feature] = features.as_slice() else {
                return Err(Failure::usage(
                    "--interactive starts one driver: name exactly one feature",
                ));
            };
            NixCommand::nix("run")
                .arg(format!(
                    "{flake}#checks.{system}.{feature}.driverInteractive"
                ))
                .current_dir(sh.current_dir())
                .interactive()
                .output()
                .map_err(|e| Failure::new(format!("the interactive driver failed: {e}")))?;
            return Ok(());
        }
        let probe = kvm::Probe::new(sh)?;
        let mut failed = Vec::new();
        let mut skipped = 0;
        for feature in &features {
            if let Some(skip) = probe.skip(system) {
                eprintln!("SKIP test {feature} ({system}): {skip}");
                skipped += 1;
                continue;
            }
            let installable = format!("{flake}#checks.{system}.{feature}");
            eprintln!("test {feature} ({system})");
            if let Err(e) = nix::build(sh, &installable, nix::NO_ARGS, false) {
                failed.push(format!("{feature}: {}", e.message));
            }
        }
        println!(
            "test: {} passed, {} failed, {skipped} skipped",
            features.len() - failed.len() - skipped,
            failed.len()
        );
        crate::ensure(failed.is_empty(), || {
            format!("VM tests failed:\n  {}", failed.join("\n  "))
        })
    }
}
