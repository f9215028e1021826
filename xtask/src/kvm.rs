//! Whether this host can run a NixOS VM test of a system.
//!
//! `runNixOSTest` derivations of a Linux system require the `kvm` and
//! `nixos-test` system features. Nix schedules such a derivation locally when
//! the system is its own (or one of its `extra-platforms`) and both features
//! are in its `system-features` (Nix adds `kvm` by default when `/dev/kvm` is
//! accessible), or on a remote builder offering the system and the features.
//! When neither holds, the build would fail for want of KVM: `test` and
//! `matrix` report such a cell as skipped, with the reason and the fix,
//! instead of failing it.
//!
//! The probe: a native system with a usable `/dev/kvm` runs without asking
//! anything else; otherwise Nix's own configuration decides
//! (`nix show-config --json`: `system`, `system-features`, `extra-platforms`,
//! `builders`). If that configuration cannot be read, the cell is attempted
//! and Nix decides.
//!
//! `DOMINIX_KVM` overrides the probe (for tests, and for setups the probe
//! cannot see):
//! - `DOMINIX_KVM=1`: every cell is attempted; Nix is not asked.
//! - `DOMINIX_KVM=0`: this host's `/dev/kvm` counts as unusable; Nix's
//!   configuration (features, extra platforms, remote builders) still decides.

use std::cell::OnceCell;
use std::collections::BTreeSet;

use dominix::System;
use serde_json::Value;
use xshell::Shell;

use crate::nix::{self, NixCommand};
use crate::{Failure, Result};

/// The override variable (see the module documentation).
pub const KVM_ENV: &str = "DOMINIX_KVM";

/// The system features a Linux `runNixOSTest` derivation requires.
const REQUIRED: [&str; 2] = ["kvm", "nixos-test"];

/// Why a cell cannot run here, and what makes it run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub reason: String,
    pub fix: String,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} — Fix: {}", self.reason, self.fix)
    }
}

/// The parts of Nix's configuration that decide where a VM test can build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NixConfig {
    system: String,
    features: BTreeSet<String>,
    extra_platforms: BTreeSet<String>,
    builders: Vec<Builder>,
    substituters: Vec<String>,
}

/// One remote build machine (`builders`, or the file it names).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Builder {
    uri: String,
    systems: BTreeSet<String>,
    features: BTreeSet<String>,
}

/// What this host can run; asks Nix at most once, and only when needed.
pub struct Probe<'a> {
    sh: &'a Shell,
    forced: bool,
    dev_kvm: bool,
    nix: OnceCell<Option<NixConfig>>,
    /// Builders given on the command line (`--builders`), besides Nix's own.
    extra_builders: Option<String>,
}

impl<'a> Probe<'a> {
    /// Reads `DOMINIX_KVM` and `/dev/kvm`; Nix is asked later, if at all.
    /// Any value of `DOMINIX_KVM` other than 0 or 1 is a usage error.
    pub fn new(sh: &'a Shell) -> Result<Probe<'a>> {
        let (forced, dev_kvm) = match std::env::var(KVM_ENV).as_deref() {
            Ok("1") => (true, true),
            Ok("0") => (false, false),
            Ok(other) => {
                return Err(Failure::usage(format!(
                    "{KVM_ENV}={other:?} is not understood. Fix: set {KVM_ENV}=1 (attempt every VM test) \
                     or {KVM_ENV}=0 (treat /dev/kvm as unusable), or unset it"
                )));
            }
            Err(_) => (false, dev_kvm_usable()),
        };
        Ok(Probe {
            sh,
            forced,
            dev_kvm,
            nix: OnceCell::new(),
            extra_builders: None,
        })
    }

    /// Counts the machines of a `--builders` spec too.
    pub fn with_builders(mut self, spec: Option<&str>) -> Probe<'a> {
        self.extra_builders = spec.map(str::to_owned);
        self
    }

    /// Nix's configuration, with the `--builders` machines added.
    fn config(&self) -> Option<&NixConfig> {
        self.nix
            .get_or_init(|| {
                let mut config = read_nix_config(self.sh)?;
                if let Some(spec) = &self.extra_builders {
                    let more = parse_builders(spec, &config.system);
                    config.builders.extend(more);
                }
                Some(config)
            })
            .as_ref()
    }

