//! A recording `nix` for the xtask tests, put first on PATH: it logs every
//! call's arguments, answers `show-config --json` with a chosen
//! configuration, and `build --json` with a fake out path.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

use super::{utf8, xtask};

/// 32 characters of Nix's base32 alphabet (no e, o, u, t).
pub const HASH: &str = "0123456789abcdfghijklmnpqrsvwxyz";
/// Separates the arguments of one recorded call (ASCII unit separator).
const SEP: char = '\u{1f}';

/// A recording `nix` whose `show-config --json` answers `config` (or fails
/// when `None`), and whose `build --json` answers a fake out path, or fails
/// when an argument contains `fail`.
pub struct FakeNix {
    bin: TempDir,
    target: TempDir,
}

impl FakeNix {
    pub fn new(config: Option<&str>, fail: Option<&str>) -> FakeNix {
        let bin = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        let log = bin.path().join("nix.log");
        let config_file = bin.path().join("show-config.json");
        if let Some(config) = config {
            std::fs::write(&config_file, config).unwrap();
        }
        let script = format!(
            r#"#!/bin/sh
# Recording nix for the xtask tests: one line per call, arguments separated by US.
for a in "$@"; do printf '%s\037' "$a"; done >> '{log}'
printf '\n' >> '{log}'
fail='{fail}'
build=0; json=0; dry=0; config=0
for a in "$@"; do
  case "$a" in
    build) build=1 ;;
    --json) json=1 ;;
    --dry-run) dry=1 ;;
    show-config|config) config=1 ;;
  esac
  if [ -n "$fail" ]; then
    case "$a" in *"$fail"*) echo "error: fake nix fails $a" >&2; exit 1 ;; esac
  fi
done
if [ $config = 1 ]; then
  [ -f '{config_file}' ] || {{ echo "error: fake nix has no configuration" >&2; exit 1; }}
  cat '{config_file}'
  exit 0
fi
if [ $build = 1 ] && [ $json = 1 ] && [ $dry = 0 ]; then
  printf '[{{"drvPath":"/nix/store/{HASH}-x.drv","outputs":{{"out":"{out}"}}}}]\n'
fi
exit 0
"#,
            log = utf8(&log),
            fail = fail.unwrap_or(""),
            config_file = utf8(&config_file),
            out = Self::out_path(),
        );
        // Installed by a child process, so no writable descriptor of the
        // executable leaks into a concurrently forked process (ETXTBSY).
        let draft = bin.path().join("nix.draft");
        std::fs::write(&draft, script).unwrap();
        let status = std::process::Command::new("install")
            .args(["-m", "755"])
            .arg(&draft)
            .arg(bin.path().join("nix"))
            .status()
            .unwrap();
        assert!(status.success(), "cannot install the fake nix");
        FakeNix { bin, target }
    }

    /// `xtask` with the fake first on PATH and `DOMINIX_KVM` set to `kvm`.
    pub fn xtask(&self, kvm: &str) -> Command {
        let mut cmd = xtask();
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", utf8(self.bin.path())))
            .env("DOMINIX_TARGET_DIR", self.target.path().join("dominix"))
            .env("DOMINIX_KVM", kvm)
            .env_remove("GITHUB_STEP_SUMMARY");
        cmd
    }

    /// `xtask LINE` with the fake, `LINE` split at white space (for command
    /// lines of plain words: no path, nothing quoted).
    pub fn run(&self, kvm: &str, line: &str) -> Output {
        self.xtask(kvm)
            .args(line.split_whitespace())
            .output()
            .unwrap()
    }

    pub fn calls(&self) -> Vec<Vec<String>> {
        let Ok(log) = std::fs::read_to_string(self.bin.path().join("nix.log")) else {
            return Vec::new();
        };
        log.lines()
            .map(|line| {
                line.strip_suffix(SEP)
                    .unwrap_or(line)
                    .split(SEP)
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }

    /// The attributes (after `#`) of the installables of the recorded
    /// `nix build` calls, sorted. How the repository itself is referred to
    /// is nix_argv.rs's business.
    pub fn built(&self) -> Vec<String> {
        let mut built: Vec<String> = self
            .calls()
            .into_iter()
            .filter(|argv| argv.get(2).is_some_and(|a| a == "build"))
            .map(|argv| {
                let installable = &argv[5];
                installable
                    .split_once('#')
                    .map_or(installable.as_str(), |(_, attr)| attr)
                    .to_owned()
            })
            .collect();
        built.sort();
        built
    }

    /// How many times Nix's configuration was asked for.
    pub fn config_queries(&self) -> usize {
        self.calls()
            .iter()
            .filter(|argv| argv.iter().any(|a| a == "show-config" || a == "config"))
            .count()
    }

    /// The `out` path the fake `nix build --json` reports (not in the store).
    pub fn out_path() -> String {
        format!("/nix/store/{HASH}-domi-nix-fake-vm")
    }

    /// The one recorded call.
    pub fn only_call(&self) -> Vec<String> {
        let calls = self.calls();
        assert_eq!(calls.len(), 1, "expected exactly one nix call: {calls:?}");
        calls.into_iter().next().unwrap()
    }

    /// A trunk composed into the fake's target directory.
    pub fn trunk(&self, name: &str) -> PathBuf {
        self.target.path().join("dominix/trunks").join(name)
    }
}
