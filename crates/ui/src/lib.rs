//! The `ui` branch of domi-nix: the domi-nix shell (`domi-nix-shell`), the
//! machine's face at every login — on the console, the serial console and
//! over SSH.
//!
//! It reads the manifest the trunk writes (`/etc/domi-nix/features.json`:
//! the attached branches, and the systemd units each runs), asks the kernel
//! for the host's name and addresses and systemd for each unit's state, and
//! prints a banner, or JSON.
//!
//! The crate also carries the branch's catalog metadata (`Cargo.toml`) and
//! its Nix fragment (`feature.nix`, `nixos.nix`, `package.nix`,
//! `vm-test.nix`).

pub mod system;

use std::net::IpAddr;

use clap::{Parser, Subcommand};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Where the trunk writes the manifest of attached branches.
pub const DEFAULT_MANIFEST: &str = "/etc/domi-nix/features.json";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "domi-nix-shell",
    version,
    about = "The domi-nix banner: this host, its addresses, the attached branches and their services",
    long_about = "The domi-nix banner: this host, its addresses, the attached branches and the state of each \
                  domi-nix service, as shown at every login.\n\nExit codes: 0 ok, 1 the manifest cannot be read, 2 usage."
)]
pub struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The manifest the trunk writes.
    #[arg(long, global = true, value_name = "PATH", default_value = DEFAULT_MANIFEST)]
    pub manifest: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// The attached branches: name, category, summary.
    Features,
    /// The state of each domi-nix service (from systemd).
    Status,
}

/// One address of one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub interface: String,
    pub address: IpAddr,
}

/// What systemd says of one domi-nix unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub unit: String,
    /// The branch that runs it.
    pub feature: String,
    /// `LoadState`, `ActiveState` and `SubState`, or `unknown` when systemd
    /// could not be asked.
    pub load: String,
    pub active: String,
    pub sub: String,
}

/// The attached branches, from the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub features: Map<String, Value>,
}

impl Manifest {
    /// Reads the manifest's JSON text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
        match value.get("features") {
            Some(Value::Object(map)) => Ok(Manifest {
                features: map.clone(),
            }),
            Some(_) => Err("`features` is not an object".to_owned()),
            None => Err("no `features` object".to_owned()),
        }
    }

    /// Reads the manifest file; the error names it and the fix.
    pub fn read(path: &str) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the manifest {path}: {e}. It is written by the domi-nix trunk; \
                 is `domi-nix.nixosModules.trunk` imported?"
            )
        })?;
        Manifest::parse(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// Every unit a branch runs, with the branch, in the manifest's order.
    pub fn units(&self) -> Vec<(String, String)> {
        self.features
            .iter()
            .flat_map(|(feature, entry)| {
                entry["services"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(move |unit| (unit.to_owned(), feature.clone()))
            })
            .collect()
    }
}

/// What the banner shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub host: String,
    pub addresses: Vec<Address>,
    pub manifest: Manifest,
    pub services: Vec<Service>,
}

impl Report {
    pub fn to_json(&self) -> Value {
        json!({
            "host": self.host,
            "addresses": self.addresses,
            "features": self.manifest.features,
            "services": self.services,
        })
    }

    pub fn features_json(&self) -> Value {
        Value::Object(self.manifest.features.clone())
    }

    pub fn services_json(&self) -> Value {
        json!(self.services)
    }

    /// The banner.
    pub fn to_text(&self) -> String {
        let mut out = format!("domi-nix on {}\n", self.host);
        if !self.addresses.is_empty() {
            let shown: Vec<String> = self
                .addresses
                .iter()
                .map(|a| format!("{} {}", a.interface, a.address))
                .collect();
            out.push_str(&format!("  addresses: {}\n", shown.join(", ")));
        }
        out.push_str(&self.features_text());
        if !self.services.is_empty() {
            out.push('\n');
            out.push_str(&self.services_text());
        }
        out.trim_end().to_owned()
    }

    pub fn features_text(&self) -> String {
        if self.manifest.features.is_empty() {
            return "  no branches attached (trunk only)\n".to_owned();
        }
        let mut out = String::from("  attached branches:\n");
        for (name, entry) in &self.manifest.features {
            let summary = entry.get("summary").and_then(Value::as_str).unwrap_or("");
            out.push_str(&format!("    {name:<16} {summary}\n"));
        }
        out
    }

    pub fn services_text(&self) -> String {
        if self.services.is_empty() {
            return "  no domi-nix services\n".to_owned();
        }
        let mut out = String::from("  services:\n");
        for s in &self.services {
            out.push_str(&format!(
                "    {:<28} {} ({})  [{}]\n",
                s.unit, s.active, s.sub, s.feature
            ));
        }
        out
    }
}

