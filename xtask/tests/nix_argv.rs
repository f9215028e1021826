//! The exact Nix command lines of `build`, `vm`, `test` and `matrix`, recorded
//! by a fake `nix` put first on PATH. No real Nix runs here.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::fake_nix::FakeNix;
use common::{
    assert_exit, assert_stderr_has, assert_stdout_has, features, find_by, flake_imports,
    flake_setting, read_json, root, stderr, stdout, utf8,
};

/// `nix build` of one installable: with its progress as internal-json
/// (Nix 2.8 and current Nix both take `--log-format internal-json -v`), or
/// as a dry run whose list goes straight to the terminal.
fn build_argv(installable: &str, dry_run: bool) -> Vec<String> {
    let mut argv: Vec<String> = [
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--json",
        "--no-link",
    ]
    .map(str::to_owned)
    .to_vec();
    if dry_run {
        argv.extend([installable.to_owned(), "--dry-run".to_owned()]);
    } else {
        argv.extend(["--log-format", "internal-json", "-v", installable].map(str::to_owned));
    }
    argv
}

/// The one argument of a `nix build` call that names a flake attribute.
fn installable_of(argv: &[String]) -> String {
    argv.iter()
        .find(|a| a.contains('#'))
        .cloned()
        .unwrap_or_default()
}

/// `build_argv` of `attr` of a composed trunk: today's domi-nix, no lock written.
fn trunk_build_argv(trunk: &Path, attr: &str, dry_run: bool) -> Vec<String> {
    let mut argv = build_argv(&format!("path:{}#{attr}", utf8(trunk)), dry_run);
    argv.extend([
        "--override-input".to_owned(),
        "domi-nix".to_owned(),
        repo_ref(),
        "--no-write-lock-file".to_owned(),
    ]);
    argv
}

/// How xtask refers to this checkout: a git checkout as a possibly shallow
/// clone (`shallow=1`), its path percent-encoded.
fn repo_ref() -> String {
    let root = root();
    if root.join(".git").exists() {
        let mut path = String::new();
        for byte in utf8(&root).bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte) {
                path.push(char::from(byte));
            } else {
                path.push_str(&format!("%{byte:02X}"));
            }
        }
        format!("git+file://{path}?shallow=1")
    } else {
        format!("path:{}", utf8(&root))
    }
}

/// The flake.nix of a composed trunk.
fn flake_of(trunk: &Path) -> String {
    std::fs::read_to_string(trunk.join("flake.nix")).unwrap()
}

/// `xtask LINE` with a new recording nix (KVM assumed); asserts it exits with `code`.
fn run(line: &str, code: i32) -> (FakeNix, Output) {
    let fake = FakeNix::new(None, None);
    let output = fake.run("1", line);
    assert_exit(&output, code);
    (fake, output)
}

#[test]
fn build_composes_the_trunk_and_prints_the_out_path() {
    let (fake, output) = run("build --features ui,hardening --host x86_64-linux", 0);
    assert_eq!(
        stdout(&output).lines().collect::<Vec<_>>(),
        [FakeNix::out_path()],
        "{}",
        stdout(&output)
    );

    let trunk = fake.trunk("hardening+packages+ui-x86_64-linux");
    let argv = trunk_build_argv(&trunk, "packages.x86_64-linux.vm", false);
    assert_eq!(fake.only_call(), argv);
    let flake = flake_of(&trunk);
    assert_eq!(
        flake_imports(&flake),
        ["m.hardening", "m.packages", "m.trunk", "m.ui"]
    );
    assert_eq!(flake_setting(&flake, "system"), "x86_64-linux");
    assert!(trunk.join(".domi-nix-trunk").is_file());
}

#[test]
fn build_toplevel_uses_the_nixos_configuration() {
    let (fake, _) = run("build --features ui --system x86_64-linux --toplevel", 0);
    let attr = "nixosConfigurations.trunk.config.system.build.toplevel";
    let argv = trunk_build_argv(&fake.trunk("packages+ui-x86_64-linux"), attr, false);
    assert_eq!(fake.only_call(), argv);
}

