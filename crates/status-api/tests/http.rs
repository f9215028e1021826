//! The routes, and every kind of bad input, against a real socket on
//! loopback: a server in this process on 127.0.0.1:0, raw HTTP/1.1 clients.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Client, MANIFEST, Manifest, config, in_process, metric};

const JSON: &str = "application/json";

#[test]
fn health_answers_ok_with_the_version_and_an_integer_uptime() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let response = Client::connect(addr).get("GET", "/health");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some(JSON));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("server"), None, "no server banner");
    let body = response.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_seconds"].is_u64(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

#[test]
fn features_serves_the_manifest_as_it_is_now() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    let response = client.get("GET", "/features");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some(JSON));
    assert_eq!(response.text(), MANIFEST, "the file's bytes, unchanged");

    // Read at every request: a rebuilt system's manifest is served at once.
    let newer = "{\"version\":1,\"features\":{}}";
    std::fs::write(&manifest.path, newer).unwrap();
    assert_eq!(client.get("GET", "/features").text(), newer);
}

#[test]
fn features_is_503_naming_the_file_when_it_is_missing_or_not_json() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let file = manifest.path.to_str().unwrap();
    let mut client = Client::connect(addr);
    for (content, reason) in [
        (None, "cannot read"),
        (Some("{\"version\":1,"), "is not JSON"),
        (Some("[\"ui\"]"), "not an object"),
        (Some(""), "is not JSON"),
    ] {
        match content {
            None => std::fs::remove_file(&manifest.path).unwrap(),
            Some(text) => std::fs::write(&manifest.path, text).unwrap(),
        }
        let response = client.get("GET", "/features");
        assert_eq!(response.status, 503, "{content:?}");
        assert_eq!(response.header("content-type"), Some(JSON));
        let body = response.json();
        assert_eq!(body["file"], file, "{body}");
        let text = body["reason"].as_str().unwrap();
        assert!(
            text.contains(reason) && text.contains(file),
            "{content:?}: {body}"
        );
        assert!(!body["fix"].as_str().unwrap().is_empty(), "{body}");
    }
    // A directory where the file should be is no file either.
    std::fs::remove_file(&manifest.path).unwrap();
    std::fs::create_dir(&manifest.path).unwrap();
    let body = client.get("GET", "/features").json();
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{body}"
    );
}

