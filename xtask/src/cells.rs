//! The matrix's cells: one feature (or check) × system × level, and the
//! state each ends in. `matrix.rs` plans them, `levels.rs` runs the static
//! and module-evaluation levels, `runner.rs` the levels that need a
//! derivation, `report.rs` writes them out.

use std::collections::BTreeMap;

use serde::Serialize;

/// What a cell proves, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The branch resolves alone on the system; its Nix files parse, are
    /// formatted, deadnix-clean and pure (the static tiers of `check`).
    Static,
    /// Its NixOS module evaluates on the trunk against the NixOS contract
    /// (system, VM and VM-test nodes), offline.
    ModuleEval,
    /// The full NixOS system of the branch alone evaluates (its derivation).
    SystemEval,
    /// That system builds.
    Build,
    /// Its NixOS VM test (`checks.<system>.<feature>`) builds and passes.
    VmTest,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Static,
        Level::ModuleEval,
        Level::SystemEval,
        Level::Build,
        Level::VmTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Static => "static",
            Level::ModuleEval => "module-eval",
            Level::SystemEval => "system-eval",
            Level::Build => "build",
            Level::VmTest => "vm-test",
        }
    }

    /// Whether the level needs the cell's derivation (full nixpkgs).
    pub fn needs_derivation(self) -> bool {
        matches!(self, Level::SystemEval | Level::Build | Level::VmTest)
    }

    /// Whether the level builds the derivation (not only evaluates it).
    pub fn builds(self) -> bool {
        matches!(self, Level::Build | Level::VmTest)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not run yet (never in a finished report; an interrupted run turns
    /// it into `Interrupted`).
    Pending,
    Passed,
    /// Its outputs were already valid, locally or in a binary cache: not rebuilt.
    Cached,
    Failed,
    /// Stopped for taking longer than `--cell-timeout`.
    TimedOut,
    /// This machine cannot run it (the message says why and what would).
    Skipped,
    /// `--dry-run`: planned, not run.
    Listed,
    /// The run was interrupted before the cell finished.
    Interrupted,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Passed,
        Status::Cached,
        Status::Failed,
        Status::TimedOut,
        Status::Skipped,
        Status::Listed,
        Status::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Passed => "passed",
            Status::Cached => "cached",
            Status::Failed => "failed",
            Status::TimedOut => "timed-out",
            Status::Skipped => "skipped",
            Status::Listed => "listed",
            Status::Interrupted => "interrupted",
        }
    }

    /// Whether the run fails because of it.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Failed | Status::TimedOut | Status::Interrupted
        )
    }
}

/// One cell and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub feature: String,
    pub system: String,
    pub level: Level,
    pub status: Status,
    pub seconds: f64,
    /// Why it failed or was skipped (with the fix), or a note.
    pub message: String,
    /// The flake attribute a derivation level builds, when it is one
    /// (`checks.<system>.<feature>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attr: Option<String>,
    /// The Nix expression (in terms of `flake`, the flake under test) whose
    /// derivation a derivation level evaluates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drv: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// Where its outputs already were: `local`, or a substituter's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<String>,
    /// The last lines of the failed build's log.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// The command that prints the whole log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_command: Option<String>,
}

impl Cell {
    pub fn new(feature: &str, system: &str, level: Level) -> Cell {
        Cell {
            feature: feature.to_owned(),
            system: system.to_owned(),
            level,
            status: Status::Pending,
            seconds: 0.0,
            message: String::new(),
            attr: None,
            expr: None,
            drv: None,
            outputs: BTreeMap::new(),
            cached: None,
            log: Vec::new(),
            log_command: None,
        }
    }

    /// `level/system/feature`: unique in a run, and a valid Nix attribute name once quoted.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.level, self.system, self.feature)
    }

    /// Ends the cell as `status` with `message`.
    pub fn end(&mut self, status: Status, message: impl Into<String>) {
        self.status = status;
        self.message = message.into();
    }

    pub fn is_pending(&self) -> bool {
        self.status == Status::Pending
    }
}

/// How many cells ended in each state.
pub fn counts(cells: &[Cell]) -> BTreeMap<&'static str, usize> {
    Status::ALL
        .iter()
        .map(|s| (s.as_str(), cells.iter().filter(|c| c.status == *s).count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        let cell = Cell::new("ui", "x86_64-linux", Level::VmTest);
        assert_eq!(cell.id(), "vm-test/x86_64-linux/ui");
        assert!(cell.is_pending());
        assert_eq!(
            serde_json::to_value(Status::TimedOut).ok(),
            Some("timed-out".into())
        );
        assert_eq!(
            serde_json::to_value(Level::ModuleEval).ok(),
            Some("module-eval".into())
        );
        assert!(Status::Interrupted.is_failure() && !Status::Cached.is_failure());
        assert!(Level::VmTest.builds() && !Level::SystemEval.builds());
        assert!(Level::SystemEval.needs_derivation() && !Level::ModuleEval.needs_derivation());
    }
}