#[test]
fn build_minimal_dry_run_for_a_darwin_host_uses_an_aarch64_linux_guest() {
    let (fake, output) = run("build --profile minimal --host aarch64-darwin --dry-run", 0);
    assert_eq!(stdout(&output).trim(), "", "a dry run prints no out path");

    let trunk = fake.trunk("minimal-aarch64-linux");
    let argv = trunk_build_argv(&trunk, "packages.aarch64-darwin.vm", true);
    assert_eq!(fake.only_call(), argv);
    let flake = flake_of(&trunk);
    assert_eq!(flake_setting(&flake, "system"), "aarch64-linux");
    assert_eq!(flake_imports(&flake), ["m.trunk"]);
}

#[test]
fn build_rejects_a_guest_the_host_cannot_run() {
    let line = "build --host aarch64-darwin --system x86_64-linux --features ui";
    let (fake, output) = run(line, 2);
    assert_stderr_has(&output, "--system aarch64-linux");
    assert!(
        fake.calls().is_empty(),
        "nix must not run: {:?}",
        fake.calls()
    );
}

#[test]
fn vm_builds_then_names_the_bin_dir_it_cannot_read() {
    let (fake, output) = run("vm --features ui,hardening --host x86_64-linux", 1);
    let bin = format!("{}/bin", FakeNix::out_path());
    assert!(
        stderr(&output).contains(&bin),
        "the error names {bin}: {}",
        stderr(&output)
    );

    let trunk = fake.trunk("hardening+packages+ui-x86_64-linux");
    let argv = trunk_build_argv(&trunk, "packages.x86_64-linux.vm", false);
    assert_eq!(fake.only_call(), argv);
}

#[test]
fn build_and_vm_build_today_s_domi_nix_and_write_no_lock() {
    for command in ["build", "vm"] {
        let fake = FakeNix::new(None, None);
        let output = fake.run("1", &format!("{command} --features ui --host x86_64-linux"));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
        let argv = fake.only_call();
        let at = argv
            .iter()
            .position(|a| a == "--override-input")
            .unwrap_or_else(|| panic!("{command}: no --override-input in {argv:?}"));
        assert_eq!(
            argv[at + 1..at + 3],
            ["domi-nix".to_owned(), repo_ref()],
            "{command}: {argv:?}"
        );
        assert!(
            argv.iter().any(|a| a == "--no-write-lock-file"),
            "{command}: {argv:?}"
        );
        let trunk = fake.trunk("packages+ui-x86_64-linux");
        assert_eq!(
            flake_setting(&flake_of(&trunk), "inputs.domi-nix.url"),
            repo_ref()
        );
        assert!(
            !trunk.join("flake.lock").exists(),
            "{command} leaves no lock"
        );
    }
}

#[test]
fn a_stale_lock_in_a_previously_composed_trunk_is_not_used() {
    let fake = FakeNix::new(None, None);
    let build = || fake.run("1", "build --features hardening --host x86_64-linux");
    assert_exit(&build(), 0);
    // What a plain `nix build` of the trunk leaves behind: domi-nix pinned
    // at the revision of that day.
    let trunk = fake.trunk("hardening-x86_64-linux");
    let stale = r#"{"nodes":{"domi-nix":{"locked":{"lastModified":1,"narHash":"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","rev":"0000000000000000000000000000000000000000","type":"git","url":"file:///old/domi-nix"},"original":{"type":"git","url":"file:///old/domi-nix"}},"root":{"inputs":{"domi-nix":"domi-nix"}}},"root":"root","version":7}"#;
    std::fs::write(trunk.join("flake.lock"), stale).unwrap();

    assert_exit(&build(), 0);
    assert!(
        !trunk.join("flake.lock").exists(),
        "the stale lock must be gone before nix runs"
    );
    for argv in fake.calls() {
        assert_eq!(
            argv,
            trunk_build_argv(&trunk, "packages.x86_64-linux.vm", false)
        );
    }
    assert_eq!(fake.calls().len(), 2);
}

