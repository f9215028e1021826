//! `domi-nix-shell` run as a user runs it: with a manifest written here and
//! a stand-in `systemctl` first on PATH.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const MANIFEST: &str = r#"{"version":1,"features":{
    "remote-access":{"category":"services","summary":"SSH by key","requires":["sandboxing"],"conflicts":[],"services":["sshd.service"]},
    "ui":{"category":"ui","summary":"The shell","requires":["packages"],"conflicts":[],"services":[]}}}"#;

/// A checkout-free scratch directory with the manifest and a `systemctl`
/// answering for sshd.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new(systemctl: &str) -> Machine {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("features.json"), MANIFEST).expect("manifest");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin");
        let draft = dir.path().join("systemctl.draft");
        std::fs::write(&draft, format!("#!/bin/sh\n{systemctl}\n")).expect("script");
        // Installed by a child process (ETXTBSY: see dominix-nix's fake nix).
        let ok = std::process::Command::new("install")
            .args(["-m", "755"])
            .arg(&draft)
            .arg(bin.join("systemctl"))
            .status()
            .expect("install")
            .success();
        assert!(ok);
        Machine { dir }
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let manifest = self.dir.path().join("features.json");
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::cargo_bin("domi-nix-shell")
            .expect("the binary")
            .env("PATH", path)
            .arg("--manifest")
            .arg(&manifest)
            .args(args)
            .assert()
    }
}

fn json(assert: assert_cmd::assert::Assert) -> Value {
    let out = assert.success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("JSON")
}

const SSHD_RUNNING: &str =
    "printf 'Id=sshd.service\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\n'";

#[test]
fn status_reports_each_branchs_units_as_systemd_says() {
    let machine = Machine::new(SSHD_RUNNING);
    let status = json(machine.run(&["status", "--json"]));
    assert_eq!(
        status,
        serde_json::json!([{ "unit": "sshd.service", "feature": "remote-access", "load": "loaded", "active": "active", "sub": "running" }])
    );
    let text = machine
        .run(&["status"])
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).expect("UTF-8");
    assert!(
        text.contains("sshd.service") && text.contains("active (running)"),
        "{text}"
    );
}

#[test]
fn a_systemd_that_cannot_answer_leaves_the_state_unknown() {
    for systemctl in ["exit 1", "sleep 30"] {
        let machine = Machine::new(systemctl);
        let status = json(machine.run(&["status", "--json"]));
        assert_eq!(status[0]["active"], "unknown", "{systemctl}");
    }
}

#[test]
fn features_and_the_banner() {
    let machine = Machine::new(SSHD_RUNNING);
    let features = json(machine.run(&["features", "--json"]));
    assert_eq!(features["ui"]["summary"], "The shell");
    assert_eq!(features.as_object().map(|f| f.len()), Some(2));

    let banner = json(machine.run(&["--json"]));
    assert!(banner["host"].is_string());
    assert!(banner["addresses"].is_array());
    assert_eq!(banner["services"][0]["unit"], "sshd.service");

    let text = machine.run(&[]).success().get_output().stdout.clone();
    let text = String::from_utf8(text).expect("UTF-8");
    assert!(text.starts_with("domi-nix on "), "{text}");
    assert!(text.contains("remote-access    SSH by key"), "{text}");
}

#[test]
fn a_missing_manifest_is_exit_1_and_a_bad_flag_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("none.json");
    let out = Command::cargo_bin("domi-nix-shell")
        .expect("the binary")
        .arg("--manifest")
        .arg(Path::new(&missing))
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let message = String::from_utf8(out).expect("UTF-8");
    assert!(
        message.contains("cannot read the manifest") && message.contains("trunk"),
        "{message}"
    );
    Command::cargo_bin("domi-nix-shell")
        .expect("the binary")
        .arg("--jsn")
        .assert()
        .code(2);
}
