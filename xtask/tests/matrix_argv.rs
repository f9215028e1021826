//! The matrix's Nix command lines and decisions, recorded by a fake `nix`
//! (and a fake `nix-eval-jobs`) put first on PATH: what is passed through
//! to Nix, how each Nix version names a derivation, what counts as cached,
//! how one cell's failure stays its own, and the GitHub matrix of a dry run.
//! No real Nix runs here (xtask/tests/matrix_nix.rs runs real Nix).
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Output;

use common::fake_nix::FakeNix;
use common::{
    assert_exit, assert_stderr_has, checkout_copy, find_by, git, have_or_skip, read_json, stderr,
    utf8,
};

/// The fake's derivation of the VM test of `feature` on `system`.
fn drv(system: &str, feature: &str) -> String {
    format!(
        "{}.drv",
        FakeNix::out_of(&format!("checks.{system}.{feature}"))
    )
}

/// `matrix --levels vm-test --system x86_64-linux ARGS --json REPORT`; the
/// output and the report.
fn matrix(fake: &FakeNix, args: &[&str]) -> (Output, serde_json::Value) {
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("report.json");
    let output = fake
        .xtask("1")
        .args([
            "matrix",
            "--features",
            "hardening,ui",
            "--levels",
            "vm-test",
            "--system",
            "x86_64-linux",
        ])
        .args(args)
        .args(["--json", utf8(&json)])
        .output()
        .unwrap();
    let report = if json.exists() {
        read_json(&json)
    } else {
        serde_json::Value::Null
    };
    (output, report)
}

fn calls_of(fake: &FakeNix, subcommand: &str) -> Vec<Vec<String>> {
    fake.calls()
        .into_iter()
        .filter(|argv| argv.get(2).is_some_and(|a| a == subcommand))
        .collect()
}

fn status<'a>(report: &'a serde_json::Value, feature: &str) -> &'a serde_json::Value {
    &find_by(&report["cells"], "feature", feature)["status"]
}

#[test]
fn builders_stores_caches_and_keys_pass_through_to_nix() {
    let fake = FakeNix::new(None, None);
    let (output, report) = matrix(
        &fake,
        &[
            "--builders",
            "ssh-ng://arm aarch64-linux - 8 1 kvm,nixos-test",
            "--store",
            "ssh-ng://big",
            "--substituters",
            "file:///srv/cache https://c.example",
            "--trusted-public-keys",
            "c.example-1:abc=",
            "--jobs",
            "6",
            "--cell-timeout",
            "20m",
            "--copy-to",
            "s3://results?region=eu",
        ],
    );
    assert_exit(&output, 0);
    assert_eq!(report["passed"], 2, "{report}");
    let [build] = &fake.builds()[..] else {
        panic!("one build: {:?}", fake.calls())
    };
    let after = |flag: &str| {
        let at = build
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("no {flag}: {build:?}"));
        build[at + 1].clone()
    };
    assert!(build.contains(&"--keep-going".to_owned()), "{build:?}");
    assert_eq!(after("--max-jobs"), "6");
    // --cell-timeout is Nix's own per-derivation timeout, in seconds.
    assert_eq!(after("--timeout"), "1200");
    assert_eq!(after("--store"), "ssh-ng://big");
    assert_eq!(after("--eval-store"), "auto", "evaluation stays local");
    assert_eq!(
        after("--substituters"),
        "file:///srv/cache https://c.example"
    );
    assert_eq!(after("--trusted-public-keys"), "c.example-1:abc=");
    assert_eq!(
        after("--builders"),
        "ssh-ng://arm aarch64-linux - 8 1 kvm,nixos-test"
    );
    // The builder was reached before anything was built.
    let pings = calls_of(&fake, "store");
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(pings[0][3..], ["ping", "--store", "ssh-ng://arm"]);
    let ping_at = fake
        .calls()
        .iter()
        .position(|c| c.get(2).is_some_and(|a| a == "store"))
        .unwrap();
    let build_at = fake
        .calls()
        .iter()
        .position(|c| c.get(2).is_some_and(|a| a == "build"))
        .unwrap();
    assert!(ping_at < build_at);
    // Outputs were asked of the build store, then of each substituter.
    let stores: Vec<String> = calls_of(&fake, "path-info")
        .iter()
        .filter_map(|c| {
            c.iter()
                .position(|a| a == "--store")
                .map(|i| c[i + 1].clone())
        })
        .collect();
    assert_eq!(
        stores,
        [
            "ssh-ng://big",
            "file:///srv/cache",
            "https://c.example",
            "ssh-ng://big"
        ]
    );
    // What passed went to the cache, from the build store.
    let copies = calls_of(&fake, "copy");
    assert_eq!(copies.len(), 1, "{copies:?}");
    let copy = &copies[0];
    assert_eq!(
        copy[3..7],
        ["--to", "s3://results?region=eu", "--store", "ssh-ng://big"]
    );
    let mut copied: Vec<String> = copy[7..].to_vec();
    copied.sort();
    let outs = ["hardening", "ui"].map(|f| FakeNix::out_of(&format!("checks.x86_64-linux.{f}")));
    assert_eq!(copied, outs);
}

