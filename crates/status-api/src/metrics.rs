//! The counters behind `/metrics`, and their Prometheus text exposition.
//!
//! Label values come from two closed sets ([`Route`], [`Status`]), so the
//! number of series is bounded whatever clients send.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::VERSION;

/// The `route` label: a known path, or `other` for every other one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    Features,
    Metrics,
    Other,
}

impl Route {
    const ALL: [Route; 4] = [Route::Health, Route::Features, Route::Metrics, Route::Other];

    pub(crate) fn of_path(path: &str) -> Route {
        match path {
            "/health" => Route::Health,
            "/features" => Route::Features,
            "/metrics" => Route::Metrics,
            _ => Route::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::Features => "/features",
            Route::Metrics => "/metrics",
            Route::Other => "other",
        }
    }
}

/// The `status` label: every status the service answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    HeadersTooLarge,
    Unavailable,
}

impl Status {
    const ALL: [Status; 6] = [
        Status::Ok,
        Status::BadRequest,
        Status::NotFound,
        Status::MethodNotAllowed,
        Status::HeadersTooLarge,
        Status::Unavailable,
    ];

    pub(crate) fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::HeadersTooLarge => 431,
            Status::Unavailable => 503,
        }
    }
}

/// The service's counters; every field only ever grows, but `open`.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: [[AtomicU64; Status::ALL.len()]; Route::ALL.len()],
    /// Connections being served now.
    pub(crate) open: AtomicU64,
    /// Connections answered 503 and closed because `--max-connections` were open.
    pub(crate) refused: AtomicU64,
    /// Connections closed because a request head did not arrive in time.
    pub(crate) header_timeouts: AtomicU64,
}

impl Metrics {
    pub(crate) fn count(&self, route: Route, status: Status) {
        self.requests[route as usize][status as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format (version 0.0.4). Every route's 200 series
    /// is always there (at 0 before the first request); other series appear
    /// once counted.
    pub(crate) fn render(&self, uptime_seconds: u64) -> String {
        let mut out = String::with_capacity(2048);
        let gauge = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        };
        let counter = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        gauge(
            &mut out,
            "domi_nix_status_build_info",
            "The version of domi-nix-status serving; always 1.",
        );
        let _ = writeln!(out, "domi_nix_status_build_info{{version=\"{VERSION}\"}} 1");
        gauge(
            &mut out,
            "domi_nix_status_uptime_seconds",
            "Seconds since domi-nix-status started.",
        );
        let _ = writeln!(out, "domi_nix_status_uptime_seconds {uptime_seconds}");
        counter(
            &mut out,
            "domi_nix_status_requests_total",
            "HTTP requests answered, by route (`other` for unknown paths and unparsable requests) and status.",
        );
        for route in Route::ALL {
            for status in Status::ALL {
                let n = self.requests[route as usize][status as usize].load(Ordering::Relaxed);
                if n > 0 || (status == Status::Ok && route != Route::Other) {
                    let _ = writeln!(
                        out,
                        "domi_nix_status_requests_total{{route=\"{}\",status=\"{}\"}} {n}",
                        route.label(),
                        status.code()
                    );
                }
            }
        }
        gauge(
            &mut out,
            "domi_nix_status_connections_open",
            "HTTP connections being served now.",
        );
        let _ = writeln!(
            out,
            "domi_nix_status_connections_open {}",
            self.open.load(Ordering::Relaxed)
        );
        counter(
            &mut out,
            "domi_nix_status_connections_refused_total",
            "Connections answered 503 and closed because --max-connections were open.",
        );
        let _ = writeln!(
            out,
            "domi_nix_status_connections_refused_total {}",
            self.refused.load(Ordering::Relaxed)
        );
        counter(
            &mut out,
            "domi_nix_status_header_timeouts_total",
            "Connections closed because no complete request head arrived within --header-timeout.",
        );
        let _ = writeln!(
            out,
            "domi_nix_status_header_timeouts_total {}",
            self.header_timeouts.load(Ordering::Relaxed)
        );
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_series_has_its_help_and_type_and_labels_are_bounded() {
        let metrics = Metrics::default();
        metrics.count(Route::Other, Status::NotFound);
        metrics.count(Route::Health, Status::Ok);
        metrics.count(Route::Health, Status::Ok);
        let text = metrics.render(7);
        assert!(
            text.contains("domi_nix_status_requests_total{route=\"/health\",status=\"200\"} 2\n")
        );
        assert!(
            text.contains("domi_nix_status_requests_total{route=\"/features\",status=\"200\"} 0\n")
        );
        assert!(
            text.contains("domi_nix_status_requests_total{route=\"other\",status=\"404\"} 1\n")
        );
        assert!(!text.contains("status=\"405\""), "{text}");
        assert!(text.contains("domi_nix_status_uptime_seconds 7\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} has no TYPE"
            );
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} has no HELP"
            );
        }
    }
}
