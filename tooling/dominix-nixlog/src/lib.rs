//! Nix's `--log-format internal-json` output, read into progress.
//!
//! With `--log-format internal-json -v`, Nix writes one event per stderr
//! line, `@nix ` followed by a JSON object whose `action` is `start` (an
//! activity begins: a build, a download, …), `stop`, `result` (an activity
//! reports: a build log line, progress counts) or `msg` (a message, with its
//! verbosity `level`: 0 error, 1 warning, …). [`parse_line`] reads one line
//! and never fails: anything that is not such an event (a plain warning, an
//! SSH banner from a remote builder, a truncated line) is [`Line::Text`].
//! [`State`] folds the events of one Nix call into what a progress display
//! shows: builds done, running and expected, downloads, the current
//! derivation and its last log line, and each build's last lines.
//!
//! ```
//! use std::time::Duration;
//! use dominix_nixlog::{parse_line, State};
//!
//! let mut state = State::default();
//! for line in [
//!     r#"@nix {"action":"start","id":1,"level":0,"text":"","type":104}"#,
//!     r#"@nix {"action":"result","fields":[0,2,1,0],"id":1,"type":105}"#,
//!     r#"@nix {"action":"start","fields":["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-ok.drv","",1,1],"id":2,"level":3,"text":"building","type":105}"#,
//!     r#"@nix {"action":"result","fields":["hello"],"id":2,"type":101}"#,
//!     "a line that is not JSON",
//! ] {
//!     state.apply(&parse_line(line), Duration::ZERO);
//! }
//! assert_eq!(state.builds().expected, 2);
//! let (build, last) = state.current().unwrap();
//! assert_eq!((build.name(), last), ("ok", Some("hello")));
//! ```

mod event;
mod state;

pub use event::{Activity, Event, Field, Line, ResultKind, parse_line, strip_ansi};
pub use state::{Build, Counts, LOG_LINES, Notice, State, drv_in, name_of};
