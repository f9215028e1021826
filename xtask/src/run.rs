//! `build`, `vm`, `test` and `matrix`: the tiers that need full nixpkgs. They
//! run on users' machines and in the GitHub workflows; here their exact Nix
//! command lines are tested with a recording `nix` (xtask/tests/cli.rs).

use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};
use dominix::{Catalog, System};
use xshell::{Shell, cmd};

use crate::flags::{Emit, Select};
use crate::nix::{self, NixCommand, StorePath};
use crate::{Failure, Project, Result, compose, fsx, kvm};

const HOSTS: [&str; 4] = [
    "x86_64-linux",
    "aarch64-linux",
    "aarch64-darwin",
    "x86_64-darwin",
];

/// The Linux guest a host runs (mirrors `guestOf` in nix-modules/systems.nix).
fn guest_of(host: &str) -> Result<System> {
    match host {
        "x86_64-linux" | "x86_64-darwin" => Ok(System::X86_64Linux),
        "aarch64-linux" | "aarch64-darwin" => Ok(System::Aarch64Linux),
        other => Err(Failure::usage(format!(
            "unsupported host `{other}`. Fix: use one of {}",
            HOSTS.join(", ")
        ))),
    }
}

fn shell(project: &Project) -> Result<Shell> {
    let sh = Shell::new().map_err(|e| Failure::new(format!("cannot start a shell: {e}")))?;
    sh.change_dir(&project.root);
    Ok(sh)
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
    let res = catalog.resolve(&selection)?;
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
    let stdout = NixCommand::nix("build")
        .args(["--json", "--no-link", &installable])
        .args(dry_run.then_some("--dry-run"))
        .args(dominix::render::current_input_args(&trunk.domi_nix))
        .current_dir(sh.current_dir())
        .stderr_to_terminal()
        .output()
        .map(|out| out.stdout)
        .map_err(|e| {
            Failure::new(format!(
                "building {installable} failed ({e}); Nix's error is above.\n\
             Fix: this tier needs full nixpkgs — run it where GitHub and cache.nixos.org are \
             reachable, or use the offline tiers (`cargo xtask check`). On macOS, configure a \
             Linux builder (nix-darwin: `nix.linux-builder.enable = true`)."
            ))
        })?;
    if dry_run {
        return Ok(Vec::new());
    }
    nix::out_paths(&stdout)
}

pub fn build(
    project: &Project,
    select: &Select,
    host: Option<&str>,
    toplevel: bool,
    dry_run: bool,
) -> Result<Vec<StorePath>> {
    let host = host.map(str::to_owned).unwrap_or_else(nix::host_system);
    guest_of(&host)?;
    let trunk = compose_for(project, select, Some(&host))?;
    let attr = if toplevel {
        "nixosConfigurations.trunk.config.system.build.toplevel".to_owned()
    } else {
        format!("packages.{host}.vm")
    };
    let sh = shell(project)?;
    let paths = build_trunk(&sh, &trunk, &attr, dry_run)?;
    for path in &paths {
        println!("{}", path.as_str());
    }
    Ok(paths)
}

pub fn vm(project: &Project, select: &Select, host: Option<&str>) -> Result<()> {
    let host = host.map(str::to_owned).unwrap_or_else(nix::host_system);
    if host.ends_with("-linux") && !Utf8Path::new("/dev/kvm").exists() {
        eprintln!(
            "note: /dev/kvm is missing; QEMU falls back to emulation (slow). Fix: enable KVM for a fast VM"
        );
    }
    let paths = build(project, select, Some(&host), false, false)?;
    let out = paths
        .first()
        .ok_or_else(|| Failure::new("`nix build` returned no VM"))?;
    let script = run_script(Utf8Path::new(out.as_str()))?;
    eprintln!("starting {script} (log in as `domi`, password `domi-nix`; quit QEMU with Ctrl-a x)");
    let sh = shell(project)?;
    cmd!(sh, "{script}")
        .run()
        .map_err(|e| Failure::new(format!("the VM exited with an error: {e}")))?;
    Ok(())
}