#[test]
fn metrics_is_prometheus_text_and_counts_every_route_and_status() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    let response = client.get("GET", "/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let before = response.text().to_owned();
    assert!(before.contains(&format!(
        "domi_nix_status_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    )));
    for name in [
        "domi_nix_status_build_info",
        "domi_nix_status_uptime_seconds",
        "domi_nix_status_requests_total",
    ] {
        assert!(
            before.contains(&format!("# HELP {name} ")),
            "{name}:\n{before}"
        );
        assert!(
            before.contains(&format!("# TYPE {name} ")),
            "{name}:\n{before}"
        );
    }
    assert!(before.contains("# TYPE domi_nix_status_requests_total counter\n"));
    let uptime = before
        .lines()
        .find_map(|l| l.strip_prefix("domi_nix_status_uptime_seconds "))
        .unwrap();
    assert!(uptime.parse::<u64>().is_ok(), "{uptime}");

    // Answers of every kind, the parse errors (answered by hyper) included.
    client.get("GET", "/health");
    client.get("HEAD", "/health");
    client.get("GET", "/features");
    client.get("GET", "/nope");
    client.get("GET", "/another/unknown/path");
    client.get("DELETE", "/features");
    let mut bad = Client::connect(addr);
    bad.send(b"NOT HTTP\r\n\r\n").unwrap();
    assert_eq!(bad.read_response(false).unwrap().status, 400);
    let mut big = Client::connect(addr);
    big.send(
        format!(
            "GET /health HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
            "a".repeat(9000)
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(big.read_response(false).unwrap().status, 431);

    let after = client.get("GET", "/metrics").text().to_owned();
    let increase = |series: &str| metric(&after, series) - metric(&before, series);
    let series = |route: &str, status: u16| {
        format!("domi_nix_status_requests_total{{route=\"{route}\",status=\"{status}\"}}")
    };
    assert_eq!(increase(&series("/health", 200)), 2, "{after}");
    assert_eq!(increase(&series("/features", 200)), 1, "{after}");
    assert_eq!(increase(&series("/metrics", 200)), 1, "{after}");
    assert_eq!(
        increase(&series("other", 404)),
        2,
        "unknown paths share one label:\n{after}"
    );
    assert_eq!(increase(&series("/features", 405)), 1, "{after}");
    assert_eq!(increase(&series("other", 400)), 1, "{after}");
    assert_eq!(increase(&series("other", 431)), 1, "{after}");
    for line in after.lines().filter(|l| l.contains("route=\"")) {
        let route = line.split('"').nth(1).unwrap();
        assert!(
            ["/health", "/features", "/metrics", "other"].contains(&route),
            "a route label outside the closed set: {line}"
        );
    }
}

#[test]
fn head_is_get_without_a_body() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    for path in ["/health", "/features", "/metrics"] {
        let get = client.get("GET", path);
        // The HEAD response must end at its head: the next bytes on this
        // keep-alive connection are the next response.
        let head = client.get("HEAD", path);
        assert_eq!(head.status, 200, "{path}");
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        let length: usize = head.header("content-length").unwrap().parse().unwrap();
        if path == "/features" {
            assert_eq!(length, get.body.len());
        } else {
            // Uptime and counters may have moved on: about the same size.
            assert!(
                length.abs_diff(get.body.len()) < 16,
                "{path}: {length} vs {}",
                get.body.len()
            );
        }
    }
    assert_eq!(client.get("GET", "/health").status, 200);
}

#[test]
fn a_malformed_request_line_is_400() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /health HTTP/9.9\r\nHost: t\r\n\r\n",
        b"GET  /health HTTP/1.1 extra\r\nHost: t\r\n\r\n",
        b"G\x00T /health HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /he\x7fal th HTTP/1.1\r\nHost: t\r\n\r\n",
    ] {
        let mut client = Client::connect(addr);
        client.send(request).unwrap();
        let response = client.read_response(false).unwrap();
        assert_eq!(
            response.status,
            400,
            "{:?}",
            String::from_utf8_lossy(request)
        );
        assert!(
            client.closed_by_server(),
            "a connection that sent garbage is closed"
        );
    }
}

#[test]
fn a_malformed_header_is_400() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    for request in [
        &b"GET /health HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n"[..],
        b"GET /health HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ] {
        let mut client = Client::connect(addr);
        client.send(request).unwrap();
        let response = client.read_response(false).unwrap();
        assert_eq!(
            response.status,
            400,
            "{:?}",
            String::from_utf8_lossy(request)
        );
    }
    // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); HTTP/1.0 does not.
    for request in [
        &b"GET /health HTTP/1.1\r\n\r\n"[..],
        b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ] {
        let mut client = Client::connect(addr);
        client.send(request).unwrap();
        let response = client.read_response(false).unwrap();
        assert_eq!(
            response.status,
            400,
            "{:?}",
            String::from_utf8_lossy(request)
        );
        assert!(response.json()["error"].as_str().unwrap().contains("Host"));
    }
    let mut client = Client::connect(addr);
    client.send(b"GET /health HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(client.read_response(false).unwrap().status, 200);
    assert!(
        client.closed_by_server(),
        "HTTP/1.0 without keep-alive is closed"
    );
}

#[test]
fn an_unknown_path_is_404_with_a_json_body() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    for path in [
        "/",
        "/healthz",
        "/health/",
        "/features.json",
        "/metrics/x",
        "//health",
    ] {
        let response = client.get("GET", path);
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.header("content-type"), Some(JSON));
        assert_eq!(response.json()["error"], "not found");
    }
    // A query does not change the route.
    assert_eq!(client.get("GET", "/health?verbose=1").status, 200);
    // Any method on an unknown path is 404, not 405.
    assert_eq!(client.get("POST", "/nope").status, 404);
}

#[test]
fn other_methods_on_a_route_are_405_with_allow() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    for path in ["/health", "/features", "/metrics"] {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"] {
            let response = client.get(method, path);
            assert_eq!(response.status, 405, "{method} {path}");
            assert_eq!(
                response.header("allow"),
                Some("GET, HEAD"),
                "{method} {path}"
            );
            assert_eq!(response.json()["error"], "method not allowed");
        }
    }
    // With a small body (read with the head) the connection stays usable.
    client
        .send(b"POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap();
    assert_eq!(client.read_response(false).unwrap().status, 405);
    assert_eq!(client.get("GET", "/health").status, 200);
}

#[test]
fn a_request_body_is_not_read_beyond_a_small_limit() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    client
        .send(b"POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n")
        .unwrap();
    client.send(&[b'x'; 4096]).unwrap();
    let response = client.read_response(false).unwrap();
    assert_eq!(response.status, 405);
    // The server stops reading: writing the rest of the announced gigabyte
    // fails (reset, or blocked until the write timeout) long before it is all
    // sent; the kernel's buffers take a few MiB at most.
    client
        .stream()
        .set_write_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0usize;
    while client.send(&chunk).is_ok() {
        sent += chunk.len();
        assert!(
            sent < 64 * 1024 * 1024,
            "the server read {sent} bytes of a body"
        );
    }
    assert_eq!(Client::connect(addr).get("GET", "/health").status, 200);
}