/// Runs the command line `cli` on this machine; the text to print.
pub fn run(cli: &Cli) -> Result<String, String> {
    let manifest = Manifest::read(&cli.manifest)?;
    let units = manifest.units();
    let report = Report {
        host: system::host_name(),
        addresses: system::addresses(),
        services: system::services(&units),
        manifest,
    };
    Ok(match (cli.command, cli.json) {
        (None, false) => report.to_text(),
        (None, true) => report.to_json().to_string(),
        (Some(Command::Features), false) => report.features_text().trim_end().to_owned(),
        (Some(Command::Features), true) => report.features_json().to_string(),
        (Some(Command::Status), false) => report.services_text().trim_end().to_owned(),
        (Some(Command::Status), true) => report.services_json().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"version":1,"features":{
        "hardening":{"category":"security","summary":"Hardening","requires":[],"conflicts":[]},
        "status-api":{"category":"services","summary":"Status","requires":["packages"],"conflicts":[],"services":["domi-nix-status.service"]},
        "ui":{"category":"ui","summary":"The shell","requires":[],"conflicts":[],"services":[]}}}"#;

    fn report() -> Report {
        Report {
            host: "lab".into(),
            addresses: vec![Address {
                interface: "eth1".into(),
                address: "192.168.1.2".parse().expect("an address"),
            }],
            manifest: Manifest::parse(MANIFEST).expect("valid"),
            services: vec![Service {
                unit: "domi-nix-status.service".into(),
                feature: "status-api".into(),
                load: "loaded".into(),
                active: "active".into(),
                sub: "running".into(),
            }],
        }
    }

    #[test]
    fn the_banner_shows_host_addresses_branches_and_services() {
        let text = report().to_text();
        assert_eq!(
            text,
            "domi-nix on lab\n  addresses: eth1 192.168.1.2\n  attached branches:\n    hardening        Hardening\n    \
             status-api       Status\n    ui               The shell\n\n  services:\n    domi-nix-status.service      \
             active (running)  [status-api]"
        );
    }

    #[test]
    fn the_manifest_names_each_branchs_units() {
        let manifest = Manifest::parse(MANIFEST).expect("valid");
        assert_eq!(
            manifest.units(),
            vec![(
                "domi-nix-status.service".to_owned(),
                "status-api".to_owned()
            )]
        );
    }

    #[test]
    fn json_holds_the_same() {
        let json = report().to_json();
        assert_eq!(json["host"], "lab");
        assert_eq!(
            json["addresses"][0],
            json!({ "interface": "eth1", "address": "192.168.1.2" })
        );
        assert_eq!(json["features"]["ui"]["category"], "ui");
        assert_eq!(json["services"][0]["active"], "active");
        assert_eq!(
            report().services_json()[0]["unit"],
            "domi-nix-status.service"
        );
        assert_eq!(
            report().features_json()["hardening"]["summary"],
            "Hardening"
        );
    }

    #[test]
    fn bad_manifests_are_refused_with_the_reason() {
        assert!(Manifest::parse("{").is_err_and(|e| e.contains("not valid JSON")));
        assert!(Manifest::parse("{}").is_err_and(|e| e.contains("no `features`")));
        assert!(Manifest::parse(r#"{"features":[]}"#).is_err_and(|e| e.contains("not an object")));
        let empty = Report {
            manifest: Manifest::parse(r#"{"features":{}}"#).expect("empty is valid"),
            services: vec![],
            addresses: vec![],
            host: "h".into(),
        };
        assert_eq!(
            empty.to_text(),
            "domi-nix on h\n  no branches attached (trunk only)"
        );
        assert!(Manifest::read("/nonexistent/features.json").is_err_and(|e| e.contains("trunk")));
    }

    #[test]
    fn the_command_line_takes_subcommands_and_json_anywhere() {
        let cli = Cli::try_parse_from(["domi-nix-shell", "status", "--json"]).expect("valid");
        assert_eq!((cli.command, cli.json), (Some(Command::Status), true));
        let cli = Cli::try_parse_from(["domi-nix-shell", "--manifest", "m.json", "features"])
            .expect("valid");
        assert_eq!(
            (cli.command, cli.manifest.as_str()),
            (Some(Command::Features), "m.json")
        );
        assert!(Cli::try_parse_from(["domi-nix-shell", "--jsn"]).is_err());
        assert!(Cli::try_parse_from(["domi-nix-shell", "reboot"]).is_err());
    }
}
