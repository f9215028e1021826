//! `cargo xtask matrix`: every feature × system VM-test cell, with JSON,
//! JUnit and GitHub reports; cells this host cannot run are skipped with
//! their reason.

use std::time::Instant;

use camino::Utf8PathBuf;
use dominix::System;
use xshell::Shell;

use crate::flags::Emit;
use crate::nix;
use crate::{Project, Result, fsx, kvm};

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

impl crate::flags::Matrix {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let catalog = project.valid_catalog()?;
        let systems = self.system.map_or(System::ALL.to_vec(), |s| vec![s]);
        let flake = project.flake_ref();
        let probe = kvm::Probe::new(sh)?;
        let mut cells = Vec::new();
        for system in systems {
            for feature in catalog.features().filter(|f| f.supports(system)) {
                let attr = format!("checks.{system}.{}", feature.name);
                let start = Instant::now();
                let (status, message) = if self.dry_run {
                    ("listed", String::new())
                } else if let Some(skip) = probe.skip(system) {
                    eprintln!("SKIP {attr}: {skip}");
                    ("skipped", skip.to_string())
                } else {
                    eprintln!("matrix: building {attr}");
                    match nix::build(sh, &format!("{flake}#{attr}"), nix::NO_ARGS, false) {
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
        let [passed, failed, skipped] = ["passed", "failed", "skipped"]
            .map(|status| cells.iter().filter(|c| c.status == status).count());
        for cell in &cells {
            println!(
                "{:<14} {:<14} {:<7} {:>7.1}s",
                cell.system, cell.feature, cell.status, cell.seconds
            );
        }
        if let Some(path) = &self.json {
            let report = serde_json::json!({ "cells": cells, "passed": passed, "failed": failed, "skipped": skipped });
            fsx::write_atomic(path, &serde_json::to_string_pretty(&report)?)?;
        }
        if let Some(path) = &self.junit {
            fsx::write_atomic(path, &junit_xml(&cells))?;
        }
        if let Some(Emit::Github) = self.emit {
            emit_github(&cells)?;
        }
        println!("matrix: {passed} passed, {failed} failed, {skipped} skipped");
        crate::ensure(failed == 0, || {
            format!("{failed} matrix cell(s) failed; see the report above")
        })
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
        let outcome = match cell.status {
            "failed" => Some(("failure", cell.message.as_str())),
            "skipped" => Some(("skipped", cell.message.as_str())),
            "listed" => Some(("skipped", "dry run")),
            _ => None,
        };
        if let Some((tag, message)) = outcome {
            out.push_str(&format!("<{tag} message=\"{}\"/>", xml_escape(message)));
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
}