/// `bin/run-<host>-vm` inside a VM package.
fn run_script(out: &Utf8Path) -> Result<Utf8PathBuf> {
    let bin = out.join("bin");
    let entries =
        std::fs::read_dir(&bin).map_err(|e| Failure::new(format!("cannot read {bin}: {e}")))?;
    entries
        .filter_map(|e| {
            e.ok()
                .and_then(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        })
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.starts_with("run-") && n.ends_with("-vm"))
        })
        .ok_or_else(|| Failure::new(format!("{bin} has no run-*-vm script; is this a NixOS VM?")))
}

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
            Some(_) => Err(Failure::usage(format!(
                "feature `{name}` does not support {system}; see `cargo xtask list`"
            ))),
            None => Err(Failure::usage(match catalog.suggest(name) {
                Some(s) => {
                    format!("unknown feature `{name}` — did you mean `{s}`? Run `cargo xtask list`")
                }
                None => format!("unknown feature `{name}`. Run `cargo xtask list`"),
            })),
        })
        .collect()
}

pub fn test(
    project: &Project,
    requested: &[String],
    system: Option<System>,
    interactive: bool,
) -> Result<()> {
    let catalog = project.valid_catalog()?;
    let system =
        system.unwrap_or_else(|| guest_of(&nix::host_system()).unwrap_or(System::X86_64Linux));
    let features = features_for(&catalog, requested, system)?;
    let flake = project.flake_ref();
    let sh = shell(project)?;
    if interactive {
        let [feature] = features.as_slice() else {
            return Err(Failure::usage(
                "--interactive starts one driver: name exactly one feature",
            ));
        };
        let installable = format!("{flake}#checks.{system}.{feature}.driverInteractive");
        NixCommand::nix("run")
            .arg(&installable)
            .current_dir(sh.current_dir())
            .interactive()
            .output()
            .map_err(|e| Failure::new(format!("the interactive driver failed: {e}")))?;
        return Ok(());
    }
    let probe = kvm::Probe::new(&sh)?;
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
        if let Err(e) = nix::build(&sh, &installable, false) {
            failed.push(format!("{feature}: {}", e.message));
        }
    }
    println!(
        "test: {} passed, {} failed, {skipped} skipped",
        features.len() - failed.len() - skipped,
        failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "VM tests failed:\n  {}",
            failed.join("\n  ")
        )))
    }
}

/// One feature × system cell of the matrix.
#[derive(Debug, Clone, serde::Serialize)]
struct Cell {
    system: String,
    feature: String,
    attr: String,
    status: &'static str,
    seconds: f64,
    message: String,
}

