//! Progress of a long Nix call (build, vm, test, matrix), read from its
//! `--log-format internal-json -v` stderr by `dominix-nixlog`.
//!
//! On a terminal: a live indicatif bar (builds done of expected, running,
//! failed, downloads, the current derivation and its last log line). In CI
//! (`CI=true`) or when stderr is not a terminal: one line every few seconds
//! when something changed, and a heartbeat line when nothing did, so a
//! 40-minute VM test never looks hung. Errors, warnings and lines that are
//! not events are printed as they come, in both modes.
//!
//! `DOMINIX_PROGRESS=live|lines|off` chooses the mode;
//! `DOMINIX_PROGRESS_EVERY=SECONDS` the interval of lines (default 5; 0
//! prints every change); `DOMINIX_PROGRESS_HEARTBEAT=SECONDS` the silence
//! after which a heartbeat line is printed (default 30).

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use dominix_nix::{NixCommand, NixError, Stream};
use dominix_nixlog::{Notice, State, name_of, parse_line};
use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Lines {
        every: Duration,
        heartbeat: Duration,
    },
    Off,
}

impl Mode {
    /// From `DOMINIX_PROGRESS`, `CI` and whether stderr is a terminal.
    pub fn detect() -> Mode {
        let every = std::env::var("DOMINIX_PROGRESS_EVERY")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(Duration::from_secs(5), Duration::from_secs);
        let heartbeat = std::env::var("DOMINIX_PROGRESS_HEARTBEAT")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(Duration::from_secs(30), Duration::from_secs);
        let lines = Mode::Lines { every, heartbeat };
        match std::env::var("DOMINIX_PROGRESS").as_deref() {
            Ok("off") => return Mode::Off,
            Ok("lines") => return lines,
            Ok("live") => return Mode::Live,
            _ => {}
        }
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        if ci || !std::io::stderr().is_terminal() {
            lines
        } else {
            Mode::Live
        }
    }
}

/// A finished (or stopped) call: how it ended, what it printed on stdout,
/// and everything its events said.
pub struct Finished {
    pub result: Result<ExitStatus, NixError>,
    pub stdout: String,
    pub state: State,
    /// How long it ran.
    pub elapsed: Duration,
}

/// One line summing up `state`.
pub fn summary(state: &State, elapsed: Duration) -> String {
    let b = state.builds();
    let mut parts = vec![format!("{}/{} built", b.done, b.expected)];
    if b.running > 0 {
        parts.push(format!("{} running", b.running));
    }
    if b.failed > 0 {
        parts.push(format!("{} failed", b.failed));
    }
    let d = state.downloads();
    if d.expected > 0 {
        parts.push(format!("{}/{} downloaded", d.done, d.expected));
    }
    let mut line = parts.join(", ");
    if let Some((build, last)) = state.current() {
        let at = if build.machine.is_empty() {
            String::new()
        } else {
            format!(" on {}", build.machine)
        };
        line.push_str(&format!("; {}{at}", build.name()));
        if let Some(last) = last {
            let last: String = last.chars().take(80).collect();
            line.push_str(&format!(": {last}"));
        }
    }
    format!("{line} [{}]", clock(elapsed))
}

/// `1m05s`, `12s`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Runs `command` (which must ask for `--log-format internal-json`),
/// showing its progress under `label`.
pub fn run(command: &NixCommand, label: &str) -> Finished {
    run_in(command, label, Mode::detect())
}

