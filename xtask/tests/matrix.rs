//! `matrix` and `test` on hosts that cannot run every VM test: a cell that
//! needs KVM the host (or its builders) cannot give is reported skipped, with
//! its reason and fix, never failed. A recording `nix` put first on PATH
//! answers `nix show-config --json` with a chosen configuration; `DOMINIX_KVM=0`
//! hides the real `/dev/kvm` of the machine running the tests.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_nix::FakeNix;
use common::{
    assert_exit, assert_stderr_has, assert_stdout_has, features, find_by, read_json, stderr,
    stdout, utf8,
};

/// Nix 2.8's `show-config --json` shape, with the settings the probe reads.
fn nix_config(system: &str, features: &[&str], extra: &[&str], builders: &str) -> String {
    serde_json::json!({
        "system": { "value": system, "defaultValue": system },
        "system-features": { "value": features },
        "extra-platforms": { "value": extra },
        "builders": { "value": builders },
        "max-jobs": { "value": 1 },
    })
    .to_string()
}

/// An x86_64-linux host without KVM (Nix leaves `kvm` out of its features).
fn x86_64_without_kvm() -> String {
    nix_config(
        "x86_64-linux",
        &["benchmark", "big-parallel", "nixos-test"],
        &["i686-linux"],
        "",
    )
}

/// An x86_64-linux host with KVM (as Nix reports when /dev/kvm is usable).
fn x86_64_with_kvm(builders: &str) -> String {
    nix_config(
        "x86_64-linux",
        &["benchmark", "big-parallel", "kvm", "nixos-test"],
        &["i686-linux"],
        builders,
    )
}

fn features_of(system: &str) -> Vec<String> {
    let mut names: Vec<String> = features()
        .into_iter()
        .filter(|(_, systems)| systems.iter().any(|s| s == system))
        .map(|(name, _)| name)
        .collect();
    names.sort();
    names
}

fn cells(report: &serde_json::Value) -> &Vec<serde_json::Value> {
    report["cells"].as_array().unwrap()
}

#[test]
fn without_kvm_every_cell_is_skipped_and_the_matrix_exits_0() {
    let fake = FakeNix::new(Some(&x86_64_without_kvm()), None);
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("report.json");
    let junit = reports.path().join("junit.xml");
    let output = fake
        .xtask("0")
        .args(["matrix", "--levels", "vm-test"])
        .args(["--json", utf8(&json), "--junit", utf8(&junit)])
        .output()
        .unwrap();
    assert_exit(&output, 0);

    let total = features_of("x86_64-linux").len() + features_of("aarch64-linux").len();
    assert_stdout_has(
        &output,
        &format!("matrix: 0 passed, 0 cached, 0 failed, 0 timed-out, {total} skipped"),
    );
    assert!(
        fake.built().is_empty(),
        "nothing is built: {:?}",
        fake.calls()
    );
    assert_eq!(
        fake.config_queries(),
        1,
        "Nix is asked once: {:?}",
        fake.calls()
    );

    let report = read_json(&json);
    assert_eq!(cells(&report).len(), total, "{report}");
    assert_eq!(
        (
            report["passed"].as_u64(),
            report["failed"].as_u64(),
            report["skipped"].as_u64()
        ),
        (Some(0), Some(0), Some(total as u64)),
        "{report}"
    );
    for cell in cells(&report) {
        assert_eq!(cell["status"], "skipped", "{cell}");
        let message = cell["message"].as_str().unwrap();
        let system = cell["system"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{system} VM tests need")),
            "{message}"
        );
        assert!(message.contains("kvm"), "{message}");
        assert!(message.contains("Fix:"), "{message}");
    }
    let x86 = find_by(&report["cells"], "system", "x86_64-linux");
    assert!(
        x86["message"]
            .as_str()
            .unwrap()
            .contains("this host has no usable /dev/kvm"),
        "{x86}"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!(
            "tests=\"{total}\" failures=\"0\" errors=\"0\" skipped=\"{total}\""
        )),
        "{xml}"
    );
    assert_eq!(xml.matches("<skipped message=\"").count(), total, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains("<skipped message=\"aarch64-linux VM tests need"),
        "{xml}"
    );
}

#[test]
fn aarch64_cells_on_an_x86_64_host_are_skipped_while_x86_64_cells_run() {
    let fake = FakeNix::new(Some(&x86_64_with_kvm("")), None);
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("report.json");
    let output = fake
        .xtask("0")
        .args(["matrix", "--levels", "vm-test", "--json", utf8(&json)])
        .output()
        .unwrap();
    assert_exit(&output, 0);

    let x86 = features_of("x86_64-linux");
    let arm = features_of("aarch64-linux");
    let want: Vec<String> = x86
        .iter()
        .map(|f| format!("checks.x86_64-linux.{f}"))
        .collect();
    assert_eq!(fake.built(), want, "only x86_64-linux cells are built");
    assert_stdout_has(
        &output,
        &format!(
            "matrix: {} passed, 0 cached, 0 failed, 0 timed-out, {} skipped",
            x86.len(),
            arm.len()
        ),
    );
    assert!(
        stderr(&output).contains("SKIP vm-test/aarch64-linux/"),
        "a visible SKIP line: {}",
        stderr(&output)
    );

    let report = read_json(&json);
    for cell in cells(&report) {
        if cell["system"] == "aarch64-linux" {
            assert_eq!(cell["status"], "skipped", "{cell}");
            let message = cell["message"].as_str().unwrap();
            assert!(message.contains("this host is x86_64-linux"), "{message}");
            assert!(message.contains("extra-platforms: i686-linux"), "{message}");
            assert!(
                message.contains("builders = ssh://<host> aarch64-linux"),
                "the fix names a remote builder: {message}"
            );
        } else {
            assert_eq!(cell["status"], "passed", "{cell}");
        }
    }
}

