//! The events of one Nix call, folded into progress.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use crate::event::{Activity, Event, Field, Line, ResultKind, strip_ansi};

/// How many of a build's last log lines are kept (and shown when it fails).
pub const LOG_LINES: usize = 25;

/// Done, expected, running and failed, as Nix's `Progress` results count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub done: u64,
    pub expected: u64,
    pub running: u64,
    pub failed: u64,
}

/// One derivation's build (an activity of type 105).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub drv: String,
    /// The remote machine building it; empty when local.
    pub machine: String,
    /// When it started and stopped, as given to [`State::apply`].
    pub started: Duration,
    pub stopped: Option<Duration>,
    /// The phase it last entered (nixpkgs' stdenv reports them), if any.
    pub phase: Option<String>,
    /// Its last [`LOG_LINES`] log lines.
    pub log: VecDeque<String>,
    /// How many log lines it printed in all.
    pub lines: usize,
}

impl Build {
    /// The derivation's name: `hello-2.12` for `/nix/store/<hash>-hello-2.12.drv`.
    pub fn name(&self) -> &str {
        name_of(&self.drv)
    }

    /// How long it ran (until `now` when it still runs).
    pub fn elapsed(&self, now: Duration) -> Duration {
        self.stopped.unwrap_or(now).saturating_sub(self.started)
    }
}

/// What one line changed that a display may want to say at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Nothing worth a line of its own (counts, log lines, debug messages).
    Quiet,
    Started {
        drv: String,
    },
    Stopped {
        drv: String,
    },
    /// A message of level 0, colours removed.
    Error(String),
    /// A message of level 1, colours removed.
    Warning(String),
    /// A line that is not an event, as it was.
    Text(String),
}

/// Everything one Nix call reported so far.
#[derive(Debug, Clone, Default)]
pub struct State {
    activities: HashMap<u64, Activity>,
    /// Builds by activity id, in the order they started.
    builds: BTreeMap<u64, Build>,
    /// The latest build of each derivation.
    by_drv: HashMap<String, u64>,
    builds_progress: Counts,
    copies_progress: Counts,
    errors: Vec<String>,
    /// The build that printed last.
    last: Option<u64>,
}

impl State {
    /// Folds in one line, read at `at` (time since the call started).
    pub fn apply(&mut self, line: &Line, at: Duration) -> Notice {
        let event = match line {
            Line::Text(text) => return Notice::Text(text.clone()),
            Line::Event(event) => event,
        };
        match event {
            Event::Start {
                id,
                activity,
                fields,
                ..
            } => {
                self.activities.insert(*id, *activity);
                if *activity == Activity::Build {
                    let text = |i: usize| fields.get(i).and_then(Field::as_str).unwrap_or("");
                    let drv = text(0).to_owned();
                    self.by_drv.insert(drv.clone(), *id);
                    self.builds.insert(
                        *id,
                        Build {
                            drv: drv.clone(),
                            machine: text(1).to_owned(),
                            started: at,
                            stopped: None,
                            phase: None,
                            log: VecDeque::new(),
                            lines: 0,
                        },
                    );
                    return Notice::Started { drv };
                }
                Notice::Quiet
            }
            Event::Stop { id } => match self.builds.get_mut(id) {
                Some(build) if build.stopped.is_none() => {
                    build.stopped = Some(at);
                    Notice::Stopped {
                        drv: build.drv.clone(),
                    }
                }
                _ => Notice::Quiet,
            },
            Event::Result { id, kind, fields } => {
                self.result(*id, *kind, fields);
                Notice::Quiet
            }
            Event::Msg { level, text } => {
                let text = strip_ansi(text);
                match level {
                    0 => {
                        // A build Nix says failed is over, even if its
                        // activity stops only later (Nix 2.8).
                        if let Some(id) = crate::drv_in(&text).and_then(|d| self.by_drv.get(d))
                            && let Some(build) = self.builds.get_mut(id)
                        {
                            build.stopped.get_or_insert(at);
                        }
                        self.errors.push(text.clone());
                        Notice::Error(text)
                    }
                    1 => Notice::Warning(text),
                    _ => Notice::Quiet,
                }
            }
        }
    }

