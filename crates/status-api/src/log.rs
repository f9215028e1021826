//! One line on stderr per problem, at most [`LINES_PER_SECOND`] a second: a
//! flood of bad clients must not turn into a flood of log lines (nor block
//! every worker on a slow journal).

use std::fmt;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Problem lines written in one second; the rest are counted and summed up.
pub const LINES_PER_SECOND: u64 = 20;

/// The rate-limited problem log of one server.
#[derive(Debug)]
pub(crate) struct Log {
    start: Instant,
    /// The second (since `start`) that `written` counts lines of.
    second: AtomicU64,
    written: AtomicU64,
    suppressed: AtomicU64,
}

impl Log {
    pub(crate) fn new(start: Instant) -> Log {
        Log {
            start,
            second: AtomicU64::new(0),
            written: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Writes `domi-nix-status: <problem>` unless this second's lines are used up.
    pub(crate) fn problem(&self, problem: fmt::Arguments<'_>) {
        let now = self.start.elapsed().as_secs();
        let second = self.second.load(Ordering::Relaxed);
        if second != now
            && self
                .second
                .compare_exchange(second, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.written.store(0, Ordering::Relaxed);
            let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
            if suppressed > 0 {
                line(format_args!(
                    "{suppressed} more problem line(s) suppressed (at most {LINES_PER_SECOND} a second)"
                ));
            }
        }
        if self.written.fetch_add(1, Ordering::Relaxed) < LINES_PER_SECOND {
            line(problem);
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Writes `domi-nix-status: <text>` to stderr. Unlike `eprintln!`, a closed
/// or broken stderr (the journal gone) is ignored instead of panicking.
pub fn line(text: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "domi-nix-status: {text}");
}
