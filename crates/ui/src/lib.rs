//! The `ui` branch of domi-nix: the domi-nix shell (`domi-nix-shell`).
//!
//! The crate carries the branch's catalog metadata (`Cargo.toml`), its Nix
//! fragment (`feature.nix`, `nixos.nix`, `package.nix`, `vm-test.nix`), the
//! program and its tests.

use serde_json::{Map, Value, json};

/// Where the trunk writes the manifest of attached branches.
pub const DEFAULT_MANIFEST: &str = "/etc/domi-nix/features.json";

pub const USAGE: &str = "\
Usage: domi-nix-shell [--json] [--manifest PATH]

Prints the domi-nix banner: this host and the attached branches.

Options:
  --json           print a JSON object instead of the banner
  --manifest PATH  read the manifest from PATH (default /etc/domi-nix/features.json)
  -h, --help       print this help";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub json: bool,
    pub help: bool,
    pub manifest: String,
}

impl Request {
    /// Parses the arguments; the error says which argument is wrong and how to fix it.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut request = Request {
            json: false,
            help: false,
            manifest: DEFAULT_MANIFEST.to_owned(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--json" => request.json = true,
                "-h" | "--help" => request.help = true,
                "--manifest" => {
                    request.manifest = args.next().ok_or(
                        "`--manifest` needs a path, e.g. `--manifest /etc/domi-nix/features.json`",
                    )?;
                }
                other => {
                    return Err(format!(
                        "unknown argument `{other}`; run `domi-nix-shell --help`"
                    ));
                }
            }
        }
        Ok(request)
    }
}

/// The banner's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub host: String,
    /// Attached branches, by name, with their catalog entries.
    pub features: Map<String, Value>,
}

impl Report {
    /// Reads the host name and the manifest named in `request`.
    pub fn gather(request: &Request) -> Result<Self, String> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        let text = std::fs::read_to_string(&request.manifest).map_err(|e| {
            format!(
                "cannot read the manifest {}: {e}. It is written by the domi-nix trunk; \
                 is `domi-nix.nixosModules.trunk` imported?",
                request.manifest
            )
        })?;
        Self::from_manifest(host, &text).map_err(|e| format!("{}: {e}", request.manifest))
    }

    /// Builds a report from the manifest's JSON text.
    pub fn from_manifest(host: String, manifest: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(manifest).map_err(|e| format!("not valid JSON ({e})"))?;
        let features = match value.get("features") {
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err("`features` is not an object".to_owned()),
            None => return Err("no `features` object".to_owned()),
        };
        Ok(Report { host, features })
    }

    pub fn to_json(&self) -> String {
        json!({ "host": self.host, "features": self.features }).to_string()
    }

    pub fn to_text(&self) -> String {
        let mut out = format!("domi-nix on {}\n", self.host);
        if self.features.is_empty() {
            out.push_str("  no branches attached (trunk only)");
        } else {
            out.push_str("  attached branches:");
            for (name, entry) in &self.features {
                let summary = entry.get("summary").and_then(Value::as_str).unwrap_or("");
                out.push_str(&format!("\n    {name:<16} {summary}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"version":1,"features":{"hardening":{"category":"security","summary":"Hardening","requires":[],"conflicts":[]},"ui":{"category":"ui","summary":"The shell","requires":[],"conflicts":[]}}}"#;

    fn args(list: &[&str]) -> Result<Request, String> {
        Request::from_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_arguments() {
        assert_eq!(
            args(&[]).map(|r| (r.json, r.manifest)),
            Ok((false, DEFAULT_MANIFEST.to_owned()))
        );
        assert_eq!(
            args(&["--json", "--manifest", "m.json"]).map(|r| (r.json, r.manifest)),
            Ok((true, "m.json".to_owned()))
        );
        assert!(args(&["--manifest"]).is_err_and(|e| e.contains("needs a path")));
        assert!(args(&["--jsn"]).is_err_and(|e| e.contains("`--jsn`")));
    }

    #[test]
    fn text_lists_attached_branches() {
        let report = Report::from_manifest("lab".into(), MANIFEST).expect("valid manifest");
        let text = report.to_text();
        assert!(text.starts_with("domi-nix on lab\n"), "{text}");
        assert!(
            text.contains("hardening") && text.contains("The shell"),
            "{text}"
        );
    }

    #[test]
    fn json_round_trips() {
        let report = Report::from_manifest("lab".into(), MANIFEST).expect("valid manifest");
        let back: Value = serde_json::from_str(&report.to_json()).expect("json");
        assert_eq!(back["host"], "lab");
        assert_eq!(back["features"]["ui"]["category"], "ui");
    }

    #[test]
    fn rejects_bad_manifests() {
        assert!(
            Report::from_manifest("h".into(), "{").is_err_and(|e| e.contains("not valid JSON"))
        );
        assert!(
            Report::from_manifest("h".into(), "{}").is_err_and(|e| e.contains("no `features`"))
        );
        assert!(Report::from_manifest("h".into(), r#"{"features":[]}"#).is_err());
        let empty =
            Report::from_manifest("h".into(), r#"{"features":{}}"#).expect("empty is valid");
        assert!(empty.to_text().contains("trunk only"));
    }
}