    /// The remote builders Nix would use for `system` (their URIs); `None`
    /// when Nix's configuration cannot be read.
    pub fn builders_for(&self, system: System) -> Option<Vec<String>> {
        let config = self.config()?;
        let offer = config
            .builders
            .iter()
            .filter(|b| b.systems.contains(system.as_str()));
        Some(offer.map(|b| b.uri.clone()).collect())
    }

    /// The substituters Nix is configured with (empty when it cannot say).
    pub fn substituters(&self) -> Vec<String> {
        self.config()
            .map(|c| c.substituters.clone())
            .unwrap_or_default()
    }

    /// `None` when a derivation of `system` can be built here (natively,
    /// as an extra platform, or on a remote builder); otherwise why not.
    pub fn skip_build(&self, system: System) -> Option<Skip> {
        if self.forced || system.as_str() == nix::host_system() {
            return None;
        }
        build_verdict(self.config()?, system.as_str())
    }

    /// `None` when a VM test of `system` can run here; otherwise why not.
    pub fn skip(&self, system: System) -> Option<Skip> {
        if self.forced || (self.dev_kvm && system.as_str() == nix::host_system()) {
            return None;
        }
        verdict(self.config()?, system.as_str(), self.dev_kvm)
    }
}

/// Whether this process may open `/dev/kvm` for reading and writing (as QEMU
/// does); opening it creates no VM.
fn dev_kvm_usable() -> bool {
    cfg!(target_os = "linux")
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok()
}

/// `nix show-config --json` (Nix ≥ 2.20 also answers it, with a deprecation
/// warning), else `nix config show --json`; `None` when neither answers.
fn read_nix_config(sh: &Shell) -> Option<NixConfig> {
    // A probe: never longer than a minute, nor than the command allows.
    let timeout = dominix_nix::default_timeout().min(std::time::Duration::from_secs(60));
    let attempts: [&[&str]; 2] = [&["show-config", "--json"], &["config", "show", "--json"]];
    for args in attempts {
        let json = NixCommand::nix(args[0])
            .args(&args[1..])
            .current_dir(sh.current_dir())
            .timeout(Some(timeout))
            .output();
        if let Some(config) = json.ok().and_then(|out| parse_config(&out.stdout)) {
            return Some(config);
        }
    }
    eprintln!(
        "note: cannot read Nix's configuration (`nix show-config --json`); VM tests are attempted and Nix decides \
         whether this host can build them"
    );
    None
}

/// A setting of `show-config --json`: `{"name": {"value": …}}` (Nix ≥ 2.4)
/// or `{"name": …}`.
fn setting<'v>(json: &'v Value, name: &str) -> Option<&'v Value> {
    let v = json.get(name)?;
    Some(v.get("value").unwrap_or(v))
}

/// A list setting, given as a JSON list or a space-separated string.
fn string_set(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => BTreeSet::new(),
    }
}

fn parse_config(json: &str) -> Option<NixConfig> {
    let json: Value = serde_json::from_str(json).ok()?;
    let system = setting(&json, "system")?.as_str()?.to_owned();
    let builders = setting(&json, "builders")
        .and_then(Value::as_str)
        .map(|spec| parse_builders(spec, &system))
        .unwrap_or_default();
    let substituters = match setting(&json, "substituters") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    Some(NixConfig {
        substituters,
        features: string_set(setting(&json, "system-features")),
        extra_platforms: string_set(setting(&json, "extra-platforms")),
        system,
        builders,
    })
}

