//! `cargo xtask bench --services`: the numbers of the security audit and of
//! the status service, measured here (never asserted in tests):
//!
//! - `cargo xtask audit --profile full`: its wall time, and every unit's
//!   exposure against its ceiling;
//! - the sandboxing profile on a unit with no exception (the sandboxing VM
//!   test's probe, rendered from its test node and scored);
//! - `domi-nix-status` (release build) on loopback under `wrk -t1 -c64`:
//!   requests per second, p50 and p99 latency, and its peak resident memory;
//! - `cargo xtask check` of this catalog against the same checkout with two
//!   branches only (hardening and sandboxing).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use camino::Utf8Path;
use dominix_audit::analyze::Analyzer;
use dominix_eval::{Case, Evaluator};
use serde_json::Value;

use super::{BEGIN_SERVICES, END_SERVICES, Sample, copy_checkout, table, tempdir, timed};
use crate::Result;
use crate::nix::NixCommand;

/// The status service's load: seconds, connections.
const LOAD_SECONDS: u32 = 10;
const CONNECTIONS: u32 = 64;

pub struct ServicesResult {
    audit: Sample,
    units: Vec<Vec<String>>,
    reference: String,
    load: Result<Load, String>,
    check_all: Sample,
    check_two: Sample,
    branches: usize,
}

struct Load {
    requests_per_second: f64,
    p50: String,
    p99: String,
    peak_kib: u64,
}

/// The server, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn measure(bin: &Utf8Path, root: &Utf8Path, runs: usize) -> Result<ServicesResult> {
    let xtask = |args: &[&str], at: &Utf8Path| {
        NixCommand::tool(bin.as_str())
            .args(args)
            .env("DOMINIX_ROOT", at)
            .current_dir(at)
    };

    eprintln!("bench: audit of the full profile");
    let mut audit = Vec::new();
    let mut report = String::new();
    for _ in 0..runs {
        let (time, out) = timed(&xtask(&["audit", "--profile", "full", "--json"], root))?;
        audit.push(time);
        report = out;
    }
    let report: Value = serde_json::from_str(&report)
        .map_err(|e| crate::Failure::new(format!("`audit --json` answered no JSON: {e}")))?;
    let units = report["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u["exposure"].is_number())
        .map(|u| {
            let ceiling = u["ceiling"].as_array().map_or("—".to_owned(), |c| {
                format!("{} ({})", c[0], c[1].as_str().unwrap_or(""))
            });
            vec![
                format!("`{}`", u["unit"].as_str().unwrap_or("?")),
                format!("{} {}", u["exposure"], u["band"].as_str().unwrap_or("")),
                ceiling,
                u["before"].as_array().map_or("—".to_owned(), |b| {
                    format!("{} {}", b[0], b[1].as_str().unwrap_or(""))
                }),
            ]
        })
        .collect();

    eprintln!("bench: the sandboxing profile on a unit with no exception");
    let reference = reference_unit(root)?;

    eprintln!("bench: domi-nix-status under wrk");
    let load = load(root);

    eprintln!("bench: check, this catalog and two branches");
    let (_two, two) = tempdir("domi-nix-bench-two")?;
    copy_checkout(root, &two)?;
    let crates = two.join("crates");
    let mut branches = 0;
    for entry in std::fs::read_dir(&crates).map_err(|e| crate::Failure::new(e.to_string()))? {
        let entry = entry.map_err(|e| crate::Failure::new(e.to_string()))?;
        branches += 1;
        let name = entry.file_name();
        if name != "hardening" && name != "sandboxing" {
            std::fs::remove_dir_all(entry.path())
                .map_err(|e| crate::Failure::new(e.to_string()))?;
        }
    }
    let (mut check_all, mut check_two) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        check_all.push(timed(&xtask(&["check"], root))?.0);
        check_two.push(timed(&xtask(&["check"], &two))?.0);
    }
    Ok(ServicesResult {
        audit: Sample::new(audit),
        units,
        reference,
        load,
        check_all: Sample::new(check_all),
        check_two: Sample::new(check_two),
        branches,
    })
}