    fn result(&mut self, id: u64, kind: ResultKind, fields: &[Field]) {
        match kind {
            ResultKind::BuildLogLine | ResultKind::PostBuildLogLine => {
                if let Some(build) = self.builds.get_mut(&id) {
                    let line = fields.first().and_then(Field::as_str).unwrap_or("");
                    if build.log.len() == LOG_LINES {
                        build.log.pop_front();
                    }
                    build.log.push_back(strip_ansi(line));
                    build.lines += 1;
                    self.last = Some(id);
                }
            }
            ResultKind::SetPhase => {
                if let Some(build) = self.builds.get_mut(&id) {
                    build.phase = fields.first().and_then(Field::as_str).map(str::to_owned);
                }
            }
            ResultKind::Progress => {
                let n = |i: usize| fields.get(i).and_then(Field::as_int).unwrap_or(0);
                let counts = Counts {
                    done: n(0),
                    expected: n(1),
                    running: n(2),
                    failed: n(3),
                };
                match self.activities.get(&id) {
                    Some(Activity::Builds) => self.builds_progress = counts,
                    Some(Activity::CopyPaths) => self.copies_progress = counts,
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Builds done, expected, running and failed (Nix's own count).
    pub fn builds(&self) -> Counts {
        self.builds_progress
    }

    /// Paths copied in (substituted, downloaded): done, expected, running.
    pub fn downloads(&self) -> Counts {
        self.copies_progress
    }

    /// Every build so far, in the order they started.
    pub fn all_builds(&self) -> impl Iterator<Item = &Build> {
        self.builds.values()
    }

    /// The builds whose activity has not stopped, in the order they started.
    /// Nix 2.8 stops a build's activity only when it forgets the goal (often
    /// at the very end of the call), so this may include builds that are
    /// done; [`State::builds`] is Nix's own count.
    pub fn running(&self) -> impl Iterator<Item = &Build> {
        self.builds.values().filter(|b| b.stopped.is_none())
    }

    /// The latest build of `drv`, if it started.
    pub fn build_of(&self, drv: &str) -> Option<&Build> {
        self.builds.get(self.by_drv.get(drv)?)
    }

    /// The build to show: the running one that printed last (else the
    /// latest started that still runs), and its last log line; none when
    /// Nix counts no running build.
    pub fn current(&self) -> Option<(&Build, Option<&str>)> {
        // Nix says nothing builds (its activities may stop later).
        if self.builds_progress.running == 0 && self.builds_progress.expected > 0 {
            return None;
        }
        let printed = self
            .last
            .and_then(|id| self.builds.get(&id))
            .filter(|b| b.stopped.is_none());
        let build = printed.or_else(|| self.running().last())?;
        Some((build, build.log.back().map(String::as_str)))
    }

    /// Every error message (level 0), colours removed, in order.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The error messages that name `drv`.
    pub fn errors_of<'a>(&'a self, drv: &'a str) -> impl Iterator<Item = &'a str> {
        self.errors
            .iter()
            .filter(move |e| e.contains(drv))
            .map(String::as_str)
    }
}

/// The first derivation path (`/nix/store/<hash>-<name>.drv`) in `text`.
pub fn drv_in(text: &str) -> Option<&str> {
    let start = text.find("/nix/store/")?;
    let rest = &text[start..];
    let end = rest.find(".drv")? + ".drv".len();
    let path = &rest[..end];
    let plain = path[..path.len() - 4]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/+-._?=".contains(c));
    plain.then_some(path)
}

/// `hello-2.12` for `/nix/store/<hash>-hello-2.12.drv` (or its output path).
pub fn name_of(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.strip_suffix(".drv").unwrap_or(base);
    match base.split_once('-') {
        Some((hash, name)) if hash.len() == 32 => name,
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_derivations_in_messages() {
        let drv = "/nix/store/k9yxl30plxl0477wc147l2id5pvilhdv-bad.drv";
        assert_eq!(name_of(drv), "bad");
        assert_eq!(
            name_of("/nix/store/k9yxl30plxl0477wc147l2id5pvilhdv-hello-2.12"),
            "hello-2.12"
        );
        assert_eq!(name_of("plain"), "plain");
        let msg = format!("error: builder for '{drv}' failed with exit code 1");
        assert_eq!(drv_in(&msg), Some(drv));
        let timeout =
            format!("error: building of '{drv}!out' from .drv file timed out after 3 seconds");
        assert_eq!(drv_in(&timeout), Some(drv));
        assert_eq!(drv_in("no path here"), None);
        assert_eq!(drv_in("/nix/store/abc but no derivation"), None);
    }

    #[test]
    fn a_build_keeps_only_its_last_lines() {
        let mut state = State::default();
        let start = crate::parse_line(
            r#"@nix {"action":"start","fields":["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x.drv","",1,1],"id":5,"level":3,"text":"","type":105}"#,
        );
        state.apply(&start, Duration::from_secs(1));
        for i in 0..40 {
            let line =
                format!(r#"@nix {{"action":"result","fields":["line {i}"],"id":5,"type":101}}"#);
            state.apply(&crate::parse_line(&line), Duration::from_secs(2));
        }
        let build = state
            .build_of("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x.drv")
            .expect("started")
            .clone();
        assert_eq!(build.lines, 40);
        assert_eq!(build.log.len(), LOG_LINES);
        assert_eq!(build.log.front().map(String::as_str), Some("line 15"));
        assert_eq!(build.log.back().map(String::as_str), Some("line 39"));
        let stop = crate::parse_line(r#"@nix {"action":"stop","id":5}"#);
        assert_eq!(
            state.apply(&stop, Duration::from_secs(4)),
            Notice::Stopped {
                drv: build.drv.clone()
            }
        );
        assert_eq!(
            state.apply(&stop, Duration::from_secs(5)),
            Notice::Quiet,
            "once"
        );
        let build = state.all_builds().next().expect("one");
        assert_eq!(
            build.elapsed(Duration::from_secs(100)),
            Duration::from_secs(3)
        );
        assert!(state.current().is_none(), "nothing runs");
    }
}