pub fn matrix(
    project: &Project,
    system: Option<System>,
    json: Option<&Utf8Path>,
    junit: Option<&Utf8Path>,
    emit: Option<Emit>,
    dry_run: bool,
) -> Result<()> {
    let catalog = project.valid_catalog()?;
    let systems: Vec<System> = system
        .map(|s| vec![s])
        .unwrap_or_else(|| System::ALL.to_vec());
    let flake = project.flake_ref();
    let sh = shell(project)?;
    let probe = kvm::Probe::new(&sh)?;
    let mut cells = Vec::new();
    for system in systems {
        for feature in catalog.features().filter(|f| f.supports(system)) {
            let attr = format!("checks.{system}.{}", feature.name);
            let start = Instant::now();
            let (status, message) = if dry_run {
                ("listed", String::new())
            } else if let Some(skip) = probe.skip(system) {
                eprintln!("SKIP {attr}: {skip}");
                ("skipped", skip.to_string())
            } else {
                eprintln!("matrix: building {attr}");
                match nix::build(&sh, &format!("{flake}#{attr}"), false) {
                    Ok(_) => ("passed", String::new()),
                    Err(e) => ("failed", e.message),
                }
            };
            cells.push(Cell {
                system: system.to_string(),
                feature: feature.name.clone(),
                attr,
                status,
                seconds: start.elapsed().as_secs_f64(),
                message,
            });
        }
    }
    let passed = cells.iter().filter(|c| c.status == "passed").count();
    let failed = cells.iter().filter(|c| c.status == "failed").count();
    let skipped = cells.iter().filter(|c| c.status == "skipped").count();
    for cell in &cells {
        println!(
            "{:<14} {:<14} {:<7} {:>7.1}s",
            cell.system, cell.feature, cell.status, cell.seconds
        );
    }
    if let Some(path) = json {
        let report = serde_json::json!({ "cells": cells, "passed": passed, "failed": failed, "skipped": skipped });
        fsx::write_atomic(path, &serde_json::to_string_pretty(&report)?)?;
    }
    if let Some(path) = junit {
        fsx::write_atomic(path, &junit_xml(&cells))?;
    }
    if let Some(Emit::Github) = emit {
        emit_github(&cells)?;
    }
    println!("matrix: {passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "{failed} matrix cell(s) failed; see the report above"
        )))
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn junit_xml(cells: &[Cell]) -> String {
    let failures = cells.iter().filter(|c| c.status == "failed").count();
    let skipped = cells
        .iter()
        .filter(|c| matches!(c.status, "skipped" | "listed"))
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"domi-nix matrix\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        cells.len()
    );
    for cell in cells {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml_escape(&cell.system),
            xml_escape(&cell.feature),
            cell.seconds
        ));
        match cell.status {
            "failed" => out.push_str(&format!(
                "<failure message=\"{}\"/>",
                xml_escape(&cell.message)
            )),
            "listed" => out.push_str("<skipped message=\"dry run\"/>"),
            "skipped" => out.push_str(&format!(
                "<skipped message=\"{}\"/>",
                xml_escape(&cell.message)
            )),
            _ => {}
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// GitHub: an `::error` annotation per failed cell and a step-summary table.
fn emit_github(cells: &[Cell]) -> Result<()> {
    for cell in cells.iter().filter(|c| c.status == "failed") {
        // Workflow commands end at a newline; encode it as GitHub documents.
        let message = cell
            .message
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        println!("::error title=matrix {}::{message}", cell.attr);
    }
    for cell in cells.iter().filter(|c| c.status == "skipped") {
        let message = cell.message.replace('%', "%25").replace('\n', "%0A");
        println!("::warning title=matrix {} skipped::{message}", cell.attr);
    }
    if let Ok(summary) = std::env::var("GITHUB_STEP_SUMMARY") {
        let mut table =
            String::from("| system | feature | status | seconds |\n| --- | --- | --- | --- |\n");
        for c in cells {
            table.push_str(&format!(
                "| {} | {} | {} | {:.1} |\n",
                c.system, c.feature, c.status, c.seconds
            ));
        }
        let path = Utf8PathBuf::from(summary);
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        fsx::write_atomic(&path, &format!("{existing}{table}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_and_counts() {
        let cells = vec![
            Cell {
                system: "x86_64-linux".into(),
                feature: "ui".into(),
                attr: "a".into(),
                status: "passed",
                seconds: 1.0,
                message: String::new(),
            },
            Cell {
                system: "x86_64-linux".into(),
                feature: "h".into(),
                attr: "b".into(),
                status: "failed",
                seconds: 2.0,
                message: "<boom> & \"x\"".into(),
            },
        ];
        let xml = junit_xml(&cells);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("&lt;boom&gt; &amp; &quot;x&quot;"), "{xml}");
    }

    #[test]
    fn hosts_map_to_guests() {
        assert_eq!(guest_of("aarch64-darwin").ok(), Some(System::Aarch64Linux));
        assert_eq!(guest_of("x86_64-darwin").ok(), Some(System::X86_64Linux));
        assert!(guest_of("riscv64-linux").is_err_and(|e| e.code == 2));
    }
}
