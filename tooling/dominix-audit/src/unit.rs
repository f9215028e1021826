//! A unit file rendered from a module-evaluated `systemd.services.<name>`,
//! the way nixpkgs renders it (`serviceToUnit`, `commonUnitText` and
//! `attrsToSection` in `nixos/lib/systemd-lib.nix`):
//!
//! ```text
//! [Unit]
//! <unitConfig, one `Key=value` line per value, keys sorted byte-wise>
//!
//! [Service]
//! <Environment="NAME=value" for systemd.globalEnvironment // environment, sorted, nulls left out>
//! <X-ReloadIfChanged=true | X-RestartIfChanged=false, X-StopIfChanged=false, X-NotSocketActivated=true>
//! <serviceConfig, as unitConfig>
//!
//! [Install]                      (only when wantedBy is not empty)
//! WantedBy=<wantedBy, space-separated>
//! ```
//!
//! A list value is one line per element; `true`/`false` are written as such,
//! numbers in decimal, `null` as nothing; inside a list element Nix's
//! `toString` applies (`true` is `1`). What nixpkgs would write but systemd
//! would read as something else — a value holding a newline, a key holding
//! `=` or white space, an attribute set — is an error naming the option,
//! never a silently different unit.
//!
//! What is not modelled: `aliases`, `requiredBy` and `upheldBy` (symlinks,
//! not text); a unit that systemd or a package already ships, which nixpkgs
//! writes as a drop-in over that file (the audit says it cannot see it);
//! `startLimitBurst`/`startLimitIntervalSec` (not in the contract).

use camino::Utf8Path;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::AuditError;

/// systemd's longest line (nixpkgs refuses longer `Environment=` lines).
const MAX_LINE: usize = 1 << 20;

/// A rendered unit file: its name (`sshd.service`) and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitFile {
    pub name: String,
    pub text: String,
}

impl UnitFile {
    /// Writes the file into `dir` (atomically: a temporary file renamed).
    pub fn write_to(&self, dir: &Utf8Path) -> Result<(), AuditError> {
        let path = dir.join(&self.name);
        let error = |e: std::io::Error| AuditError::Write {
            path: path.to_string(),
            error: e.to_string(),
        };
        let draft = dir.join(format!(".{}.draft", self.name));
        std::fs::write(&draft, &self.text).map_err(error)?;
        std::fs::rename(&draft, &path).map_err(error)
    }
}

/// A `systemd.services` value a unit file cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("systemd.services.{unit}.{option}: {problem}. Fix: {fix}")]
pub struct RenderError {
    pub unit: String,
    /// The sub-option, e.g. `serviceConfig.ExecStart`.
    pub option: String,
    pub problem: String,
    pub fix: String,
}

/// Renders the service `unit` (its name under `systemd.services`) from its
/// evaluated value and `systemd.globalEnvironment`.
pub fn render(
    unit: &str,
    service: &Value,
    global: &Map<String, Value>,
) -> Result<UnitFile, RenderError> {
    let error = |option: &str, problem: String, fix: &str| RenderError {
        unit: unit.to_owned(),
        option: option.to_owned(),
        problem,
        fix: fix.to_owned(),
    };
    let object = |option: &str| -> Result<Map<String, Value>, RenderError> {
        match service.get(option) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(other) => Err(error(
                option,
                format!("is {}, not an attribute set", kind(other)),
                "define it as an attribute set",
            )),
        }
    };
    let flag = |option: &str| service.get(option).and_then(Value::as_bool);

    let mut text = String::from("[Unit]\n");
    section(&mut text, "unitConfig", &object("unitConfig")?, &error)?;
    text.push_str("\n[Service]\n");

    let mut environment = global.clone();
    environment.extend(object("environment")?);
    for (name, value) in &environment {
        let value = match value {
            Value::Null => continue,
            Value::String(s) => s,
            other => {
                return Err(error(
                    &format!("environment.{name}"),
                    format!("is {}, not a string", kind(other)),
                    "give the variable a string (or a path or package) value",
                ));
            }
        };
        let line = format!("Environment={}\n", json_string(&format!("{name}={value}")));
        if line.len() >= MAX_LINE {
            return Err(error(
                &format!("environment.{name}"),
                format!(
                    "the value is {} bytes, longer than a unit-file line may be",
                    value.len()
                ),
                "pass it in a file (EnvironmentFile=) instead",
            ));
        }
        text.push_str(&line);
    }
    if flag("reloadIfChanged") == Some(true) {
        text.push_str("X-ReloadIfChanged=true\n");
    } else if flag("restartIfChanged") == Some(false) {
        text.push_str("X-RestartIfChanged=false\n");
    }
    if flag("stopIfChanged") == Some(false) {
        text.push_str("X-StopIfChanged=false\n");
    }
    if flag("notSocketActivated") == Some(true) {
        text.push_str("X-NotSocketActivated=true\n");
    }
    section(
        &mut text,
        "serviceConfig",
        &object("serviceConfig")?,
        &error,
    )?;

    let wanted_by = match service.get("wantedBy") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(units)) => units
            .iter()
            .map(|u| u.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                error(
                    "wantedBy",
                    "holds something that is not a unit name".into(),
                    "list unit names, e.g. \"multi-user.target\"",
                )
            })?,
        Some(other) => {
            return Err(error(
                "wantedBy",
                format!("is {}, not a list", kind(other)),
                "list unit names",
            ));
        }
    };
    if !wanted_by.is_empty() {
        text.push_str(&format!("\n[Install]\nWantedBy={}\n", wanted_by.join(" ")));
    }
    let name = service
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("{unit}.service"), str::to_owned);
    Ok(UnitFile { name, text })
}