/// The `builders` setting: machines separated by `;` or newlines, or
/// `@<file>` naming a file of them (a missing file means none). Each machine:
/// `uri systems ssh-key max-jobs speed supported-features mandatory-features …`,
/// `-` for a default, lists comma-separated.
fn parse_builders(spec: &str, local_system: &str) -> Vec<Builder> {
    let spec = spec.trim();
    let text = match spec.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file.trim()).unwrap_or_default(),
        None => spec.to_owned(),
    };
    text.split([';', '\n'])
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let list = |i: usize| -> BTreeSet<String> {
                let field = fields.get(i).filter(|f| **f != "-");
                let items = field.into_iter().flat_map(|f| f.split(','));
                items.filter(|s| !s.is_empty()).map(str::to_owned).collect()
            };
            let mut systems = list(1);
            if systems.is_empty() {
                systems.insert(local_system.to_owned());
            }
            let mut features = list(5);
            features.extend(list(6));
            let uri = (*fields.first()?).to_owned();
            Some(Builder {
                uri,
                systems,
                features,
            })
        })
        .collect()
}

/// Checks a `--builders` spec as Nix parses it (a machine per line or `;`,
/// `@file` for a file of them; at most 8 columns: URI, systems, SSH key,
/// max jobs and speed factor — whole numbers —, supported and mandatory
/// features, base64 host key; `-` for a default), so a spec Nix would
/// reject is reported before any build starts. Nix's own words for the
/// number columns: "bad machine specification: failed to convert column #N".
pub fn check_builders(spec: &str) -> std::result::Result<(), String> {
    let spec = spec.trim();
    let text = match spec.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file.trim())
            .map_err(|e| format!("cannot read the machines file {}: {e}", file.trim()))?,
        None => spec.to_owned(),
    };
    for line in text.split([';', '\n']) {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() > 8 {
            return Err(format!(
                "bad machine specification `{line}`: {} columns, at most 8 (URI, systems, SSH key, max jobs, \
                 speed factor, supported features, mandatory features, host key)",
                fields.len()
            ));
        }
        for (i, what) in [(3, "max jobs"), (4, "speed factor")] {
            if let Some(value) = fields.get(i).filter(|v| **v != "-")
                && value.parse::<u32>().is_err()
            {
                return Err(format!(
                    "bad machine specification `{line}`: column {} ({what}) is `{value}`, not a whole number \
                     (Nix: \"failed to convert column #{i} … to 'unsigned int'\")",
                    i + 1
                ));
            }
        }
        if let Some(key) = fields.get(7).filter(|v| **v != "-") {
            let base64 = key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
            if !base64 {
                return Err(format!(
                    "bad machine specification `{line}`: column 8 (the host's public key) is not base64"
                ));
            }
        }
    }
    Ok(())
}

/// The store URI of each machine of a `--builders` spec (for `nix store ping`).
pub fn builder_uris(spec: &str) -> Vec<String> {
    parse_builders(spec, "")
        .into_iter()
        .map(|b| b.uri)
        .collect()
}

fn has_required(features: &BTreeSet<String>) -> bool {
    REQUIRED.iter().all(|f| features.contains(*f))
}

/// `items`, comma-separated.
fn join<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.into_iter().map(String::as_str).collect();
    items.join(", ")
}

/// Whether Nix, configured as `config`, can build a derivation of `system`.
fn build_verdict(config: &NixConfig, system: &str) -> Option<Skip> {
    let platform = config.system == system || config.extra_platforms.contains(system);
    if platform || config.builders.iter().any(|b| b.systems.contains(system)) {
        return None;
    }
    let extra = if config.extra_platforms.is_empty() {
        "none".to_owned()
    } else {
        join(&config.extra_platforms)
    };
    let builders = if config.builders.is_empty() {
        "no remote builder".to_owned()
    } else {
        format!(
            "no remote builder offers {system} (builders: {})",
            join(config.builders.iter().map(|b| &b.uri))
        )
    };
    Some(Skip {
        reason: format!(
            "{system} derivations cannot be built here: this host is {} (extra-platforms: {extra}) and {builders}",
            config.system
        ),
        fix: format!(
            "add a builder of {system}: `--builders 'ssh-ng://<host> {system}'` for one run, or \
             `nix.buildMachines` / nix.conf `builders` (README.md, \"Builders and caches\"); on macOS, \
             nix-darwin's `nix.linux-builder.enable = true`"
        ),
    })
}

