//! Running systemd's own scorer, `systemd-analyze security --offline=yes`,
//! on unit files, and reading what it says.
//!
//! Two calls score any number of units: `--json=short` gives every
//! setting it checked (one JSON array per unit, one per line), and the
//! plain table gives the overall exposure and band, which the JSON leaves
//! out. When a call fails, the units are scored one by one, so the unit
//! that systemd could not load is named.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use dominix::Exposure;
use dominix_nix::{NixCommand, NixError};
use serde::{Deserialize, Serialize};

use crate::{AuditError, Band, Unavailable};

/// The program, taken from `PATH`.
const PROGRAM: &str = "systemd-analyze";

/// The first systemd whose `security --offline=yes` scores unit files.
pub const MIN_VERSION: u32 = 250;

/// `systemd-analyze`, known to be recent enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyzer {
    program: String,
    /// systemd's version, e.g. 252.
    pub version: u32,
}

/// One setting systemd checked, as `--json=short` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// systemd's name for it, e.g. `PrivateNetwork=` or `CapabilityBoundingSet=~CAP_SYS_ADMIN`.
    pub name: String,
    pub description: String,
    /// `Some(true)`: the unit passes; `Some(false)`: it does not; `None`:
    /// it does not apply (a root service's `RemoveIPC=`, say).
    pub passed: Option<bool>,
    /// What failing it adds to the unit's exposure, where it fails.
    pub exposure: Option<Exposure>,
}

impl Setting {
    /// Whether the unit fails this setting.
    pub fn fails(&self) -> bool {
        self.passed == Some(false) && self.exposure.is_some_and(|e| e.tenths() > 0)
    }
}

/// A unit's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// The unit, e.g. `sshd.service`.
    pub unit: String,
    pub exposure: Exposure,
    pub band: Band,
    /// Every setting systemd checked, in its order.
    pub settings: Vec<Setting>,
    /// What systemd said about the file while loading it (an unknown key,
    /// say: a directive it ignores).
    pub warnings: Vec<String>,
}

impl Score {
    /// The settings the unit fails, heaviest first.
    pub fn failing(&self) -> Vec<&Setting> {
        let mut failing: Vec<&Setting> = self.settings.iter().filter(|s| s.fails()).collect();
        failing.sort_by(|a, b| b.exposure.cmp(&a.exposure).then(a.name.cmp(&b.name)));
        failing
    }
}

/// The raw shape of one `--json=short` entry.
#[derive(Deserialize)]
struct RawSetting {
    name: String,
    description: String,
    set: Option<bool>,
    exposure: Option<String>,
}

impl Analyzer {
    /// Finds `systemd-analyze` on `PATH` and checks its version: missing or
    /// older than 250 is a reason to skip; one that does not answer with a
    /// version is broken.
    pub fn probe() -> Result<Analyzer, AuditError> {
        Analyzer::probe_program(PROGRAM)
    }

    /// [`Analyzer::probe`] of another program (a path, or a name on `PATH`).
    pub fn probe_program(program: &str) -> Result<Analyzer, AuditError> {
        let output = match NixCommand::tool(program).arg("--version").output() {
            Ok(output) => output,
            Err(NixError::NotFound { .. }) => {
                return Err(AuditError::Unavailable(Unavailable::Missing));
            }
            Err(error) => return Err(AuditError::Broken(error.to_string())),
        };
        let version = parse_version(&output.stdout).ok_or_else(|| {
            AuditError::Broken(format!(
                "`{program} --version` answered {:?}, not a systemd version",
                output.stdout.lines().next().unwrap_or("")
            ))
        })?;
        if version < MIN_VERSION {
            return Err(AuditError::Unavailable(Unavailable::TooOld { version }));
        }
        Ok(Analyzer {
            program: program.to_owned(),
            version,
        })
    }

