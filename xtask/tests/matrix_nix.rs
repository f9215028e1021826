//! The matrix's build path end to end with real Nix, on tiny flakes of
//! `builder = "/bin/sh"` derivations (the only builds Nix can run on a
//! machine without full nixpkgs): one succeeds, one fails, one is already
//! built, one hangs. The cells go through the same runner as the catalog's
//! (`--checks-flake` only changes where they come from), so this proves the
//! states, `cached`, failure isolation, the cell timeout, progress read from
//! real `internal-json` output, the reports, and that Ctrl-C stops every
//! child and still writes the report.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{assert_exit, find_by, have_or_skip, junit, read_json, stderr, utf8, xtask};

/// This machine's system, as Nix spells it.
fn system() -> String {
    format!("{}-linux", std::env::consts::ARCH)
}

/// A flake in a temporary directory whose `checks.<system>` are `cells`
/// (name, shell script), each derivation made unique by a nonce.
struct Tiny {
    dir: tempfile::TempDir,
    nonce: String,
}

impl Tiny {
    fn new(cells: &[(&str, &str)]) -> Tiny {
        let dir = tempfile::tempdir().unwrap();
        let nonce = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let mut checks = String::new();
        for (name, script) in cells {
            let script = script.replace("NONCE", &nonce);
            checks.push_str(&format!("      {name} = mk {name:?} {script:?};\n"));
        }
        let flake = format!(
            r#"{{
  outputs = {{self}}: let
    system = "{system}";
    mk = name: script:
      derivation {{
        inherit name system;
        builder = "/bin/sh";
        args = ["-c" script];
        nonce = "{nonce}";
      }};
  in {{
    checks.${{system}} = {{
{checks}    }};
  }};
}}
"#,
            system = system()
        );
        std::fs::write(dir.path().join("flake.nix"), flake).unwrap();
        Tiny { dir, nonce }
    }

    fn flake_ref(&self) -> String {
        format!("path:{}", utf8(self.dir.path()))
    }

    /// The attribute of check `name`.
    fn installable(&self, name: &str) -> String {
        format!("{}#checks.{}.{name}", self.flake_ref(), system())
    }
}

