//! Many connections against the real binary: the connection cap, bounded
//! memory, and a server that is still alive afterwards. No timing is asserted.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use common::{Binary, Client, MANIFEST, Manifest, metric};

const CONNECTIONS: usize = 1000;
const MAX_CONNECTIONS: usize = 512;
/// Resident memory the server may reach with every connection open: a
/// generous bound (the design needs a few MiB), to catch unbounded buffers.
const RSS_LIMIT_KIB: u64 = 64 * 1024;

/// Raises this process' open-file soft limit to the hard one; whether it
/// then allows `needed` descriptors (prints the SKIP line if not).
fn open_files_allow(needed: u64) -> bool {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    let current = getrlimit(Resource::Nofile).current;
    if current.is_some_and(|c| c < needed) {
        dominix_testing::dominix_eval::skip::skip_test(&format!(
            "SKIP load: the open-file limit ({current:?}) is below {needed} — raise it (ulimit -n {needed})"
        ));
        return false;
    }
    true
}

/// How a connection was answered.
#[derive(Debug, PartialEq)]
enum Answer {
    Served,
    Refused,
}

fn answer(client: Option<&mut Client>) -> Answer {
    let Some(client) = client else {
        return Answer::Refused; // the connect itself failed
    };
    if client
        .send(b"GET /health HTTP/1.1\r\nHost: load\r\n\r\n")
        .is_err()
    {
        return Answer::Refused;
    }
    match client.read_response(false) {
        Ok(response) if response.status == 200 => {
            assert_eq!(response.json()["status"], "ok");
            Answer::Served
        }
        Ok(response) => {
            assert_eq!(response.status, 503, "{response:?}");
            assert_eq!(response.header("connection"), Some("close"));
            Answer::Refused
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ),
                "neither served nor refused: {e}"
            );
            Answer::Refused
        }
    }
}

/// Polls `/metrics` (bounded) until `series` has `value`; the last text.
fn wait_for_metric(server: &Binary, series: &str, value: u64) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        text = Client::connect(server.addrs[0])
            .get("GET", "/metrics")
            .text()
            .to_owned();
        if metric(&text, series) == value {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    text
}

#[test]
fn a_thousand_concurrent_connections_are_served_or_refused_with_bounded_memory() {
    if !open_files_allow(CONNECTIONS as u64 + 200) {
        return;
    }
    let manifest = Manifest::new(MANIFEST);
    let max = MAX_CONNECTIONS.to_string();
    let mut server = Binary::start(&[
        "--listen",
        "127.0.0.1:0",
        "--manifest",
        manifest.path.to_str().unwrap(),
        "--max-connections",
        &max,
        // Long enough that no held connection expires while the rest open.
        "--header-timeout",
        "120",
        "--idle-timeout",
        "120",
    ]);
    let addr = server.addrs[0];
    assert_eq!(Client::connect(addr).get("GET", "/health").status, 200);
    let rss_before = server.rss_kib();

    // All of them open at once, then a request on each: the first
    // --max-connections are held by the server, the rest are over the cap.
    let mut clients: Vec<Option<Client>> = (0..CONNECTIONS)
        .map(|_| Client::try_connect(addr).ok())
        .collect();
    let answers: Vec<Answer> = clients.iter_mut().map(|c| answer(c.as_mut())).collect();
    let served = answers.iter().filter(|a| **a == Answer::Served).count();
    let refused = answers.len() - served;
    let rss_during = server.rss_kib();

    assert!(
        server.alive(),
        "the server died under {CONNECTIONS} connections"
    );
    assert!(served >= 1, "none served");
    assert!(
        served <= MAX_CONNECTIONS,
        "{served} served at once, over --max-connections {MAX_CONNECTIONS}"
    );
    assert!(
        refused >= CONNECTIONS - MAX_CONNECTIONS,
        "{served} served, {refused} refused"
    );
    if let (Some(before), Some(during)) = (rss_before, rss_during) {
        eprintln!(
            "{served} served, {refused} refused; server VmRSS: {before} KiB idle, {during} KiB with {CONNECTIONS} connections"
        );
        assert!(
            during < RSS_LIMIT_KIB,
            "VmRSS {during} KiB with {CONNECTIONS} connections"
        );
    }

    // Every refusal was counted; closing the clients frees every slot.
    drop(clients);
    let text = wait_for_metric(&server, "domi_nix_status_connections_open", 1);
    assert_eq!(
        metric(&text, "domi_nix_status_connections_open"),
        1,
        "{text}"
    );
    assert_eq!(
        metric(&text, "domi_nix_status_connections_refused_total"),
        refused as u64,
        "{text}"
    );
    assert!(server.alive());
    let mut client = Client::connect(addr);
    assert_eq!(client.get("GET", "/health").status, 200);
    assert_eq!(client.get("GET", "/features").text(), MANIFEST);
}

#[test]
fn a_connection_over_the_cap_gets_503_then_a_freed_slot_serves_again() {
    let manifest = Manifest::new(MANIFEST);
    let server = Binary::start(&[
        "--listen",
        "127.0.0.1:0",
        "--manifest",
        manifest.path.to_str().unwrap(),
        "--max-connections",
        "2",
    ]);
    let addr = server.addrs[0];
    let mut first = Client::connect(addr);
    let mut second = Client::connect(addr);
    assert_eq!(first.get("GET", "/health").status, 200);
    assert_eq!(second.get("GET", "/health").status, 200);

    let mut third = Client::connect(addr);
    let response = third.read_response(false).unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.header("retry-after"), Some("1"));
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(response.json()["error"], "too many connections");
    assert!(third.closed_by_server());
    // The held connections are unaffected.
    assert_eq!(first.get("GET", "/features").status, 200);

    drop(second);
    // The slot is free once the server has seen the close (bounded wait).
    let mut served = false;
    for _ in 0..50 {
        let mut client = Client::connect(addr);
        if client
            .send(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            .is_ok()
            && client.read_response(false).is_ok_and(|r| r.status == 200)
        {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(served, "a freed slot was never reused");
    let text = first.get("GET", "/metrics").text().to_owned();
    assert!(
        metric(&text, "domi_nix_status_connections_refused_total") >= 1,
        "{text}"
    );
}
