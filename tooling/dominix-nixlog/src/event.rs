//! One line of `internal-json` output.

use serde::Deserialize;
use serde_json::Value;

/// A line of Nix's stderr: an event, or text that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Event(Event),
    /// Not an `@nix {…}` event (a plain message, a remote builder's SSH
    /// output, a line cut short): kept as it was.
    Text(String),
}

/// What kind of activity a `start` begins (Nix's `ActivityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activity {
    Unknown,
    CopyPath,
    FileTransfer,
    Realise,
    CopyPaths,
    /// All the builds of the call; its `Progress` results count them.
    Builds,
    /// One derivation's build; `fields`: drv path, machine, round, rounds.
    Build,
    OptimiseStore,
    VerifyPaths,
    /// One path substituted; `fields`: store path, substituter.
    Substitute,
    QueryPathInfo,
    PostBuildHook,
    BuildWaiting,
    Other(u64),
}

impl Activity {
    fn from_code(code: u64) -> Activity {
        match code {
            0 => Activity::Unknown,
            100 => Activity::CopyPath,
            101 => Activity::FileTransfer,
            102 => Activity::Realise,
            103 => Activity::CopyPaths,
            104 => Activity::Builds,
            105 => Activity::Build,
            106 => Activity::OptimiseStore,
            107 => Activity::VerifyPaths,
            108 => Activity::Substitute,
            109 => Activity::QueryPathInfo,
            110 => Activity::PostBuildHook,
            111 => Activity::BuildWaiting,
            other => Activity::Other(other),
        }
    }
}

/// What a `result` reports (Nix's `ResultType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    FileLinked,
    /// One line of a build's log: `fields` = [line].
    BuildLogLine,
    UntrustedPath,
    CorruptedPath,
    /// A build entered a phase: `fields` = [phase].
    SetPhase,
    /// Counts: `fields` = [done, expected, running, failed].
    Progress,
    /// `fields` = [activity type, expected count].
    SetExpected,
    PostBuildLogLine,
    Other(u64),
}

impl ResultKind {
    fn from_code(code: u64) -> ResultKind {
        match code {
            100 => ResultKind::FileLinked,
            101 => ResultKind::BuildLogLine,
            102 => ResultKind::UntrustedPath,
            103 => ResultKind::CorruptedPath,
            104 => ResultKind::SetPhase,
            105 => ResultKind::Progress,
            106 => ResultKind::SetExpected,
            107 => ResultKind::PostBuildLogLine,
            other => ResultKind::Other(other),
        }
    }
}

/// One element of an event's `fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Int(u64),
    Str(String),
    /// Anything else (negative or fractional numbers, null, lists).
    Other,
}