    /// Scores the unit files `files` (all in `dir`, named `<unit>.service`),
    /// in their order.
    pub fn score(&self, dir: &Utf8Path, files: &[String]) -> Result<Vec<Score>, AuditError> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let paths: Vec<Utf8PathBuf> = files.iter().map(|f| dir.join(f)).collect();
        match self.score_together(&paths) {
            Ok(scores) => Ok(scores),
            // One broken unit fails the whole call: find it.
            Err(error) if paths.len() > 1 => {
                let mut scores = Vec::new();
                for path in &paths {
                    scores.extend(self.score_together(std::slice::from_ref(path))?);
                }
                // Every unit alone succeeded, so the error was the call's own.
                if scores.len() == paths.len() {
                    Ok(scores)
                } else {
                    Err(error)
                }
            }
            Err(error) => Err(error),
        }
    }

    fn score_together(&self, paths: &[Utf8PathBuf]) -> Result<Vec<Score>, AuditError> {
        let unit_of = |path: &Utf8PathBuf| path.file_name().unwrap_or(path.as_str()).to_owned();
        let what = || match paths {
            [one] => one.to_string(),
            many => format!("{} unit files in {}", many.len(), dir_of(&many[0])),
        };
        let call = |json: bool| {
            NixCommand::tool(&self.program)
                .args(["security", "--offline=yes", "--no-pager"])
                .args(json.then_some("--json=short"))
                .args(paths)
                .env("SYSTEMD_COLORS", "0")
                .env("SYSTEMD_LOG_COLOR", "0")
                .run()
                .map_err(|e| AuditError::Broken(e.to_string()))
                .and_then(|(status, output)| {
                    if status.success() {
                        Ok(output)
                    } else {
                        Err(AuditError::Failed {
                            file: what(),
                            message: first_lines(&output.stderr, &output.stdout),
                        })
                    }
                })
        };
        let json = call(true)?;
        let table = call(false)?;
        let garbage = |detail: String| AuditError::Garbage {
            file: what(),
            detail,
        };
        let arrays: Vec<&str> = json
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        if arrays.len() != paths.len() {
            return Err(garbage(format!(
                "`--json=short` printed {} JSON lines for {} units",
                arrays.len(),
                paths.len()
            )));
        }
        let overall = overall_lines(&table.stdout);
        let mut warnings: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in json.stderr.lines().filter(|l| !l.trim().is_empty()) {
            let owner = paths.iter().find(|p| line.starts_with(&format!("{p}:")));
            let key = owner.map_or_else(String::new, unit_of);
            warnings
                .entry(key)
                .or_default()
                .push(line.trim().to_owned());
        }
        let general = warnings.remove("").unwrap_or_default();
        paths
            .iter()
            .zip(arrays)
            .map(|(path, array)| {
                let unit = unit_of(path);
                let raw: Vec<RawSetting> = serde_json::from_str(array)
                    .map_err(|e| garbage(format!("`--json=short` for {unit}: {e}")))?;
                let settings = raw
                    .into_iter()
                    .map(|r| {
                        let exposure = match &r.exposure {
                            None => None,
                            Some(text) => Some(text.parse::<Exposure>().map_err(|_| {
                                garbage(format!(
                                    "{unit}: setting `{}` has exposure {text:?}",
                                    r.name
                                ))
                            })?),
                        };
                        Ok(Setting {
                            name: r.name,
                            description: r.description,
                            passed: r.set,
                            exposure,
                        })
                    })
                    .collect::<Result<Vec<_>, AuditError>>()?;
                let (exposure, band) = *overall.get(&unit).ok_or_else(|| {
                    garbage(format!("no `Overall exposure level for {unit}` line"))
                })?;
                if Band::of(exposure) != band {
                    return Err(garbage(format!(
                        "{unit}: exposure {exposure} is {}, but systemd-analyze printed {band}",
                        Band::of(exposure)
                    )));
                }
                let mut unit_warnings = warnings.remove(&unit).unwrap_or_default();
                unit_warnings.extend(general.iter().cloned());
                Ok(Score {
                    unit,
                    exposure,
                    band,
                    settings,
                    warnings: unit_warnings,
                })
            })
            .collect()
    }
}

/// `systemd 252 (252.38-1~deb12u1)` → 252.
fn parse_version(text: &str) -> Option<u32> {
    let first = text.lines().next()?.trim();
    let rest = first.strip_prefix("systemd ")?;
    let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
    number.parse().ok()
}

/// `→ Overall exposure level for x.service: 9.6 UNSAFE 😨` lines, by unit.
fn overall_lines(table: &str) -> BTreeMap<String, (Exposure, Band)> {
    const MARK: &str = "Overall exposure level for ";
    table
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find(MARK)? + MARK.len()..];
            let (unit, verdict) = rest.rsplit_once(": ")?;
            let mut words = verdict.split_whitespace();
            let exposure = words.next()?.parse::<Exposure>().ok()?;
            let band = words.next()?.parse::<Band>().ok()?;
            Some((unit.to_owned(), (exposure, band)))
        })
        .collect()
}

fn dir_of(path: &Utf8Path) -> &str {
    path.parent().map_or(".", Utf8Path::as_str)
}

/// The first lines of what a failed call said.
fn first_lines(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(8)
        .collect();
    if lines.is_empty() {
        "it printed nothing".to_owned()
    } else {
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_first_line() {
        assert_eq!(
            parse_version("systemd 252 (252.38-1~deb12u1)\n+PAM"),
            Some(252)
        );
        assert_eq!(parse_version("systemd 258.2\n"), Some(258));
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn overall_lines_give_exposure_and_band() {
        let table = "  NAME  DESCRIPTION  EXPOSURE\n✗ UMask=  x  0.1\n\n\
                     → Overall exposure level for a.service: 9.6 UNSAFE 😨\n\
                     → Overall exposure level for b@x.service: 1.1 OK 🙂\n";
        let found = overall_lines(table);
        assert_eq!(found.len(), 2);
        assert_eq!(found["a.service"].0.tenths(), 96);
        assert_eq!(found["a.service"].1, Band::Unsafe);
        assert_eq!(found["b@x.service"].1, Band::Ok);
        assert!(overall_lines("Overall exposure level for x: nine BAD").is_empty());
    }
}