pub fn run_in(command: &NixCommand, label: &str, mode: Mode) -> Finished {
    let started = Instant::now();
    let mut state = State::default();
    let bar = (mode == Mode::Live).then(|| {
        let bar = ProgressBar::new(0).with_prefix(label.to_owned());
        let style = ProgressStyle::with_template(
            "{spinner} {prefix} [{elapsed_precise}] {bar:20} {pos}/{len} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let say = |line: &str| match &bar {
        // A hidden bar (stderr is no terminal) would swallow the line.
        Some(bar) if !bar.is_hidden() => bar.println(line),
        _ => eprintln!("{line}"),
    };
    let (mut last_print, mut last_line, mut changed) = (Instant::now(), String::new(), false);
    let mut started_names: BTreeSet<String> = BTreeSet::new();
    // Nix 2.8 repeats its last error at the end: each message once.
    let mut said: BTreeSet<String> = BTreeSet::new();
    let result = command.run_streaming(|event| {
        let now = started.elapsed();
        if let Stream::Line(line) = event {
            match state.apply(&parse_line(line), now) {
                Notice::Quiet => {}
                Notice::Started { drv } => {
                    started_names.insert(name_of(&drv).to_owned());
                }
                Notice::Stopped { .. } => {}
                Notice::Error(text) | Notice::Warning(text) => {
                    if said.insert(text.clone()) {
                        say(&text);
                    }
                }
                Notice::Text(text) if text.trim().is_empty() => {}
                Notice::Text(text) => say(&text),
            }
            changed = true;
        }
        match (&bar, mode) {
            (Some(bar), _) => {
                let b = state.builds();
                bar.set_length(b.expected.max(b.done));
                bar.set_position(b.done);
                bar.set_message(summary(&state, now));
            }
            (None, Mode::Lines { every, heartbeat }) => {
                let quiet_for = last_print.elapsed();
                if changed && quiet_for >= every {
                    let mut line = summary(&state, now);
                    if !started_names.is_empty() {
                        let names: Vec<&str> = started_names.iter().map(String::as_str).collect();
                        line.push_str(&format!(" (started {})", names.join(", ")));
                        started_names.clear();
                    }
                    if line != last_line {
                        eprintln!("{label}: {line}");
                        last_line = line;
                    }
                    last_print = Instant::now();
                    changed = false;
                } else if quiet_for >= heartbeat {
                    eprintln!("{label}: still running, {}", summary(&state, now));
                    last_print = Instant::now();
                }
            }
            (None, _) => {}
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed();
    if mode != Mode::Off {
        eprintln!("{label}: {}", summary(&state, elapsed));
    }
    let (result, stdout) = match result {
        Ok((status, output)) => (Ok(status), output.stdout),
        Err(e) => (Err(e), String::new()),
    };
    Finished {
        result,
        stdout,
        state,
        elapsed,
    }
}

/// The last log lines of the build of `drv` and the command that prints
/// all of them; empty when it never started.
pub fn failure_log(state: &State, drv: &str) -> (Vec<String>, String) {
    let lines = state
        .build_of(drv)
        .map(|b| b.log.iter().cloned().collect())
        .unwrap_or_default();
    let command = dominix_nix::builds::log(drv).display();
    (lines, command)
}

/// Prints, for every derivation Nix said failed, its last log lines and
/// the `nix log` command for the rest.
pub fn print_failures(state: &State) {
    let mut seen = BTreeSet::new();
    for error in state.errors() {
        let Some(drv) = dominix_nixlog::drv_in(error) else {
            continue;
        };
        if !seen.insert(drv.to_owned()) {
            continue;
        }
        let (lines, command) = failure_log(state, drv);
        if lines.is_empty() {
            continue;
        }
        eprintln!("--- last {} log lines of {}:", lines.len(), name_of(drv));
        for line in &lines {
            eprintln!("    {line}");
        }
        eprintln!("--- the whole log: {command}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_summaries() {
        assert_eq!(clock(Duration::from_secs(5)), "5s");
        assert_eq!(clock(Duration::from_secs(65)), "1m05s");
        assert_eq!(clock(Duration::from_secs(7260)), "2h01m");
        let mut state = State::default();
        for line in [
            r#"@nix {"action":"start","id":1,"level":0,"text":"","type":104}"#,
            r#"@nix {"action":"result","fields":[1,3,1,0],"id":1,"type":105}"#,
            r#"@nix {"action":"start","fields":["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm-test-run-ui.drv","ssh://arm",1,1],"id":2,"level":3,"text":"","type":105}"#,
            r#"@nix {"action":"result","fields":["machine # booting"],"id":2,"type":101}"#,
        ] {
            state.apply(&parse_line(line), Duration::ZERO);
        }
        assert_eq!(
            summary(&state, Duration::from_secs(61)),
            "1/3 built, 1 running; vm-test-run-ui on ssh://arm: machine # booting [1m01s]"
        );
    }
}