/// Whether Nix, configured as `config`, can build a VM test of `system`.
fn verdict(config: &NixConfig, system: &str, dev_kvm: bool) -> Option<Skip> {
    let native = config.system == system;
    let platform = native || config.extra_platforms.contains(system);
    let remote = |b: &Builder| b.systems.contains(system) && has_required(&b.features);
    if (platform && has_required(&config.features)) || config.builders.iter().any(remote) {
        return None;
    }
    let builders = if config.builders.is_empty() {
        "no remote builder".to_owned()
    } else {
        format!(
            "no remote builder offers {system} with {} (builders: {})",
            REQUIRED.join(" and "),
            join(config.builders.iter().map(|b| &b.uri))
        )
    };
    let remote = format!(
        "a remote builder for {system} with the kvm and nixos-test features \
         (nix.conf: `builders = ssh://<host> {system} - - - kvm,nixos-test`)"
    );
    Some(if platform {
        let kvm = match (native, dev_kvm) {
            (true, true) => "Nix's system-features lack it",
            (true, false) => "this host has no usable /dev/kvm",
            (false, _) => "this host runs it only as an extra platform, without the kvm feature",
        };
        Skip {
            reason: format!(
                "{system} VM tests need kvm; {kvm} (system-features: {}) and {builders}",
                join(&config.features)
            ),
            fix: format!(
                "a runner with KVM (/dev/kvm readable and writable before the Nix daemon starts, \
                 e.g. cachix/install-nix-action with `enable_kvm: true`), or {remote}"
            ),
        }
    } else {
        let extra = if config.extra_platforms.is_empty() {
            "none".to_owned()
        } else {
            join(&config.extra_platforms)
        };
        Skip {
            reason: format!(
                "{system} VM tests need kvm on {system}; this host is {} \
                 (extra-platforms: {extra}) and {builders}",
                config.system
            ),
            fix: format!("run them on {system} with a usable /dev/kvm, or add {remote}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn config(system: &str, features: &[&str], extra: &[&str]) -> NixConfig {
        NixConfig {
            system: system.to_owned(),
            features: set(features),
            extra_platforms: set(extra),
            builders: Vec::new(),
            substituters: Vec::new(),
        }
    }

    #[test]
    fn a_foreign_system_builds_only_with_a_builder_or_an_extra_platform() {
        let mut c = config("x86_64-linux", &[], &[]);
        let skip = build_verdict(&c, "aarch64-linux").expect("skipped");
        assert!(skip.reason.contains("this host is x86_64-linux"), "{skip}");
        assert!(
            skip.fix
                .contains("--builders 'ssh-ng://<host> aarch64-linux'"),
            "{skip}"
        );
        assert_eq!(build_verdict(&c, "x86_64-linux"), None);
        c.builders = parse_builders("ssh-ng://arm aarch64-linux", "x86_64-linux");
        assert_eq!(build_verdict(&c, "aarch64-linux"), None);
        let emulated = config("x86_64-linux", &[], &["aarch64-linux"]);
        assert_eq!(build_verdict(&emulated, "aarch64-linux"), None);
    }

    #[test]
    fn reads_nix_2_8_show_config() {
        let json = r#"{
          "system": {"value": "x86_64-linux", "defaultValue": "x86_64-linux"},
          "system-features": {"value": ["benchmark", "big-parallel", "kvm", "nixos-test"]},
          "extra-platforms": {"value": ["i686-linux"]},
          "builders": {"value": "ssh://arm aarch64-linux /k 4 1 kvm,nixos-test - -; ssh://old x86_64-linux"},
          "substituters": {"value": ["https://cache.nixos.org/", "file:///srv/cache"]}
        }"#;
        let c = parse_config(json).expect("parses");
        assert_eq!(
            c.substituters,
            ["https://cache.nixos.org/", "file:///srv/cache"]
        );
        assert_eq!(c.system, "x86_64-linux");
        assert_eq!(
            c.features,
            set(&["benchmark", "big-parallel", "kvm", "nixos-test"])
        );
        assert_eq!(c.extra_platforms, set(&["i686-linux"]));
        assert_eq!(c.builders.len(), 2);
        assert_eq!(c.builders[0].systems, set(&["aarch64-linux"]));
        assert_eq!(c.builders[0].features, set(&["kvm", "nixos-test"]));
        assert!(c.builders[1].features.is_empty());
    }

    #[test]
    fn reads_flat_settings_and_rejects_garbage() {
        let c = parse_config(
            r#"{"system": "aarch64-linux", "system-features": "kvm nixos-test", "builders": ""}"#,
        )
        .expect("parses");
        assert_eq!(c.features, set(&["kvm", "nixos-test"]));
        assert!(c.builders.is_empty());
        assert!(parse_config("").is_none());
        assert!(parse_config("{}").is_none());
    }

    #[test]
    fn builder_defaults_to_the_local_system_and_skips_comments() {
        let b = parse_builders(
            "# a comment\nssh://x - - 1 1 kvm nixos-test\n\n",
            "aarch64-linux",
        );
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].systems, set(&["aarch64-linux"]));
        assert_eq!(b[0].features, set(&["kvm", "nixos-test"]));
        assert!(parse_builders("@/nonexistent/machines", "x86_64-linux").is_empty());
    }

    #[test]
    fn builder_specs_are_checked_as_nix_parses_them() {
        assert!(check_builders("ssh://arm aarch64-linux /key 4 1 kvm,nixos-test - -").is_ok());
        assert!(check_builders("ssh-ng://a x86_64-linux; ssh://b aarch64-linux - - -").is_ok());
        assert!(check_builders("# only a comment").is_ok());
        let bad = check_builders("ssh://x x86_64-linux - notanumber").expect_err("rejected");
        assert!(bad.contains("column 4 (max jobs) is `notanumber`"), "{bad}");
        assert!(check_builders("ssh://x x86_64-linux - 1 fast").is_err());
        assert!(check_builders("a b c d e f g h i").is_err());
        assert!(check_builders("ssh://x x86_64-linux - 1 1 - - not~base64").is_err());
        assert!(check_builders("@/nonexistent/machines").is_err());
        assert_eq!(
            builder_uris("ssh://a x; ssh-ng://b y"),
            ["ssh://a", "ssh-ng://b"]
        );
    }

    #[test]
    fn native_with_kvm_runs_and_without_is_skipped() {
        let with = config("x86_64-linux", &["kvm", "nixos-test"], &[]);
        assert_eq!(verdict(&with, "x86_64-linux", false), None);
        let without = config("aarch64-linux", &["nixos-test"], &[]);
        let skip = verdict(&without, "aarch64-linux", false).expect("skipped");
        assert!(
            skip.reason.contains("aarch64-linux VM tests need kvm"),
            "{skip}"
        );
        assert!(skip.reason.contains("no usable /dev/kvm"), "{skip}");
        assert!(skip.fix.contains("enable_kvm"), "{skip}");
    }

    #[test]
    fn foreign_system_needs_a_builder() {
        let mut c = config("x86_64-linux", &["kvm", "nixos-test"], &["i686-linux"]);
        let skip = verdict(&c, "aarch64-linux", true).expect("skipped");
        assert!(skip.reason.contains("this host is x86_64-linux"), "{skip}");
        assert!(
            skip.reason.contains("extra-platforms: i686-linux"),
            "{skip}"
        );
        assert!(
            skip.fix.contains("builders = ssh://<host> aarch64-linux"),
            "{skip}"
        );

        c.builders = parse_builders("ssh://arm aarch64-linux - 4 1 nixos-test", "x86_64-linux");
        let skip = verdict(&c, "aarch64-linux", true).expect("a builder without kvm");
        assert!(skip.reason.contains("builders: ssh://arm"), "{skip}");

        c.builders = parse_builders(
            "ssh://arm aarch64-linux - 4 1 kvm,nixos-test",
            "x86_64-linux",
        );
        assert_eq!(verdict(&c, "aarch64-linux", true), None);
    }

    #[test]
    fn an_emulated_platform_with_kvm_runs() {
        let c = config("x86_64-linux", &["kvm", "nixos-test"], &["aarch64-linux"]);
        assert_eq!(verdict(&c, "aarch64-linux", true), None);
    }
}
