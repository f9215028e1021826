//! The binary's command line: flags, exit codes (0, 1 failure, 2 usage),
//! errors that name the address and the fix, IPv6 loopback.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use assert_cmd::Command;
use common::{BIN, Binary, Client, MANIFEST, Manifest};

fn bin() -> Command {
    let mut command = Command::new(BIN);
    command.timeout(Duration::from_secs(20));
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether ::1 can be bound here; prints the SKIP line (a failure under
/// DOMINIX_REQUIRE_EVAL=1) when not.
fn ipv6_loopback(test: &str) -> bool {
    match TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            dominix_testing::dominix_eval::skip::skip_test(&format!(
                "SKIP ipv6 [{test}]: ::1 cannot be bound here ({e}) — enable IPv6 on the loopback interface (sysctl net.ipv6.conf.lo.disable_ipv6=0)"
            ));
            false
        }
    }
}

#[test]
fn help_lists_every_flag_with_its_default_and_exits_0() {
    let output = bin().arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    for flag in [
        "--listen <ADDR:PORT>",
        "[default: 127.0.0.1:9180]",
        "--manifest <PATH>",
        "[default: /etc/domi-nix/features.json]",
        "--max-connections <N>",
        "[default: 512]",
        "--header-timeout <SECS>",
        "[default: 5]",
        "--idle-timeout <SECS>",
        "[default: 30]",
        "--version",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let output = bin().arg("--version").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stdout).trim(),
        format!("domi-nix-status {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    for (args, expected) in [
        (&["--no-such-flag"][..], "--no-such-flag"),
        (&["--listen", "localhost:9180"], "is not ADDR:PORT. Fix:"),
        (&["--listen", "127.0.0.1"], "is not ADDR:PORT"),
        (&["--listen", "::1:9180"], "[::1]:9180"),
        (&["--max-connections", "0"], "--max-connections"),
        (&["--max-connections", "many"], "--max-connections"),
        (&["--header-timeout", "0"], "--header-timeout"),
        (&["--idle-timeout=-1"], "--idle-timeout"),
        (&["--idle-timeout", "99999999"], "--idle-timeout"),
        (&["--manifest"], "--manifest"),
    ] {
        let output = bin().args(args).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn the_worker_thread_count_is_checked_not_panicked_on() {
    for bad in ["many", "0", "65", ""] {
        let output = bin()
            .env("TOKIO_WORKER_THREADS", bad)
            .args(["--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.starts_with("error: TOKIO_WORKER_THREADS=") && stderr.contains("Fix: "),
            "{bad:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn one_worker_thread_by_default_more_on_request() {
    let manifest = Manifest::new(MANIFEST);
    let mut server = Binary::start_with_env(
        &[
            "--listen",
            "127.0.0.1:0",
            "--manifest",
            manifest.path.to_str().unwrap(),
        ],
        &[("TOKIO_WORKER_THREADS", "3")],
    );
    let mut client = Client::connect(server.addrs[0]);
    assert_eq!(client.get("GET", "/health").status, 200);
    assert_eq!(client.get("GET", "/features").text(), MANIFEST);
    // 3 workers, and the main thread blocked on the runtime.
    assert!(
        server.threads().is_some_and(|n| n >= 4),
        "{:?}",
        server.threads()
    );
    assert!(server.alive());

    // By default one worker: the main thread and it.
    let default = Binary::start(&["--listen", "127.0.0.1:0"]);
    assert_eq!(
        Client::connect(default.addrs[0])
            .get("GET", "/health")
            .status,
        200
    );
    assert_eq!(default.threads(), Some(2));
}

#[test]
fn an_address_in_use_exits_1_naming_the_address_and_the_fix() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = bin().args(["--listen", &addr]).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: "))
            && stderr.contains("Fix: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one error line: {stderr}");

    // The same address twice: the second bind fails, naming it.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let output = bin()
        .args(["--listen", &free, "--listen", &free])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains(&format!("cannot listen on {free}")));
}

#[test]
fn an_address_not_on_this_machine_exits_1_with_the_fix() {
    // TEST-NET-1 (RFC 5737): never configured on a test machine.
    let output = bin().args(["--listen", "192.0.2.1:9180"]).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot listen on 192.0.2.1:9180")
            && stderr.contains("not configured on this machine"),
        "{stderr}"
    );
}

#[test]
fn the_binary_serves_every_listen_address_including_ipv6_loopback() {
    let manifest = Manifest::new(MANIFEST);
    let path = manifest.path.to_str().unwrap();
    let mut args = vec!["--manifest", path, "--listen", "127.0.0.1:0"];
    let ipv6 = ipv6_loopback("binary-ipv6");
    if ipv6 {
        args.extend(["--listen", "[::1]:0"]);
    }
    let server = Binary::start(&args);
    assert_eq!(server.addrs.len(), if ipv6 { 2 } else { 1 });
    for &addr in &server.addrs {
        let mut client = Client::connect(addr);
        assert_eq!(
            client.get("GET", "/health").json()["status"],
            "ok",
            "{addr}"
        );
        assert_eq!(client.get("GET", "/features").text(), MANIFEST, "{addr}");
    }
    if ipv6 {
        assert!(server.addrs[1].is_ipv6());
    }
}

#[test]
fn the_library_serves_ipv6_loopback() {
    if !ipv6_loopback("library-ipv6") {
        return;
    }
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = common::in_process(status_api::Config {
        listen: vec!["[::1]:0".parse::<SocketAddr>().unwrap()],
        ..common::config(&manifest.path)
    });
    assert!(addr.is_ipv6());
    let mut client = Client::connect(addr);
    assert_eq!(client.get("GET", "/health").status, 200);
    assert_eq!(client.get("HEAD", "/metrics").status, 200);
}

#[test]
fn problems_are_logged_one_line_each_without_bodies() {
    let manifest = Manifest::new(MANIFEST);
    let missing = manifest.dir.path().join("absent.json");
    let server = Binary::start(&[
        "--listen",
        "127.0.0.1:0",
        "--manifest",
        missing.to_str().unwrap(),
    ]);
    let addr = server.addrs[0];
    let mut client = Client::connect(addr);
    assert_eq!(client.get("GET", "/features").status, 503);
    let mut bad = Client::connect(addr);
    bad.send(b"POST /health HTTP/1.1\r\nHost: t\r\nBroken\r\n\r\nSECRET-BODY")
        .unwrap();
    assert_eq!(bad.read_response(false).unwrap().status, 400);

    let mut lines = Vec::new();
    while lines.len() < 2 {
        let more = server.stderr_lines(Duration::from_secs(5));
        assert!(
            !more.is_empty(),
            "expected two problem lines, got {lines:?}"
        );
        lines.extend(more);
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/features") && l.contains("absent.json") && l.contains("Fix: ")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("answered 400") && l.contains("127.0.0.1:")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with("domi-nix-status: ")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("SECRET")),
        "a body reached the log: {lines:?}"
    );
}
