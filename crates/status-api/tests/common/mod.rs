//! Raw HTTP/1.1 over `std::net::TcpStream` on loopback: every read and write
//! has a timeout, so no test can hang; and the two ways to run the server,
//! in this process ([`in_process`]) or as the real binary ([`Binary`]).
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Every socket read and write gives up after this long.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lowercased; repeated fields joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }
}

/// One client connection.
pub struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::try_connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"))
    }

    pub fn try_connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Client {
            reader: BufReader::new(stream),
        })
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.reader.get_mut().write_all(bytes)
    }

    /// Sends `GET <path>` (or another method) with a Host header.
    pub fn get(&mut self, method: &str, path: &str) -> Response {
        self.send(format!("{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
            .unwrap();
        self.read_response(method == "HEAD").unwrap()
    }

    /// Reads one response; `head` says it answers a HEAD request (no body,
    /// whatever Content-Length says).
    pub fn read_response(&mut self, head: bool) -> io::Result<Response> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before a response",
            ));
        }
        let status = line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| line.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("status line {line:?}"))
            })?;
        let mut headers = BTreeMap::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let field = line.trim_end_matches(['\r', '\n']);
            if field.is_empty() {
                break;
            }
            let (name, value) = field.split_once(':').ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("header {field:?}"))
            })?;
            headers
                .entry(name.trim().to_ascii_lowercase())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(value.trim());
                })
                .or_insert_with(|| value.trim().to_owned());
        }
        let length: usize = headers
            .get("content-length")
            .map_or(Ok(0), |v| v.parse())
            .map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("content-length: {e}"))
            })?;
        let mut body = vec![0; if head { 0 } else { length }];
        self.reader.read_exact(&mut body)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Whether the server closed the connection: the next read sees the end
    /// (or a reset) before [`IO_TIMEOUT`], with no byte in between.
    pub fn closed_by_server(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => panic!("expected the connection to close, got data"),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => true,
            Err(e) => panic!("expected the connection to close, got {e}"),
        }
    }
}

/// The value of `name{labels}` in a metrics text, 0 if the series is absent.
pub fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |v| v.parse().unwrap())
}

/// A manifest file in a temporary directory.
pub struct Manifest {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub const MANIFEST: &str = "{\"version\":1,\"features\":{\"ui\":{\"category\":\"ui\"}}}\n";

impl Manifest {
    pub fn new(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features.json");
        std::fs::write(&path, text).unwrap();
        Manifest { dir, path }
    }
}

/// The default configuration on 127.0.0.1:0 with `manifest`.
pub fn config(manifest: &Path) -> status_api::Config {
    status_api::Config {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
        manifest: manifest.to_owned(),
        ..status_api::Config::default()
    }
}

/// A server in this process; stopped when dropped.
pub fn in_process(config: status_api::Config) -> (status_api::Running, SocketAddr) {
    let running = status_api::spawn(config).unwrap();
    let addr = running.addrs()[0];
    (running, addr)
}

/// The real binary, started with `args`; killed when dropped.
pub struct Binary {
    pub child: Child,
    pub addrs: Vec<SocketAddr>,
    /// stderr lines after the "listening" ones.
    pub stderr: mpsc::Receiver<String>,
}

pub const BIN: &str = env!("CARGO_BIN_EXE_domi-nix-status");

impl Binary {
    /// Starts the binary and waits (bounded) for its "listening on" line for
    /// each `--listen`.
    pub fn start(args: &[&str]) -> Binary {
        Binary::start_with_env(args, &[])
    }

    /// [`Binary::start`] with environment variables set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Binary {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("TOKIO_WORKER_THREADS")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let listens = args.iter().filter(|a| **a == "--listen").count().max(1);
        let mut addrs = Vec::new();
        while addrs.len() < listens {
            let line = rx
                .recv_timeout(IO_TIMEOUT)
                .unwrap_or_else(|e| panic!("{BIN} {args:?} printed no listening line: {e}"));
            let addr = line
                .split_once("listening on http://")
                .unwrap_or_else(|| panic!("unexpected line from {BIN}: {line}"))
                .1;
            addrs.push(addr.parse().unwrap());
        }
        Binary {
            child,
            addrs,
            stderr: rx,
        }
    }

    /// The server's resident memory, in KiB (`VmRSS` of /proc/<pid>/status).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    }

    /// The server's thread count (`Threads` of /proc/<pid>/status).
    pub fn threads(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))?
            .trim()
            .parse()
            .ok()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The stderr lines printed so far (waiting at most `wait` for the first).
    pub fn stderr_lines(&self, wait: Duration) -> Vec<String> {
        let mut lines: Vec<String> = self.stderr.recv_timeout(wait).into_iter().collect();
        lines.extend(self.stderr.try_iter());
        lines
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