#[test]
fn each_nix_version_gets_its_own_derivation_syntax() {
    for (version, suffix) in [
        ("2.8.0", ""),
        ("2.12.1", ""),
        ("2.13.0", "^*"),
        ("2.28.3", "^*"),
    ] {
        let fake = FakeNix::new(None, None);
        let output = fake
            .xtask("1")
            .env("FAKE_NIX_VERSION", version)
            .args([
                "matrix",
                "--levels",
                "vm-test",
                "--system",
                "x86_64-linux",
                "--features",
                "ui",
            ])
            .output()
            .unwrap();
        assert_exit(&output, 0);
        let [build] = &fake.builds()[..] else {
            panic!("one build: {:?}", fake.calls())
        };
        let want = format!("{}{suffix}", drv("x86_64-linux", "ui"));
        assert_eq!(build.last(), Some(&want), "Nix {version}: {build:?}");
    }
}

#[test]
fn a_builders_spec_nix_would_reject_stops_before_any_build() {
    let fake = FakeNix::new(None, None);
    let (output, _) = matrix(&fake, &["--builders", "ssh://x x86_64-linux - notanumber"]);
    assert_exit(&output, 2);
    assert_stderr_has(&output, "--builders: bad machine specification");
    assert_stderr_has(&output, "column 4 (max jobs) is `notanumber`");
    assert_stderr_has(&output, "Fix:");
    assert!(fake.builds().is_empty(), "{:?}", fake.calls());
}

#[test]
fn what_is_valid_locally_or_in_a_substituter_is_cached_not_rebuilt() {
    let fake = FakeNix::new(None, None);
    fake.mark_valid(&[FakeNix::out_of("checks.x86_64-linux.ui")]);
    fake.mark_valid_in_store(&[FakeNix::out_of("checks.x86_64-linux.hardening")]);
    let (output, report) = matrix(&fake, &["--substituters", "https://cache.example"]);
    assert_exit(&output, 0);
    assert_eq!(status(&report, "ui"), "cached");
    assert_eq!(
        find_by(&report["cells"], "feature", "ui")["cached"],
        "local"
    );
    assert_eq!(status(&report, "hardening"), "cached");
    assert_eq!(
        find_by(&report["cells"], "feature", "hardening")["cached"],
        "https://cache.example"
    );
    assert!(
        fake.builds().is_empty(),
        "nothing is rebuilt: {:?}",
        fake.calls()
    );
    // All outputs asked at once: one query per store.
    let queries: Vec<Vec<String>> = calls_of(&fake, "path-info")
        .into_iter()
        .filter(|c| !c.iter().any(|a| a.ends_with("-source")))
        .collect();
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert_eq!(
        queries[0]
            .iter()
            .filter(|a| a.starts_with("/nix/store/"))
            .count(),
        2
    );

    let fake = FakeNix::new(None, None);
    fake.mark_valid(&[FakeNix::out_of("checks.x86_64-linux.ui")]);
    let (output, report) = matrix(&fake, &["--rebuild"]);
    assert_exit(&output, 0);
    assert_eq!(status(&report, "ui"), "passed");
    assert_eq!(
        fake.built(),
        ["checks.x86_64-linux.hardening", "checks.x86_64-linux.ui"]
    );
}