/// The sandboxing VM test's probe: its exposure and band.
fn reference_unit(root: &Utf8Path) -> Result<String> {
    let analyzer = Analyzer::probe().map_err(|e| crate::Failure::new(e.to_string()))?;
    let outcome = Evaluator::new(root.to_owned())
        .eval("reference", &Case::test_node("sandboxing", "machine"))
        .map_err(|e| crate::Failure::new(e.to_string()))?;
    let global = outcome.config["systemd.globalEnvironment"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let unit = dominix_audit::unit::render(
        "probe",
        &outcome.config["systemd.services"]["probe"],
        &global,
    )
    .map_err(|e| crate::Failure::new(e.to_string()))?;
    let (_dir, dir) = tempdir("domi-nix-bench-probe")?;
    unit.write_to(&dir)
        .map_err(|e| crate::Failure::new(e.to_string()))?;
    let score = analyzer
        .score(&dir, std::slice::from_ref(&unit.name))
        .map_err(|e| crate::Failure::new(e.to_string()))?;
    Ok(score
        .first()
        .map_or("?".to_owned(), |s| format!("{} {}", s.exposure, s.band)))
}

/// The status service's numbers, or why they could not be taken.
fn load(root: &Utf8Path) -> Result<Load, String> {
    let wrk = NixCommand::tool("wrk").arg("--version").run();
    if wrk.is_err() {
        return Err("not measured: `wrk` is not installed — `apt-get install wrk`".to_owned());
    }
    let built = NixCommand::tool("cargo")
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "status-api",
            "--bin",
            "domi-nix-status",
        ])
        .current_dir(root)
        .timeout(Some(Duration::from_secs(1800)))
        .output()
        .map_err(|e| format!("not measured: building domi-nix-status failed: {e}"))?;
    drop(built);
    let manifest = root.join("target/bench-features.json");
    std::fs::write(&manifest, r#"{"version":1,"features":{}}"#).map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let address = format!("127.0.0.1:{port}");
    let server = Command::new(root.join("target/release/domi-nix-status"))
        .args(["--listen", &address, "--manifest", manifest.as_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start domi-nix-status: {e}"))?;
    let server = Server(server);
    for _ in 0..100 {
        if std::net::TcpStream::connect(&address).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = NixCommand::tool("wrk")
        .args([
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{LOAD_SECONDS}s"),
            "--latency",
        ])
        .arg(format!("http://{address}/health"))
        .timeout(Some(Duration::from_secs(u64::from(LOAD_SECONDS) + 60)))
        .output()
        .map_err(|e| format!("wrk failed: {e}"))?
        .stdout;
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.0.id())).unwrap_or_default();
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let field = |prefix: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    let requests_per_second = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let (Some(p50), Some(p99)) = (field("50%"), field("99%")) else {
        return Err(format!("wrk printed no latency distribution:\n{out}"));
    };
    Ok(Load {
        requests_per_second,
        p50,
        p99,
        peak_kib,
    })
}

impl ServicesResult {
    pub fn markdown(&self, machine: &str, date: &str, runs: usize) -> String {
        let mut out = format!(
            "{BEGIN_SERVICES}\n\n_Measured {date} on {machine}, {runs} runs each, by `cargo xtask bench --services`._\n\n"
        );
        out += "**The security audit** (issue 14; targets: a unit with no exception ≤ 1.5, every unit domi-nix writes ≤ 2.0 or its branch's ceiling, the audit of the full profile ≤ 2 s):\n\n";
        out += &table(
            &["measurement", "result", "target"],
            &[
                vec![
                    "`cargo xtask audit --profile full` (process)".into(),
                    self.audit.cell(),
                    verdict(self.audit.median() <= Duration::from_secs(2), "≤ 2 s"),
                ],
                vec![
                    "the profile on a unit with no exception (sandboxing's VM-test probe)".into(),
                    self.reference.clone(),
                    "≤ 1.5".into(),
                ],
            ],
        );
        out += &table(
            &[
                "unit (full profile)",
                "exposure",
                "ceiling",
                "without sandboxing",
            ],
            &self.units,
        );
        out += &format!(
            "**The status service** (issue 15; `domi-nix-status --listen 127.0.0.1:<port>`, release build, `wrk -t1 -c{CONNECTIONS} -d{LOAD_SECONDS}s --latency /health`; targets ≥ 30,000 requests/s, p99 ≤ 5 ms, ≤ 15 MiB resident):\n\n"
        );
        out += &match &self.load {
            Ok(l) => table(
                &["requests/s", "p50", "p99", "peak resident (VmHWM)"],
                &[vec![
                    format!("{:.0}", l.requests_per_second),
                    l.p50.clone(),
                    l.p99.clone(),
                    format!("{:.1} MiB", l.peak_kib as f64 / 1024.0),
                ]],
            ),
            Err(why) => format!("{why}\n\n"),
        };
        let ratio =
            self.check_all.median().as_secs_f64() / self.check_two.median().as_secs_f64().max(1e-9);
        out += &format!(
            "**`cargo xtask check`** with {} branches against two (target ≤ 2×):\n\n",
            self.branches
        );
        out += &table(
            &["catalog", "`check`"],
            &[
                vec![
                    format!("{} branches (this checkout)", self.branches),
                    self.check_all.cell(),
                ],
                vec![
                    "2 branches (hardening, sandboxing)".into(),
                    self.check_two.cell(),
                ],
                vec![
                    "ratio".into(),
                    verdict(ratio <= 2.0, &format!("{ratio:.2}×")),
                ],
            ],
        );
        out + END_SERVICES
    }
}

fn verdict(met: bool, text: &str) -> String {
    format!("{text} ({})", if met { "met" } else { "missed" })
}
