//! The security audit of domi-nix: systemd services scored by systemd's own
//! analyzer before they are deployed.
//!
//! - [`unit`] renders a unit file from a module-evaluated
//!   `systemd.services.<name>` the way nixpkgs renders it
//!   (`nixos/lib/systemd-lib.nix`), refusing what a unit file cannot hold;
//! - [`analyze`] runs `systemd-analyze security --offline=yes` on unit files
//!   and reads every setting it checked, the exposure and the band;
//! - [`fixes`] knows, for the settings systemd checks, the directive that
//!   passes them, and finds the fewest that bring a unit under a ceiling;
//! - [`sandbox`] checks a sandboxed unit against the settings the
//!   `sandboxing` branch's profile promises.
//!
//! Only `analyze` and `fixes` run a program (through `dominix-nix`, bounded
//! in time like every call).

pub mod analyze;
pub mod fixes;
pub mod sandbox;
pub mod unit;

use std::fmt;
use std::str::FromStr;

pub use analyze::{Analyzer, Score, Setting};
pub use dominix::Exposure;
pub use unit::{RenderError, UnitFile};

/// systemd's verdict bands (`systemd-analyze security`): PERFECT 0,
/// SAFE below 1, OK below 5, MEDIUM below 7.5, EXPOSED below 9, UNSAFE
/// below 10, DANGEROUS 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Band {
    Perfect,
    Safe,
    Ok,
    Medium,
    Exposed,
    Unsafe,
    Dangerous,
}

impl Band {
    const ALL: [(Band, &'static str, u8); 7] = [
        (Band::Perfect, "PERFECT", 0),
        (Band::Safe, "SAFE", 1),
        (Band::Ok, "OK", 10),
        (Band::Medium, "MEDIUM", 50),
        (Band::Exposed, "EXPOSED", 75),
        (Band::Unsafe, "UNSAFE", 90),
        (Band::Dangerous, "DANGEROUS", 100),
    ];

    /// The band systemd gives `exposure`.
    pub fn of(exposure: Exposure) -> Band {
        let tenths = exposure.tenths();
        Band::ALL
            .iter()
            .rev()
            .find(|(_, _, from)| tenths >= *from)
            .map_or(Band::Perfect, |(band, _, _)| *band)
    }

    pub fn as_str(self) -> &'static str {
        Band::ALL
            .iter()
            .find(|(band, _, _)| *band == self)
            .map_or("?", |(_, name, _)| name)
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Band {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Band::ALL
            .iter()
            .find(|(_, name, _)| *name == s)
            .map(|(band, _, _)| *band)
            .ok_or_else(|| format!("unknown band `{s}`"))
    }
}

/// Why the audit cannot run on this machine: a reason to skip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error(
        "`systemd-analyze` is not on PATH — install systemd ≥ {min} (Debian/Ubuntu: `apt-get install systemd`); on macOS run the audit in a Linux VM or CI",
        min = analyze::MIN_VERSION
    )]
    Missing,
    #[error(
        "`systemd-analyze` is systemd {version}, older than {min}, which cannot score unit files offline — use systemd ≥ {min}",
        min = analyze::MIN_VERSION
    )]
    TooOld { version: u32 },
}

impl Unavailable {
    /// The line every tier prints when it cannot run.
    pub fn skip_line(&self) -> String {
        format!("SKIP audit: {self}")
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    #[error("{0}")]
    Unavailable(Unavailable),
    /// The analyzer is there but does not answer as systemd does.
    #[error(
        "systemd-analyze does not answer: {0}. Fix: repair the systemd installation (`systemd-analyze --version` must print its version), or take the broken `systemd-analyze` off PATH"
    )]
    Broken(String),
    /// systemd could not load a unit file.
    #[error(
        "systemd-analyze could not score {file}:\n{message}\nFix: the rendered unit is in that file; correct the `systemd.services` definition it was rendered from"
    )]
    Failed { file: String, message: String },
    /// The analyzer printed something that is not its usual report.
    #[error(
        "systemd-analyze printed something unexpected for {file}: {detail}. Fix: check that `systemd-analyze` on PATH is systemd's own (`systemd-analyze --version`)"
    )]
    Garbage { file: String, detail: String },
    #[error(
        "cannot write {path}: {error}. Fix: make the directory writable, or choose another `--units-dir`"
    )]
    Write { path: String, error: String },
    #[error(transparent)]
    Render(#[from] RenderError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_systemds_thresholds() {
        let band = |tenths| Band::of(Exposure::from_tenths(tenths).expect("in range"));
        for (tenths, expected) in [
            (0, Band::Perfect),
            (1, Band::Safe),
            (9, Band::Safe),
            (10, Band::Ok),
            (49, Band::Ok),
            (50, Band::Medium),
            (74, Band::Medium),
            (75, Band::Exposed),
            (89, Band::Exposed),
            (90, Band::Unsafe),
            (99, Band::Unsafe),
            (100, Band::Dangerous),
        ] {
            assert_eq!(band(tenths), expected, "{tenths} tenths");
        }
        for (b, name, _) in Band::ALL {
            assert_eq!(name.parse::<Band>(), Ok(b));
            assert_eq!(b.to_string(), name);
        }
        assert!("ok".parse::<Band>().is_err());
    }
}