#[test]
fn a_cell_that_does_not_evaluate_fails_alone() {
    let fake = FakeNix::new(None, Some("checks.x86_64-linux.hardening"));
    let output = fake
        .xtask("1")
        .env("FAKE_FAIL_EVAL", "1")
        .args([
            "matrix",
            "--features",
            "hardening,ui",
            "--levels",
            "vm-test",
            "--system",
            "x86_64-linux",
            "--json",
            "-",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 1);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status(&report, "hardening"), "failed");
    let message = find_by(&report["cells"], "feature", "hardening")["message"].clone();
    assert!(
        message.as_str().unwrap().starts_with("evaluation failed: "),
        "{message}"
    );
    assert_eq!(status(&report, "ui"), "passed");
    assert_eq!(fake.built(), ["checks.x86_64-linux.ui"]);
}

/// A recording `nix-eval-jobs` next to the fake `nix`: it answers every
/// attribute of the cells file with a derivation and a cache status
/// (`ui`: local, `hardening`: in a cache, others: not built).
fn fake_eval_jobs(fake: &FakeNix) {
    let bin = fake.bin_dir();
    let log = bin.join("nix-eval-jobs.log");
    let script = format!(
        r#"#!/bin/sh
for a in "$@"; do printf '%s\037' "$a"; done >> '{log}'
printf '\n' >> '{log}'
case "$1" in --help) echo "USAGE: nix-eval-jobs [options] expr"; exit 0 ;; esac
for a in "$@"; do file="$a"; done
sed -n 's/^  \([a-z0-9]*\) = \(.*\);$/\1 \2/p' "$file" | while read -r key expr; do
  name=$(printf '%s' "$expr" | sed -e 's/"//g' -e 's/^flake\.//')
  case "$name" in *.ui) cache=local ;; *.hardening) cache=cached ;; *) cache=notBuilt ;; esac
  printf '{{"attr":"%s","attrPath":["%s"],"drvPath":"/nix/store/{hash}-%s.drv","outputs":{{"out":"/nix/store/{hash}-%s"}},"cacheStatus":"%s"}}\n' "$key" "$key" "$name" "$name" "$cache"
