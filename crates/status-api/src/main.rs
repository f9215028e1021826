//! `domi-nix-status`: the command line of the status service (src/lib.rs).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// domi-nix-status: health, attached features and Prometheus metrics over HTTP.
///
/// Routes: GET/HEAD /health, /features (the manifest file), /metrics.
/// Exit codes: 0 ok, 1 failure (e.g. an address cannot be bound), 2 usage.
#[derive(Debug, Parser)]
#[command(name = "domi-nix-status", version)]
struct Cli {
    /// Address to listen on, e.g. 127.0.0.1:9180 or [::1]:9180; repeat for several.
    #[arg(
        long,
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:9180",
        value_parser = parse_addr
    )]
    listen: Vec<SocketAddr>,

    /// The feature manifest served at /features (read at every request).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/etc/domi-nix/features.json"
    )]
    manifest: PathBuf,

    /// Connections served at once; more are answered 503 and closed.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 512,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    max_connections: u32,

    /// Seconds a client has to send a complete request head.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    header_timeout: u64,

    /// Seconds a keep-alive connection may stay idle between requests.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86400)
    )]
    idle_timeout: u64,
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!(
            "`{text}` is not ADDR:PORT. Fix: give an IP address and a port, e.g. 127.0.0.1:9180 or [::1]:9180 (no host names)"
        )
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = status_api::Config {
        listen: cli.listen,
        manifest: cli.manifest,
        max_connections: usize::try_from(cli.max_connections).unwrap_or(usize::MAX),
        header_timeout: Duration::from_secs(cli.header_timeout),
        idle_timeout: Duration::from_secs(cli.idle_timeout),
    };
    raise_open_file_limit(config.max_connections);
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error}");
            match error {
                // What was asked for cannot be: a usage error.
                status_api::Error::Config { .. } | status_api::Error::Threads(_) => {
                    ExitCode::from(2)
                }
                status_api::Error::Bind { .. } | status_api::Error::Runtime(_) => ExitCode::FAILURE,
            }
        }
    }
}

fn run(config: status_api::Config) -> Result<(), status_api::Error> {
    let runtime = status_api::runtime()?;
    runtime.block_on(async {
        let server = status_api::Server::bind(config)?;
        for addr in server.local_addrs() {
            status_api::log_line(format_args!(
                "version {}, listening on http://{addr}",
                status_api::VERSION
            ));
        }
        server.serve().await;
        Ok(())
    })
}

/// Every connection is an open file: raises the soft limit to the hard one
/// (as Go and nginx do), and says so when even that is too low.
fn raise_open_file_limit(max_connections: usize) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    let needed = max_connections as u64 + 64;
    if let Some(current) = limit.current
        && current < needed
    {
        status_api::log_line(format_args!(
            "warning: the open-file limit ({current}) is below --max-connections + 64 ({needed}); connections beyond it fail to be accepted. Fix: raise the limit (systemd: LimitNOFILE=) or lower --max-connections"
        ));
    }
}