#[test]
fn the_checkout_is_referred_to_as_a_possibly_shallow_clone() {
    if !root().join(".git").exists() {
        common::skip(
            "SKIP shallow-ref: this checkout is not a git work tree, so it is referred to as path: — run the tests in a git clone",
        );
        return;
    }
    let (fake, _) = run("build --features ui --host x86_64-linux", 0);
    let url = flake_setting(
        &flake_of(&fake.trunk("packages+ui-x86_64-linux")),
        "inputs.domi-nix.url",
    );
    assert!(
        url.starts_with("git+file:///") && url.ends_with("?shallow=1"),
        "{url}"
    );

    let (fake, _) = run("test hardening --system x86_64-linux", 0);
    let installable = installable_of(&fake.only_call());
    assert!(
        installable.starts_with("git+file:///")
            && installable.ends_with("?shallow=1#checks.x86_64-linux.hardening"),
        "{installable}"
    );
}

#[test]
fn test_builds_the_checks_of_the_repository() {
    let (fake, output) = run("test ui --system x86_64-linux", 0);
    assert_stdout_has(&output, "test: 1 passed, 0 failed");
    let installable = format!("{}#checks.x86_64-linux.ui", repo_ref());
    assert_eq!(fake.only_call(), build_argv(&installable, false));
}

#[test]
fn test_unknown_feature_is_a_usage_error() {
    let (fake, output) = run("test hardenin --system x86_64-linux", 2);
    assert_stderr_has(&output, "did you mean `hardening`");
    assert!(fake.calls().is_empty());
}

#[test]
fn matrix_dry_run_evaluates_every_cell_and_builds_nothing() {
    let fake = FakeNix::new(None, None);
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("matrix.json");
    let junit = reports.path().join("junit.xml");
    let output = fake
        .xtask("1")
        .args(["matrix", "--dry-run", "--levels", "vm-test"])
        .args(["--json", utf8(&json), "--junit", utf8(&junit)])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert!(
        fake.builds().is_empty(),
        "a dry run builds nothing: {:?}",
        fake.calls()
    );
    let evals: Vec<Vec<String>> = fake
        .calls()
        .into_iter()
        .filter(|argv| argv.get(2).is_some_and(|a| a == "eval"))
        .collect();
    assert_eq!(evals.len(), 1, "every cell in one evaluation: {evals:?}");
    assert_eq!(
        evals[0][3..6],
        ["--json", "--impure", "--expr"],
        "{evals:?}"
    );

    let report = read_json(&json);
    let cells = report["cells"].as_array().unwrap();
    let mut seen: Vec<(String, String)> = cells
        .iter()
        .map(|c| {
            assert_eq!(c["status"], "listed", "{c}");
            assert_eq!(c["level"], "vm-test", "{c}");
            let (system, feature) = (
                c["system"].as_str().unwrap(),
                c["feature"].as_str().unwrap(),
            );
            assert_eq!(c["attr"], format!("checks.{system}.{feature}"));
            let name = format!("checks.{system}.{feature}");
            assert_eq!(c["drv"], format!("{}.drv", FakeNix::out_of(&name)), "{c}");
            assert_eq!(c["outputs"]["out"], FakeNix::out_of(&name), "{c}");
            assert!(c["cached"].is_null(), "{c}");
            (system.to_owned(), feature.to_owned())
        })
        .collect();
    seen.sort();
    // Every feature × every Linux system it supports.
    let mut want: Vec<(String, String)> = features()
        .into_iter()
        .flat_map(|(name, systems)| systems.into_iter().map(move |s| (s, name.clone())))
        .filter(|(s, _)| s == "x86_64-linux" || s == "aarch64-linux")
        .collect();
    want.sort();
    assert_eq!(seen, want);
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(0), Some(0)),
        "{report}"
    );
    // The exact commands: the evaluation, the cache query, and the build
    // that would run (every derivation in one Nix).
    let commands: Vec<&str> = report["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert!(
        commands[0].contains(" eval --json --impure --expr "),
        "{commands:?}"
    );
    assert!(
        commands[1].contains(" path-info --json --no-substitute "),
        "{commands:?}"
    );
    assert!(
        commands[2].contains(" build --json --no-link --log-format internal-json -v --keep-going --max-jobs auto /nix/store/"),
        "{commands:?}"
    );
    assert_eq!(
        commands[2].matches(".drv").count(),
        want.len(),
        "{commands:?}"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    let n = want.len();
    assert_eq!(xml.matches("<testcase ").count(), n, "{xml}");
    assert_eq!(xml.matches("<skipped ").count(), n, "{xml}");
    assert!(
        xml.contains(&format!("tests=\"{n}\" failures=\"0\"")),
        "{xml}"
    );
}