done
"#,
        log = utf8(&log),
        hash = common::fake_nix::HASH,
    );
    let draft = bin.join("nix-eval-jobs.draft");
    std::fs::write(&draft, script).unwrap();
    let status = std::process::Command::new("install")
        .args(["-m", "755"])
        .arg(&draft)
        .arg(bin.join("nix-eval-jobs"))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn nix_eval_jobs_evaluates_and_answers_the_cache_in_one_pass() {
    let fake = FakeNix::new(None, None);
    fake_eval_jobs(&fake);
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("report.json");
    let output = fake
        .xtask("1")
        .args([
            "matrix",
            "--features",
            "hardening,ui",
            "--levels",
            "vm-test",
            "--json",
            utf8(&json),
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let report = read_json(&json);
    let cell = |system: &str, feature: &str| {
        report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["system"] == system && c["feature"] == feature)
            .unwrap()
            .clone()
    };
    for system in ["x86_64-linux", "aarch64-linux"] {
        assert_eq!(cell(system, "ui")["status"], "cached");
        assert_eq!(cell(system, "ui")["cached"], "local");
        assert_eq!(cell(system, "hardening")["status"], "cached");
        assert_eq!(cell(system, "hardening")["cached"], "a substituter");
    }
    // No `nix eval` and no `nix path-info`: nix-eval-jobs answered both.
    assert!(calls_of(&fake, "eval").is_empty(), "{:?}", fake.calls());
    assert!(
        calls_of(&fake, "path-info")
            .iter()
            .all(|c| c.iter().any(|a| a.ends_with("-source"))),
        "{:?}",
        fake.calls()
    );
    assert!(fake.builds().is_empty());
    let log = std::fs::read_to_string(fake.bin_dir().join("nix-eval-jobs.log")).unwrap();
    let run: Vec<&str> = log
        .lines()
        .nth(1)
        .unwrap()
        .trim_end_matches('\u{1f}')
        .split('\u{1f}')
        .collect();
    assert_eq!(
        run[..3],
        [
            "--extra-experimental-features",
            "nix-command flakes",
            "--impure"
        ],
        "{run:?}"
    );
    assert!(
        run.contains(&"--check-cache-status")
            && run.contains(&"--workers")
            && run.contains(&"--gc-roots-dir"),
        "{run:?}"
    );
    assert!(
        run.last().unwrap().ends_with("/matrix/cells.nix"),
        "{run:?}"
    );
}

#[test]
fn a_dry_run_plans_the_github_jobs_per_system_or_per_cell() {
    let fake = FakeNix::new(None, None);
    let run = |split: bool| -> serde_json::Value {
        let mut cmd = fake.xtask("0");
        cmd.args([
            "matrix",
            "--features",
            "hardening,ui",
            "--dry-run",
            "--levels",
            "vm-test",
            "--json",
            "-",
        ]);
        if split {
            cmd.arg("--split");
        }
        let output = cmd.output().unwrap();
        assert_exit(&output, 0);
        assert!(
            stderr(&output).contains("matrix: "),
            "the table and counts go to stderr"
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let report = run(false);
    let include = report["github"]["include"].as_array().unwrap().clone();
    assert_eq!(include.len(), 2, "{include:?}");
    let x86 = find_by(&report["github"]["include"], "system", "x86_64-linux");
    assert_eq!(x86["runner"], "ubuntu-24.04");
    assert_eq!(x86["kvm"], "required");
    assert_eq!(x86["features"], "hardening,ui");
    assert_eq!(x86["levels"], "vm-test");
    let arm = find_by(&report["github"]["include"], "system", "aarch64-linux");
    assert_eq!(arm["runner"], "ubuntu-24.04-arm");
    let split = run(true);
    let names: Vec<&str> = split["github"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "aarch64-linux hardening",
            "aarch64-linux ui",
            "x86_64-linux hardening",
            "x86_64-linux ui"
        ]
    );
    assert!(fake.builds().is_empty());
}

#[test]
fn changed_since_keeps_the_changed_branches_only() {
    if !have_or_skip(
        "git",
        "SKIP matrix-changed: `git` is not on PATH — install git",
    ) {
        return;
    }
    let Some(copy) = checkout_copy("matrix-changed") else {
        return;
    };
    git(copy.path(), &["init", "-q"]);
    git(copy.path(), &["add", "-A"]);
    git(copy.path(), &["commit", "-q", "--no-verify", "-m", "base"]);
    let nixos = copy.path().join("crates/ui/nixos.nix");
    let text = std::fs::read_to_string(&nixos).unwrap();
    std::fs::write(&nixos, format!("{text}\n")).unwrap();
    let fake = FakeNix::new(None, None);
    let output = fake
        .xtask("1")
        .env("DOMINIX_ROOT", copy.path())
        .args([
            "matrix",
            "--dry-run",
            "--levels",
            "vm-test",
            "--changed-since",
            "HEAD",
            "--json",
            "-",
        ])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let features: Vec<&str> = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["feature"].as_str().unwrap())
        .collect();
    assert_eq!(features, ["ui", "ui"], "{report}");
    assert_eq!(
        report["changed_since"]["changed"],
        serde_json::json!(["ui"])
    );
    assert!(
        stderr(&output).contains(&format!(
            "changed since HEAD: 1 of {} branches",
            common::features().len()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn matrix_usage_errors_name_the_option_and_exit_2() {
    let fake = FakeNix::new(None, None);
    for (line, says) in [
        ("matrix --jobs 0", "--jobs"),
        ("matrix --jobs many", "neither `auto` nor a count"),
        ("matrix --cell-timeout 0", "not a duration"),
        ("matrix --levels static,vm", "vm"),
        ("matrix --features hardenin", "did you mean `hardening`"),
        (
            "matrix --eval-store auto",
            "--eval-store only means something with --store",
        ),
        (
            "matrix --checks-flake path:/nonexistent --levels static",
            "system-eval and build only",
        ),
    ] {
        let output = fake.run("1", line);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains(says),
            "{line}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"), "{line}");
    }
    assert!(fake.builds().is_empty());
}