#[test]
fn a_remote_builder_with_kvm_runs_the_aarch64_cells() {
    let config =
        x86_64_with_kvm("ssh://arm-builder aarch64-linux - 4 1 kvm,nixos-test,big-parallel");
    let fake = FakeNix::new(Some(&config), None);
    let output = fake.run("0", "matrix --levels vm-test --system aarch64-linux");
    assert_exit(&output, 0);
    let want: Vec<String> = features_of("aarch64-linux")
        .iter()
        .map(|f| format!("checks.aarch64-linux.{f}"))
        .collect();
    assert_eq!(fake.built(), want);
    assert_stdout_has(&output, " 0 failed, 0 timed-out, 0 skipped");
}

#[test]
fn a_failed_cell_among_skipped_ones_still_exits_1() {
    let fake = FakeNix::new(
        Some(&x86_64_with_kvm("")),
        Some("checks.x86_64-linux.hardening"),
    );
    let output = fake.run("0", "matrix --levels vm-test");
    assert_exit(&output, 1);
    let arm = features_of("aarch64-linux").len();
    let passed = features_of("x86_64-linux").len() - 1;
    assert_stdout_has(
        &output,
        &format!("matrix: {passed} passed, 0 cached, 1 failed, 0 timed-out, {arm} skipped"),
    );
}

#[test]
fn test_skips_a_feature_the_host_cannot_run_and_exits_0() {
    let fake = FakeNix::new(Some(&x86_64_without_kvm()), None);
    let output = fake.run("0", "test ui --system aarch64-linux");
    assert_exit(&output, 0);
    assert_stdout_has(&output, "test: 0 passed, 0 failed, 1 skipped");
    assert_stderr_has(
        &output,
        "SKIP test ui (aarch64-linux): aarch64-linux VM tests need",
    );
    assert!(fake.built().is_empty(), "{:?}", fake.calls());
}

#[test]
fn dominix_kvm_1_attempts_every_cell_without_asking_nix() {
    let fake = FakeNix::new(Some(&x86_64_without_kvm()), None);
    let output = fake.run("1", "test ui --system aarch64-linux");
    assert_exit(&output, 0);
    assert_eq!(fake.config_queries(), 0, "{:?}", fake.calls());
    assert_eq!(fake.built(), ["checks.aarch64-linux.ui"]);
    assert_stdout_has(&output, "test: 1 passed, 0 failed, 0 skipped");
}

#[test]
fn an_unreadable_nix_configuration_lets_nix_decide() {
    // Neither `nix show-config` nor `nix config show` answers: the cell is
    // attempted (Nix then reports whether it can build it), with a note.
    let fake = FakeNix::new(None, None);
    let output = fake.run("0", "test hardening --system aarch64-linux");
    assert_exit(&output, 0);
    assert_eq!(fake.config_queries(), 2, "{:?}", fake.calls());
    assert_eq!(fake.built(), ["checks.aarch64-linux.hardening"]);
    assert_stderr_has(&output, "cannot read Nix's configuration");
}

#[test]
fn github_annotations_and_summary_show_skipped_cells() {
    let fake = FakeNix::new(Some(&x86_64_without_kvm()), None);
    let reports = tempfile::tempdir().unwrap();
    let summary = reports.path().join("summary.md");
    let output = fake
        .xtask("0")
        .args(["matrix", "--levels", "vm-test", "--system", "aarch64-linux"])
        .args(["--emit", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    for feature in features_of("aarch64-linux") {
        let annotation = format!(
            "::warning title=matrix vm-test/aarch64-linux/{feature} skipped::aarch64-linux"
        );
        assert_stdout_has(&output, &annotation);
        assert!(
            std::fs::read_to_string(&summary)
                .unwrap()
                .contains(&format!(
                    "| vm-test | aarch64-linux | {feature} | skipped |"
                )),
            "step summary"
        );
    }
    assert!(!stdout(&output).contains("::error"), "{}", stdout(&output));
}

#[test]
fn an_unknown_dominix_kvm_value_is_a_usage_error() {
    let fake = FakeNix::new(Some(&x86_64_without_kvm()), None);
    let output = fake.run("yes", "matrix --levels vm-test --system aarch64-linux");
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("DOMINIX_KVM=1"),
        "the error names the fix: {}",
        stderr(&output)
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}