/// Real `nix` with the features every call needs; asserts it succeeds.
fn nix(args: &[&str]) -> String {
    let output = Command::new("nix")
        .env("NIX_CONFIG", dominix_nix::nix_config_with_host_shell())
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "nix {args:?}: {}", stderr(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Whether the store holds `path` (asked of Nix: a diverted store keeps its
/// files elsewhere than the path says).
fn in_store(path: &str) -> bool {
    Command::new("nix")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args(["path-info", path])
        .output()
        .unwrap()
        .status
        .success()
}

fn nix_or_skip() -> bool {
    have_or_skip(
        "nix",
        "SKIP matrix-nix: `nix` is not on PATH — install Nix ≥ 2.8 (Debian/Ubuntu: `apt-get install nix-bin`)",
    )
}

/// `xtask matrix` over `tiny`'s checks at the build level, progress as lines.
fn matrix(tiny: &Tiny, reports: &Path, extra: &[&str]) -> Output {
    xtask()
        .env("NIX_CONFIG", dominix_nix::nix_config_with_host_shell())
        .env("DOMINIX_TARGET_DIR", reports.join("target"))
        .env("DOMINIX_PROGRESS", "lines")
        .env("DOMINIX_PROGRESS_EVERY", "0")
        .env("DOMINIX_PROGRESS_HEARTBEAT", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args([
            "matrix",
            "--checks-flake",
            &tiny.flake_ref(),
            "--levels",
            "build",
        ])
        .args(["--json", utf8(&reports.join("report.json"))])
        .args(["--junit", utf8(&reports.join("junit.xml"))])
        .args(extra)
        .output()
        .unwrap()
}

/// Processes whose command line contains `marker` and that still run (not zombies).
fn running_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'));
        if cmdline.contains(marker) && !zombie {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

/// Waits up to `limit` for no process to carry `marker`; those left.
fn gone_within(marker: &str, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = running_with(marker);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

const OK: &str = "echo one; echo two; echo ok > $out";
const BAD: &str = "echo about to fail; echo boom >&2; exit 1";
/// Busy forever (no `sleep` in a builder's empty PATH), findable by its nonce.
const HANG: &str = "echo hanging-NONCE; while :; do :; done";
const BUILT: &str = "echo built > $out";

#[test]
fn cells_pass_fail_time_out_and_come_from_the_cache_independently() {
    if !nix_or_skip() {
        return;
    }
    let tiny = Tiny::new(&[("ok", OK), ("bad", BAD), ("hang", HANG), ("built", BUILT)]);
    // Already built before the matrix runs.
    nix(&[
        "build",
        "--no-link",
        "--substituters",
        "",
        &tiny.installable("built"),
    ]);
    let reports = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = matrix(
        &tiny,
        reports.path(),
        &["--cell-timeout", "3", "--substituters", "", "--jobs", "4"],
    );
    assert_exit(&output, 1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the hanging cell was stopped: {:?}",
        started.elapsed()
    );

    let report = read_json(&reports.path().join("report.json"));
    let cell = |name: &str| find_by(&report["cells"], "feature", name).clone();
    assert_eq!(cell("ok")["status"], "passed", "{report}");
    assert_eq!(cell("built")["status"], "cached", "{report}");
    assert_eq!(cell("built")["cached"], "local", "{report}");
    assert_eq!(cell("hang")["status"], "timed-out", "{report}");
    let bad = cell("bad");
    assert_eq!(bad["status"], "failed", "{report}");
    let message = bad["message"].as_str().unwrap();
    let drv = bad["drv"].as_str().unwrap();
    assert!(
        message.contains("builder for") && message.contains(drv),
        "{message}"
    );
    assert_eq!(bad["log"], serde_json::json!(["about to fail", "boom"]));
    assert_eq!(
        bad["log_command"],
        format!("nix --extra-experimental-features 'nix-command flakes' log {drv}")
    );
    assert_eq!(
        (report["passed"].as_u64(), report["cached"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (report["failed"].as_u64(), report["timed_out"].as_u64()),
        (Some(1), Some(1))
    );
    // What passed is really in the store (read through Nix: a diverted
    // store keeps its files elsewhere than the path says).
    let out = cell("ok")["outputs"]["out"].as_str().unwrap().to_owned();
    assert_eq!(nix(&["store", "cat", &out]), "ok");
    // The hanging builder is gone, with everything it started.
    let left = gone_within(&format!("hanging-{}", tiny.nonce), Duration::from_secs(10));
    assert!(left.is_empty(), "still running: {left:?}");

    // Progress came from Nix's internal-json events: the builds it started,
    // its counts, and the failed build's own log lines with `nix log`.
    let err = stderr(&output);
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("matrix (3 derivations): "))
        .collect();
    let mut started: Vec<&str> = progress
        .iter()
        .filter_map(|l| l.split_once("(started ")?.1.strip_suffix(')'))
        .flat_map(|names| names.split(", "))
        .collect();
    started.sort_unstable();
    assert_eq!(started, ["bad", "hang", "ok"], "{err}");
    // While only the hanging build ran, silent, a heartbeat said so.
    assert!(
        progress
            .iter()
            .any(|l| l.starts_with("matrix (3 derivations): still running, ")),
        "{err}"
    );
    // Nix's own counts: builds running, then one failed while another ran,
    // and at the end one built and two failed.
    assert!(progress.iter().any(|l| l.contains(" running")), "{err}");
    assert!(progress.iter().any(|l| l.contains(" 1 failed")), "{err}");
    assert!(
        progress.last().is_some_and(|l| {
            l.starts_with("matrix (3 derivations): 1/") && l.contains(" built, 2 failed [")
        }),
        "{err}"
    );
    assert!(
        progress
            .iter()
            .any(|l| l.contains("; bad: boom") || l.contains("; bad: about to fail")),
        "the current build's last line: {err}"
    );
    let block = format!(
        "--- build/{}/bad failed: last 2 log lines\n    about to fail\n    boom\n--- the whole log: nix",
        system()
    );
    assert!(err.contains(&block), "{err}");

    // JUnit: valid by the schema's rules, one case per cell.
    let xml = std::fs::read_to_string(reports.path().join("junit.xml")).unwrap();
    junit::validate(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let mut cases = junit::cases(&xml);
    cases.sort();
    let class = format!("build.{}", system());
    let want = [
        ("bad", "failure"),
        ("built", "passed"),
        ("hang", "failure"),
        ("ok", "passed"),
    ]
    .map(|(n, o)| (class.clone(), n.to_owned(), o.to_owned()))
    .to_vec();
    assert_eq!(cases, want, "{xml}");
    assert!(xml.contains("type=\"timed-out\""), "{xml}");

    // Again, nothing changed: what passed is cached now, the failures are
    // tried again and fail the same way.
    let output = matrix(
        &tiny,
        reports.path(),
        &["--cell-timeout", "3", "--substituters", ""],
    );
    assert_exit(&output, 1);
    let report = read_json(&reports.path().join("report.json"));
    let status = |name: &str| find_by(&report["cells"], "feature", name)["status"].clone();
    assert_eq!(
        ["ok", "built", "bad", "hang"].map(status),
        ["cached", "cached", "failed", "timed-out"].map(serde_json::Value::from),
        "{report}"
    );
}

#[test]
fn outputs_pushed_to_a_binary_cache_count_as_cached_there() {
    if !nix_or_skip() {
        return;
    }
    let tiny = Tiny::new(&[("pushed", OK)]);
    let reports = tempfile::tempdir().unwrap();
    let cache = format!("file://{}", utf8(&reports.path().join("cache")));
    let output = matrix(
        &tiny,
        reports.path(),
        &["--substituters", "", "--copy-to", &cache],
    );
    assert_exit(&output, 0);
    let report = read_json(&reports.path().join("report.json"));
    let cell = find_by(&report["cells"], "feature", "pushed").clone();
    assert_eq!(cell["status"], "passed", "{report}");
    let out = cell["outputs"]["out"].as_str().unwrap().to_owned();
    let commands = report["commands"].to_string();
    assert!(
        commands.contains(&format!("copy --to {cache} {out}")),
        "{commands}"
    );
    // Gone from the local store, present in the cache: `cached` there.
    nix(&["store", "delete", &out]);
    assert!(!in_store(&out));
    let output = matrix(&tiny, reports.path(), &["--substituters", &cache]);
    assert_exit(&output, 0);
    let report = read_json(&reports.path().join("report.json"));
    let cell = find_by(&report["cells"], "feature", "pushed").clone();
    assert_eq!(cell["status"], "cached", "{report}");
    assert_eq!(cell["cached"], cache.as_str(), "{report}");
    // `--rebuild` builds it anyway.
    let output = matrix(&tiny, reports.path(), &["--substituters", "", "--rebuild"]);
    assert_exit(&output, 0);
    let report = read_json(&reports.path().join("report.json"));
    assert_eq!(
        find_by(&report["cells"], "feature", "pushed")["status"],
        "passed"
    );
    assert!(in_store(&out), "rebuilt into the store");
}

#[test]
fn ctrl_c_stops_every_child_and_still_writes_the_report() {
    if !nix_or_skip() {
        return;
    }
    let tiny = Tiny::new(&[("slow", HANG), ("quick", OK)]);
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("report.json");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("xtask"))
        .env("NIX_CONFIG", dominix_nix::nix_config_with_host_shell())
        .env("DOMINIX_ROOT", common::root())
        .env("DOMINIX_TARGET_DIR", reports.path().join("target"))
        .env("DOMINIX_PROGRESS", "lines")
        .env("DOMINIX_PROGRESS_EVERY", "0")
        .args([
            "matrix",
            "--checks-flake",
            &tiny.flake_ref(),
            "--levels",
            "build",
        ])
        .args([
            "--cell-timeout",
            "300",
            "--substituters",
            "",
            "--json",
            utf8(&json),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let marker = format!("hanging-{}", tiny.nonce);
    let (send, receive) = std::sync::mpsc::channel();
    let reader = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    // Until the hanging build runs.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while running_with(&marker).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the build never started: {seen:?}"
        );
        while let Ok(line) = receive.try_recv() {
            seen.push(line);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the matrix did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    seen.extend(receive.try_iter());
    let text = seen.join("\n");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("error: interrupted"), "{text}");
    let left = gone_within(&marker, Duration::from_secs(10));
    assert!(left.is_empty(), "still running after Ctrl-C: {left:?}");
    let report = read_json(&json);
    assert_eq!(
        find_by(&report["cells"], "feature", "slow")["status"],
        "interrupted",
        "{report}"
    );
    assert_eq!(report["interrupted"].as_u64().map(|n| n >= 1), Some(true));
}

#[test]
fn the_junit_rules_reject_what_the_schema_rejects() {
    let good = "<testsuites tests=\"1\"><testsuite name=\"s\" tests=\"1\" failures=\"1\"><testcase name=\"a\" time=\"0.5\"><failure message=\"m\">log</failure></testcase></testsuite></testsuites>";
    assert_eq!(junit::validate(good), Ok(()));
    for (bad, why) in [
        (
            "<testsuites><testcase name=\"a\"/></testsuites>",
            "cannot be inside",
        ),
        (
            "<testsuites><testsuite tests=\"1\"><testcase name=\"a\"/></testsuite></testsuites>",
            "lacks `name`",
        ),
        (
            "<testsuite name=\"s\" tests=\"2\"><testcase name=\"a\"/></testsuite>",
            "holds 1",
        ),
        (
            "<testsuite name=\"s\" tests=\"1\"><testcase name=\"a\" time=\"-1\"/></testsuite>",
            "decimal",
        ),
        (
            "<testsuite name=\"s\" tests=\"1\"><testcase name=\"a\" status=\"x\" colour=\"red\"/></testsuite>",
            "no attribute",
        ),
        (
            "<testsuite name=\"s\" tests=\"1\" skipped=\"2\"><testcase name=\"a\"><skipped/><skipped/></testcase></testsuite>",
            "at most one",
        ),
        ("<report/>", "the root"),
        ("<testsuite", "not XML"),
    ] {
        let error = junit::validate(bad).expect_err(bad);
        assert!(error.contains(why), "{bad}: {error}");
    }
}

#[test]
fn the_offline_levels_of_this_catalog_pass_with_valid_reports() {
    if !nix_or_skip() {
        return;
    }
    let reports = tempfile::tempdir().unwrap();
    let (json, xml) = (reports.path().join("r.json"), reports.path().join("j.xml"));
    let output = xtask()
        .env("DOMINIX_TARGET_DIR", reports.path().join("target"))
        .args(["matrix", "--levels", "static,module-eval"])
        .args(["--json", utf8(&json), "--junit", utf8(&xml)])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let report = read_json(&json);
    let cells = report["cells"].as_array().unwrap();
    let features = common::features();
    let want: usize = features
        .iter()
        .map(|(_, systems)| systems.len())
        .sum::<usize>()
        * 2;
    assert_eq!(cells.len(), want, "{report}");
    for cell in cells {
        assert_eq!(cell["status"], "passed", "{cell}");
    }
    let xml = std::fs::read_to_string(&xml).unwrap();
    junit::validate(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let cases = junit::cases(&xml);
    assert_eq!(cases.len(), want, "{xml}");
    assert!(
        cases.iter().all(|(_, _, outcome)| outcome == "passed"),
        "{xml}"
    );
    assert!(
        cases
            .iter()
            .any(|(class, _, _)| class == "module-eval.x86_64-linux"),
        "{xml}"
    );
}