#[test]
fn matrix_reports_a_failed_cell_and_exits_1() {
    let fake = FakeNix::new(None, Some("checks.x86_64-linux.hardening"));
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("matrix.json");
    let output = fake
        .xtask("1")
        .args(["matrix", "--levels", "vm-test", "--system", "x86_64-linux"])
        .args(["--json", utf8(&json)])
        .output()
        .unwrap();
    assert_exit(&output, 1);
    // Every x86_64-linux cell passes but hardening's.
    let mut x86: Vec<String> = features()
        .into_iter()
        .filter(|(_, systems)| systems.iter().any(|s| s == "x86_64-linux"))
        .map(|(name, _)| name)
        .collect();
    x86.sort();
    let passed = x86.len() - 1;
    assert_stdout_has(
        &output,
        &format!("matrix: {passed} passed, 0 cached, 1 failed"),
    );

    let report = read_json(&json);
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(passed as u64), Some(1)),
        "{report}"
    );
    let cell = |feature: &str| find_by(&report["cells"], "feature", feature).clone();
    assert_eq!(cell("hardening")["status"], "failed");
    let message = cell("hardening")["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("builder for") && message.contains("checks.x86_64-linux.hardening.drv"),
        "{message}"
    );
    assert_eq!(cell("ui")["status"], "passed");

    // Every cell's derivation handed to one Nix, which keeps going past the failure.
    let builds = fake.builds();
    assert_eq!(builds.len(), 1, "{builds:?}");
    let drv = |f: &str| {
        format!(
            "{}.drv",
            FakeNix::out_of(&format!("checks.x86_64-linux.{f}"))
        )
    };
    let mut want: Vec<String> = [
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--json",
        "--no-link",
        "--log-format",
        "internal-json",
        "-v",
        "--keep-going",
        "--max-jobs",
        "auto",
    ]
    .map(str::to_owned)
    .to_vec();
    // Nix 2.8 (what the fake says it is) names a derivation's outputs by its bare path.
    want.extend(x86.iter().map(|f| drv(f)));
    assert_eq!(builds[0], want);
}

