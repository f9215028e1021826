//! The matrix's reports: the table on stdout, JUnit XML, and GitHub's
//! annotations, folded logs and step summary. (The JSON report is the cells
//! themselves, serialised by `matrix.rs` with the plan around them.)

use std::collections::BTreeMap;
use std::fmt::Write as _;

use camino::Utf8PathBuf;

use crate::cells::{Cell, Status};
use crate::{Result, fsx};

/// One line per cell: level, system, feature, status, seconds, and why.
pub fn table(cells: &[Cell]) -> String {
    let mut out = String::new();
    for c in cells {
        let note = match (&c.cached, c.status) {
            (Some(place), Status::Cached) => format!("({place})"),
            _ => c.message.lines().next().unwrap_or_default().to_owned(),
        };
        let note = if note.chars().count() > 100 {
            format!("{}…", note.chars().take(99).collect::<String>())
        } else {
            note
        };
        let _ = writeln!(
            out,
            "{:<12} {:<14} {:<16} {:<11} {:>7.1}s  {note}",
            c.level.as_str(),
            c.system,
            c.feature,
            c.status.as_str(),
            c.seconds,
        );
    }
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters (Nix colours).
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML as the common schema (Ant's, which Jenkins and GitHub
/// reporters read) has it: `<testsuites>` of one `<testsuite>` per level
/// and system, one `<testcase>` per cell (`classname` `<level>.<system>`,
/// `name` the feature). Failed and timed-out cells are `<failure>` (with
/// their last log lines), interrupted ones `<error>`, skipped and listed
/// ones `<skipped>`; a cached cell passes, saying where it was found.
pub fn junit(cells: &[Cell]) -> String {
    let count =
        |cells: &[&Cell], f: fn(Status) -> bool| cells.iter().filter(|c| f(c.status)).count();
    let failure = |s: Status| matches!(s, Status::Failed | Status::TimedOut);
    let error = |s: Status| s == Status::Interrupted;
    let skipped = |s: Status| matches!(s, Status::Skipped | Status::Listed);
    let mut suites: BTreeMap<(crate::cells::Level, &str), Vec<&Cell>> = BTreeMap::new();
    for cell in cells {
        suites
            .entry((cell.level, cell.system.as_str()))
            .or_default()
            .push(cell);
    }
    let all: Vec<&Cell> = cells.iter().collect();
    let time = |cells: &[&Cell]| cells.iter().map(|c| c.seconds).sum::<f64>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"domi-nix matrix\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        all.len(),
        count(&all, failure),
        count(&all, error),
        count(&all, skipped),
        time(&all),
    );
    for ((level, system), cells) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{level} {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            xml_escape(system),
            cells.len(),
            count(cells, failure),
            count(cells, error),
            count(cells, skipped),
            time(cells),
        );
        for cell in cells {
            let _ = write!(
                out,
                "    <testcase classname=\"{level}.{}\" name=\"{}\" time=\"{:.3}\">",
                xml_escape(system),
                xml_escape(&cell.feature),
                cell.seconds
            );
            let message = xml_escape(&cell.message);
            let body = || {
                let mut body = cell.log.join("\n");
                if let Some(command) = &cell.log_command {
                    let _ = write!(body, "\nWhole log: {command}");
                }
                xml_escape(body.trim())
            };
            match cell.status {
                Status::Failed | Status::TimedOut => {
                    let kind = cell.status.as_str();
                    let _ = write!(
                        out,
                        "<failure message=\"{message}\" type=\"{kind}\">{}</failure>",
                        body()
                    );
                }
                Status::Interrupted => {
                    let _ = write!(out, "<error message=\"{message}\" type=\"interrupted\"/>");
                }
                Status::Skipped => {
                    let _ = write!(out, "<skipped message=\"{message}\"/>");
                }
                Status::Listed => out.push_str("<skipped message=\"dry run\"/>"),
                Status::Cached => {
                    let place = cell.cached.as_deref().unwrap_or("local");
                    let _ = write!(
                        out,
                        "<system-out>cached ({}): not rebuilt</system-out>",
                        xml_escape(place)
                    );
                }
                Status::Passed | Status::Pending => {}
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A workflow command's value: `%`, CR and LF encoded as GitHub documents.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub: an `::error` annotation per failed cell (its log folded in a
/// `::group::` below), a `::warning` per skipped one, and the table and
/// counts appended to the step summary file (`GITHUB_STEP_SUMMARY`).
pub fn github(cells: &[Cell], summary_line: &str, summary: Option<Utf8PathBuf>) -> Result<String> {
    let mut out = String::new();
    for cell in cells.iter().filter(|c| c.status.is_failure()) {
        let _ = writeln!(
            out,
            "::error title=matrix {} {}::{}",
            cell.id(),
            cell.status.as_str(),
            escape_data(&cell.message)
        );
        if !cell.log.is_empty() {
            let _ = writeln!(
                out,
                "::group::{}: last {} log lines",
                cell.id(),
                cell.log.len()
            );
            for line in &cell.log {
                // A line of the log must not be read as a workflow command.
                let line = if line.starts_with("::") {
                    format!(" {line}")
                } else {
                    line.clone()
                };
                let _ = writeln!(out, "{line}");
            }
            if let Some(command) = &cell.log_command {
                let _ = writeln!(out, "whole log: {command}");
            }
            out.push_str("::endgroup::\n");
        }
    }
    for cell in cells.iter().filter(|c| c.status == Status::Skipped) {
        let _ = writeln!(
            out,
            "::warning title=matrix {} skipped::{}",
            cell.id(),
            escape_data(&cell.message)
        );
    }
    if let Some(path) = summary {
        let mut table = format!(
            "### domi-nix matrix\n\n{summary_line}\n\n| level | system | feature | status | seconds | note |\n| --- | --- | --- | --- | --- | --- |\n"
        );
        for c in cells {
            let note = match c.status {
                Status::Cached => c.cached.clone().unwrap_or_default(),
                _ => c
                    .message
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .replace('|', "\\|"),
            };
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {:.1} | {note} |",
                c.level,
                c.system,
                c.feature,
                c.status.as_str(),
                c.seconds
            );
        }
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        fsx::write_atomic(&path, &format!("{existing}{table}\n"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::Level;

    fn cell(feature: &str, status: Status, message: &str) -> Cell {
        let mut cell = Cell::new(feature, "x86_64-linux", Level::Build);
        cell.end(status, message);
        cell.seconds = 1.5;
        cell
    }

    #[test]
    fn junit_escapes_counts_and_groups_by_level_and_system() {
        let mut failed = cell("h", Status::Failed, "<boom> & \"x\"\u{1b}[0m");
        failed.log = vec!["line <1>".into()];
        failed.log_command = Some("nix log /nix/store/x.drv".into());
        let cells = vec![
            cell("ui", Status::Passed, ""),
            failed,
            cell("t", Status::TimedOut, "slow"),
            cell("s", Status::Skipped, "no kvm"),
            Cell::new("m", "aarch64-linux", Level::VmTest),
        ];
        let xml = junit(&cells);
        assert!(
            xml.contains("<testsuites name=\"domi-nix matrix\" tests=\"5\" failures=\"2\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("&lt;boom&gt; &amp; &quot;x&quot;[0m"), "{xml}");
        assert!(!xml.contains('\u{1b}'), "{xml}");
        assert!(xml.contains("type=\"timed-out\""), "{xml}");
        assert!(xml.contains("line &lt;1&gt;\nWhole log: nix log"), "{xml}");
        assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    }

    #[test]
    fn github_folds_logs_and_escapes_commands() {
        let mut failed = cell("h", Status::Failed, "50% done\nthen broke");
        failed.log = vec!["::error::not a command".into(), "ok".into()];
        let dir = tempfile::tempdir().expect("tempdir");
        let summary = Utf8PathBuf::from_path_buf(dir.path().join("summary.md")).expect("UTF-8");
        let cells = [failed, cell("s", Status::Skipped, "no kvm")];
        let out = github(&cells, "1 failed", Some(summary.clone())).expect("written");
        let written = std::fs::read_to_string(&summary).expect("a summary");
        assert!(written.contains("1 failed\n"), "{written}");
        assert!(
            written.contains("| build | x86_64-linux | s | skipped | 1.5 | no kvm |"),
            "{written}"
        );
        assert!(
            out.contains(
                "::error title=matrix build/x86_64-linux/h failed::50%25 done%0Athen broke\n"
            ),
            "{out}"
        );
        assert!(out.contains("::group::build/x86_64-linux/h: last 2 log lines\n ::error::not a command\nok\n::endgroup::\n"), "{out}");
        assert!(
            out.contains("::warning title=matrix build/x86_64-linux/s skipped::no kvm"),
            "{out}"
        );
    }
}