impl Field {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<u64> {
        match self {
            Field::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// One `@nix {…}` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start {
        id: u64,
        activity: Activity,
        level: u8,
        text: String,
        fields: Vec<Field>,
    },
    Stop {
        id: u64,
    },
    Result {
        id: u64,
        kind: ResultKind,
        fields: Vec<Field>,
    },
    /// A message; `level` 0 is an error, 1 a warning. `text` is as Nix
    /// printed it (with colours; see [`strip_ansi`]).
    Msg {
        level: u8,
        text: String,
    },
}

#[derive(Deserialize)]
struct Raw {
    action: String,
    id: Option<u64>,
    level: Option<u8>,
    text: Option<String>,
    #[serde(rename = "type")]
    kind: Option<u64>,
    #[serde(default)]
    fields: Vec<Value>,
    msg: Option<String>,
}

fn field(value: Value) -> Field {
    match value {
        Value::String(s) => Field::Str(s),
        Value::Number(n) => n.as_u64().map_or(Field::Other, Field::Int),
        _ => Field::Other,
    }
}

/// Reads one line of Nix's stderr. Never fails: what is not a well-formed
/// event (no `@nix ` prefix, JSON that does not parse, an unknown action,
/// an event missing its id or type) is [`Line::Text`].
pub fn parse_line(line: &str) -> Line {
    let text = || Line::Text(line.to_owned());
    let Some(json) = line.trim_end().strip_prefix("@nix ") else {
        return text();
    };
    let Ok(raw) = serde_json::from_str::<Raw>(json) else {
        return text();
    };
    let fields = || raw.fields.clone().into_iter().map(field).collect();
    let event = match (raw.action.as_str(), raw.id, raw.kind) {
        ("start", Some(id), Some(kind)) => Event::Start {
            id,
            activity: Activity::from_code(kind),
            level: raw.level.unwrap_or(0),
            text: raw.text.clone().unwrap_or_default(),
            fields: fields(),
        },
        ("stop", Some(id), _) => Event::Stop { id },
        ("result", Some(id), Some(kind)) => Event::Result {
            id,
            kind: ResultKind::from_code(kind),
            fields: fields(),
        },
        ("msg", _, _) => match &raw.msg {
            Some(msg) => Event::Msg {
                level: raw.level.unwrap_or(0),
                text: msg.clone(),
            },
            None => return text(),
        },
        _ => return text(),
    };
    Line::Event(event)
}

/// `text` without ANSI escape sequences (Nix colours its messages even in
/// JSON): CSI sequences (`ESC [ … letter`) and any other `ESC x` pair; and
/// without any other control character but newline and tab (a builder that
/// could not start leaves Nix's binary error record in its log).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            if !c.is_control() || c == '\n' || c == '\t' {
                out.push(c);
            }
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\u{7}' || c == '\\' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_are_not_events_are_text() {
        for line in [
            "",
            "warning: Git tree is dirty",
            "@nix",
            "@nix {",
            "@nix {\"action\":\"start\"}",
            "@nix {\"action\":\"result\",\"id\":1}",
            "@nix {\"action\":\"dance\",\"id\":1}",
            "@nix [1,2]",
            "Pseudo-terminal will not be allocated because stdin is not a terminal.",
            "@nix {\"action\":\"msg\",\"level\":0}",
        ] {
            assert_eq!(parse_line(line), Line::Text(line.to_owned()), "{line:?}");
        }
    }

    #[test]
    fn events_are_read_with_their_fields() {
        let line = r#"@nix {"action":"start","fields":["/nix/store/x.drv","ssh://arm",1,1],"id":7,"level":3,"parent":2,"text":"building","type":105}"#;
        assert_eq!(
            parse_line(line),
            Line::Event(Event::Start {
                id: 7,
                activity: Activity::Build,
                level: 3,
                text: "building".into(),
                fields: vec![
                    Field::Str("/nix/store/x.drv".into()),
                    Field::Str("ssh://arm".into()),
                    Field::Int(1),
                    Field::Int(1)
                ],
            })
        );
        assert_eq!(
            parse_line(r#"@nix {"action":"result","fields":[1,4,2,0],"id":3,"type":105}"#),
            Line::Event(Event::Result {
                id: 3,
                kind: ResultKind::Progress,
                fields: [1, 4, 2, 0].map(Field::Int).to_vec()
            })
        );
        assert_eq!(
            parse_line("@nix {\"action\":\"stop\",\"id\":3}\r"),
            Line::Event(Event::Stop { id: 3 })
        );
        assert!(matches!(
            parse_line(r#"@nix {"action":"result","fields":[-1, null],"id":3,"type":999}"#),
            Line::Event(Event::Result { kind: ResultKind::Other(999), fields, .. }) if fields == [Field::Other, Field::Other]
        ));
    }

    #[test]
    fn colours_are_stripped() {
        let msg = "\u{1b}[31;1merror:\u{1b}[0m builder for '\u{1b}[35;1m/nix/store/x.drv\u{1b}[0m' failed";
        assert_eq!(
            strip_ansi(msg),
            "error: builder for '/nix/store/x.drv' failed"
        );
        assert_eq!(strip_ansi("plain"), "plain");
        assert_eq!(strip_ansi("\u{1b}]8;;http://x\u{7}link"), "link");
        assert_eq!(
            strip_ansi("\u{5}\0\0\0Error\0\0D\0executing '/bin/sh'\r\n\tnext"),
            "ErrorDexecuting '/bin/sh'\n\tnext"
        );
    }
}