#[test]
fn vm_dry_run_prints_the_compose_the_build_and_the_start_and_runs_nothing() {
    let line = "vm --features ui --host x86_64-linux --dry-run --memory 4G --cores 3 \
                --forward 8080:80 --forward udp:5353:53 --headless";
    let (fake, output) = run(line, 0);
    assert!(fake.calls().is_empty(), "nothing runs: {:?}", fake.calls());
    let trunk = fake.trunk("packages+ui-x86_64-linux");
    assert!(!trunk.exists(), "nothing is written");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        format!(
            "cargo xtask compose --features ui --system x86_64-linux --out {}",
            utf8(&trunk)
        )
    );
    let quoted: Vec<String> = trunk_build_argv(&trunk, "packages.x86_64-linux.vm", false)
        .iter()
        .map(|w| {
            if w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-#".contains(c))
            {
                w.clone()
            } else {
                format!("'{w}'")
            }
        })
        .collect();
    assert_eq!(lines[1], format!("nix {}", quoted.join(" ")));
    let start = lines[2];
    assert!(start.ends_with(" <out>/bin/run-*-vm"), "{start}");
    let disk = fake
        .trunk("x")
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("vms/packages+ui-x86_64-linux/disk.qcow2");
    assert!(
        start.starts_with(&format!("NIX_DISK_IMAGE={} ", utf8(&disk))),
        "{start}"
    );
    assert!(
        start.contains(" QEMU_OPTS='-m 4096 -smp 3 -display none' "),
        "{start}"
    );
    let net = start
        .split_whitespace()
        .find_map(|w| w.strip_prefix("QEMU_NET_OPTS="))
        .unwrap();
    let forwards: Vec<&str> = net.split(',').collect();
    assert_eq!(
        forwards[..2],
        [
            "hostfwd=tcp:127.0.0.1:8080-:80",
            "hostfwd=udp:127.0.0.1:5353-:53"
        ]
    );
    let ssh = forwards[2]
        .strip_prefix("hostfwd=tcp:127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("-:22"))
        .unwrap_or_else(|| panic!("SSH forwarded by default: {net}"));
    assert!(ssh.parse::<u16>().is_ok(), "{net}");
    assert_stderr_has(&output, &format!("`ssh -p {ssh} domi@127.0.0.1`"));

    // Ephemeral: no disk kept; a forward of port 22 replaces the default one.
    let (_, output) = run(
        "vm --features ui --host x86_64-linux --dry-run --ephemeral --forward 2222:22",
        0,
    );
    let text = stdout(&output);
    assert!(
        text.contains("QEMU_NET_OPTS=hostfwd=tcp:127.0.0.1:2222-:22 "),
        "{text}"
    );
    assert!(!text.contains("/vms/"), "{text}");
    assert_stderr_has(&output, "ephemeral: no disk is kept");
}

#[test]
fn vm_on_a_mac_looks_for_a_linux_builder_before_building() {
    let config = |builders: &str| {
        serde_json::json!({
            "system": { "value": "aarch64-darwin" },
            "system-features": { "value": [] },
            "extra-platforms": { "value": [] },
            "builders": { "value": builders },
        })
        .to_string()
    };
    let fake = FakeNix::new(
        Some(&config(
            "ssh-ng://builder@linux-builder aarch64-linux /etc/nix/builder_ed25519 4 - kvm,benchmark,big-parallel",
        )),
        None,
    );
    let output = fake.run("0", "vm --profile minimal --host aarch64-darwin --dry-run");
    assert_exit(&output, 0);
    assert_stderr_has(
        &output,
        "the aarch64-linux guest builds on nix-darwin's linux-builder (ssh-ng://builder@linux-builder)",
    );

    let fake = FakeNix::new(Some(&config("")), None);
    let output = fake.run("0", "vm --profile minimal --host aarch64-darwin");
    assert_exit(&output, 1);
    assert_stderr_has(&output, "needs a Linux builder");
    assert_stderr_has(&output, "`nix.linux-builder.enable = true;`");
    assert!(
        fake.builds().is_empty(),
        "nothing is built: {:?}",
        fake.calls()
    );
}

#[test]
fn vm_of_a_guest_the_host_cannot_run_says_what_would_be_needed() {
    let (fake, output) = run(
        "vm --features ui --host x86_64-linux --system aarch64-linux",
        2,
    );
    assert_stderr_has(&output, "guest aarch64-linux on host x86_64-linux");
    assert_stderr_has(&output, "remote builder of aarch64-linux");
    assert_stderr_has(&output, "Fix: pass `--system x86_64-linux`");
    assert!(fake.calls().is_empty());
}