/// `attrsToSection`: one `Key=value` line per value, keys sorted byte-wise
/// (serde_json's map is ordered so), a list one line per element.
fn section(
    text: &mut String,
    option: &str,
    directives: &Map<String, Value>,
    error: &impl Fn(&str, String, &str) -> RenderError,
) -> Result<(), RenderError> {
    for (key, value) in directives {
        let at = format!("{option}.{key}");
        if key.is_empty() || key.contains(|c: char| c == '=' || c.is_whitespace() || c == '[') {
            return Err(error(
                &at,
                "is not a directive name systemd can read (it holds `=`, `[` or white space)"
                    .into(),
                "spell the directive as systemd.directives(7) does",
            ));
        }
        let values = match value {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for value in values {
            let written = option_text(value).map_err(|problem| {
                error(
                    &at,
                    problem,
                    "give it a string, number, boolean or list of those",
                )
            })?;
            if written.contains(['\n', '\r']) {
                return Err(error(
                    &at,
                    "holds a line break, which would end the directive and start another".into(),
                    "keep the value on one line (for a list, one element per line is written for you)",
                ));
            }
            text.push_str(&format!("{key}={written}\n"));
        }
    }
    Ok(())
}

/// nixpkgs' `toOption`: booleans as `true`/`false`, the rest as Nix's `toString`.
fn option_text(value: &Value) -> Result<String, String> {
    match value {
        Value::Bool(true) => Ok("true".into()),
        Value::Bool(false) => Ok("false".into()),
        other => to_string(other),
    }
}

/// Nix's `toString` of a JSON value. The evaluator writes a function as
/// `<function>` and a package set as `<pkgs>`: Nix cannot write either.
fn to_string(value: &Value) -> Result<String, String> {
    if let Some(marker @ ("<function>" | "<pkgs>")) = value.as_str() {
        return Err(format!(
            "is {}, which Nix cannot write into a unit file (nixpkgs fails evaluating it)",
            if marker == "<pkgs>" {
                "a package set"
            } else {
                "a function (an argument forgotten?)"
            }
        ));
    }
    Ok(match value {
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "1".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("{:.6}", n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(to_string)
            .collect::<Result<Vec<_>, _>>()?
            .join(" "),
        Value::Object(_) => {
            return Err("is an attribute set, which Nix cannot write into a unit file".into());
        }
    })
}

/// A string as Nix's `builtins.toJSON` writes it (the same escapes as serde_json).
fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an attribute set",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn global() -> Map<String, Value> {
        let Value::Object(map) = json!({
            "LOCALE_ARCHIVE": "/nix/store/l-glibc-locales/lib/locale/locale-archive",
            "TZDIR": "/nix/store/t-tzdata/share/zoneinfo",
        }) else {
            unreachable!()
        };
        map
    }

    /// What nixpkgs writes for a service with a script, an ordering, a
    /// target and two directives (nixos/lib/systemd-lib.nix's layout).
    #[test]
    fn a_service_reads_as_nixpkgs_writes_it() {
        let service = json!({
            "name": "foo.service",
            "unitConfig": { "After": "network.target", "Description": "Foo" },
            "environment": { "PATH": "/nix/store/c-coreutils/bin:/nix/store/c-coreutils/sbin" },
            "serviceConfig": {
                "DynamicUser": true,
                "ExecStart": "/nix/store/s-unit-script-foo-start/bin/foo-start ",
                "Restart": "always",
            },
            "wantedBy": ["multi-user.target"],
            "restartIfChanged": true, "reloadIfChanged": false, "stopIfChanged": true, "notSocketActivated": false,
        });
        let unit = render("foo", &service, &global()).expect("renders");
        assert_eq!(unit.name, "foo.service");
        assert_eq!(
            unit.text,
            "[Unit]\nAfter=network.target\nDescription=Foo\n\n[Service]\n\
             Environment=\"LOCALE_ARCHIVE=/nix/store/l-glibc-locales/lib/locale/locale-archive\"\n\
             Environment=\"PATH=/nix/store/c-coreutils/bin:/nix/store/c-coreutils/sbin\"\n\
             Environment=\"TZDIR=/nix/store/t-tzdata/share/zoneinfo\"\n\
             DynamicUser=true\nExecStart=/nix/store/s-unit-script-foo-start/bin/foo-start \nRestart=always\n\
             \n[Install]\nWantedBy=multi-user.target\n"
        );
    }

    #[test]
    fn lists_booleans_numbers_and_nulls() {
        let service = json!({
            "serviceConfig": {
                "CapabilityBoundingSet": "",
                "RestrictAddressFamilies": ["AF_UNIX", "AF_INET"],
                "SystemCallFilter": ["@system-service", "~@privileged @resources"],
                "TimeoutSec": 180,
                "CPUWeight": 1.5,
                "Empty": [],
                "Reset": null,
                "Nested": [[true, false, 2], "x"],
                "PrivateTmp": false,
            },
        });
        let text = render("x", &service, &Map::new()).expect("renders").text;
        assert_eq!(
            text,
            "[Unit]\n\n[Service]\nCPUWeight=1.500000\nCapabilityBoundingSet=\nNested=1  2\nNested=x\n\
             PrivateTmp=false\nReset=\nRestrictAddressFamilies=AF_UNIX\nRestrictAddressFamilies=AF_INET\n\
             SystemCallFilter=@system-service\nSystemCallFilter=~@privileged @resources\nTimeoutSec=180\n"
        );
    }

    #[test]
    fn the_switch_flags_and_null_variables() {
        let mut env = global();
        env.insert("GONE".into(), Value::Null);
        let service = json!({
            "environment": { "TZDIR": null, "QUOTE": "a \"b\"\\c\nd" },
            "restartIfChanged": false, "stopIfChanged": false, "notSocketActivated": true,
        });
        let text = render("y", &service, &env).expect("renders").text;
        assert_eq!(
            text,
            "[Unit]\n\n[Service]\n\
             Environment=\"LOCALE_ARCHIVE=/nix/store/l-glibc-locales/lib/locale/locale-archive\"\n\
             Environment=\"QUOTE=a \\\"b\\\"\\\\c\\nd\"\n\
             X-RestartIfChanged=false\nX-StopIfChanged=false\nX-NotSocketActivated=true\n"
        );
        let reload = json!({ "reloadIfChanged": true, "restartIfChanged": false });
        assert!(
            render("z", &reload, &Map::new())
                .expect("renders")
                .text
                .ends_with("X-ReloadIfChanged=true\n")
        );
    }

    #[test]
    fn what_a_unit_file_cannot_hold_is_an_error_naming_the_option() {
        for (service, option) in [
            (
                json!({ "serviceConfig": { "ExecStart": "/bin/a\n/bin/b" } }),
                "serviceConfig.ExecStart",
            ),
            (
                json!({ "serviceConfig": { "Bad": { "a": 1 } } }),
                "serviceConfig.Bad",
            ),
            (
                json!({ "serviceConfig": { "Two Words": "x" } }),
                "serviceConfig.Two Words",
            ),
            (
                json!({ "unitConfig": { "Description": ["a", "b\nc"] } }),
                "unitConfig.Description",
            ),
            (json!({ "environment": { "N": 3 } }), "environment.N"),
            (json!({ "serviceConfig": "oops" }), "serviceConfig"),
            (json!({ "wantedBy": [1] }), "wantedBy"),
            (
                json!({ "serviceConfig": { "ExecStart": "<function>" } }),
                "serviceConfig.ExecStart",
            ),
            (
                json!({ "serviceConfig": { "ExecStartPre": ["/bin/a", "<pkgs>"] } }),
                "serviceConfig.ExecStartPre",
            ),
        ] {
            let error = render("svc", &service, &Map::new()).expect_err("cannot render");
            assert_eq!(error.option, option, "{error}");
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("systemd.services.svc.{option}: ")),
                "{message}"
            );
            assert!(message.contains("Fix: "), "{message}");
        }
        let long = json!({ "environment": { "BIG": "x".repeat(MAX_LINE) } });
        assert_eq!(
            render("svc", &long, &Map::new())
                .expect_err("too long")
                .option,
            "environment.BIG"
        );
    }
}