#[test]
fn request_heads_over_8_kib_are_431() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let head = |filler: usize| {
        format!(
            "GET /health HTTP/1.1\r\nHost: t\r\nX-Filler: {}\r\n\r\n",
            "a".repeat(filler)
        )
    };

    let mut client = Client::connect(addr);
    client.send(head(7 * 1024).as_bytes()).unwrap();
    assert_eq!(
        client.read_response(false).unwrap().status,
        200,
        "7 KiB heads are served"
    );

    for request in [
        head(9 * 1024),
        head(64 * 1024),
        // Many small fields: over the count of header fields.
        format!(
            "GET /health HTTP/1.1\r\nHost: t\r\n{}\r\n",
            "a: b\r\n".repeat(200)
        ),
        // A request line alone over the limit.
        format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "p".repeat(10 * 1024)),
    ] {
        let mut client = Client::connect(addr);
        client.send(request.as_bytes()).unwrap();
        let response = client.read_response(false).unwrap();
        assert_eq!(response.status, 431, "{} bytes", request.len());
        assert!(client.closed_by_server());
    }
    // A head that never ends is cut at the limit, not buffered until it
    // ends: 64 KiB without an end of line is answered 431 at once.
    let mut endless = Client::connect(addr);
    endless
        .send(b"GET /health HTTP/1.1\r\nHost: t\r\nX: ")
        .unwrap();
    for _ in 0..64 {
        if endless.send(&[b'a'; 1024]).is_err() {
            break; // closed by the server before all was sent
        }
    }
    assert_eq!(endless.read_response(false).unwrap().status, 431);
    assert!(endless.closed_by_server());
    assert_eq!(Client::connect(addr).get("GET", "/health").status, 200);
}

#[test]
fn a_silent_or_slow_client_is_dropped_after_the_header_timeout() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(status_api::Config {
        header_timeout: Duration::from_secs(1),
        ..config(&manifest.path)
    });
    // Connects and sends nothing.
    let mut silent = Client::connect(addr);
    // Sends part of a head, then stalls.
    let mut partial = Client::connect(addr);
    partial.send(b"GET /health HTTP/1.1\r\nHo").unwrap();
    // Sends a head byte by byte, too slowly to finish in time (slowloris):
    // the server must close it while the bytes still come. Bounded: 8 s of
    // dripping against a 1 s header timeout.
    let mut slow = Client::connect(addr);
    slow.stream()
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut dripped = 0;
    let closed_while_dripping = loop {
        if dripped == 80 {
            break false;
        }
        if slow.send(b"X").is_err() {
            break true;
        }
        dripped += 1;
        let mut byte = [0u8; 1];
        match std::io::Read::read(&mut slow.stream(), &mut byte) {
            Ok(0) => break true,
            Ok(_) => panic!("the slow client got an answer"),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(
        closed_while_dripping,
        "a client sending one byte every 100 ms was kept for {dripped} bytes"
    );
    assert!(silent.closed_by_server(), "silent client kept");
    assert!(partial.closed_by_server(), "partial request kept");

    let metrics = Client::connect(addr)
        .get("GET", "/metrics")
        .text()
        .to_owned();
    assert!(
        metric(&metrics, "domi_nix_status_header_timeouts_total") >= 3,
        "{metrics}"
    );
}

#[test]
fn keep_alive_serves_many_requests_then_the_idle_timeout_closes() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(status_api::Config {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        ..config(&manifest.path)
    });
    let mut client = Client::connect(addr);
    for _ in 0..50 {
        let response = client.get("GET", "/health");
        assert_eq!(response.status, 200);
        assert_ne!(response.header("connection"), Some("close"));
    }
    // Idle for less than the idle timeout (but more than the header timeout,
    // which runs only once a head has started): still open.
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(client.get("GET", "/features").status, 200);
    // Then idle past it: closed.
    assert!(client.closed_by_server());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(config(&manifest.path));
    let mut client = Client::connect(addr);
    client
        .send(
            b"GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n\
              HEAD /features HTTP/1.1\r\nHost: t\r\n\r\nGET /features HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    assert_eq!(client.read_response(false).unwrap().status, 200);
    assert_eq!(client.read_response(false).unwrap().status, 404);
    let head = client.read_response(true).unwrap();
    assert_eq!(head.status, 200);
    let last = client.read_response(false).unwrap();
    assert_eq!(last.text(), MANIFEST);
    assert_eq!(last.header("connection"), Some("close"));
    assert!(client.closed_by_server());
}

#[test]
fn garbage_never_takes_the_server_down() {
    let manifest = Manifest::new(MANIFEST);
    let (_server, addr) = in_process(status_api::Config {
        header_timeout: Duration::from_secs(1),
        ..config(&manifest.path)
    });
    // A fixed pseudo-random sequence (xorshift), so a failure reproduces.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let prefixes: [&[u8]; 5] = [
        b"",
        b"GET /health HTTP/1.1\r\n",
        b"GET /health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET /features HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n",
    ];
    for round in 0..60 {
        let mut bytes = prefixes[round % prefixes.len()].to_vec();
        let len = (next() % 600) as usize;
        bytes.extend((0..len).map(|_| next() as u8));
        bytes.extend_from_slice(b"\r\n\r\n");
        let mut client = Client::connect(addr);
        if client.send(&bytes).is_err() {
            continue;
        }
        // An answer (any status) or a close; never a hang: the timeouts
        // bound it, and the read timeout bounds the test.
        match client.read_response(false) {
            Ok(response) => assert!((200..600).contains(&response.status)),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::InvalidData
                ),
                "round {round}: {e}"
            ),
        }
    }
    assert_eq!(Client::connect(addr).get("GET", "/health").status, 200);
}
