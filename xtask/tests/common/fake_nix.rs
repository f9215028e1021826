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
            r##"#!/bin/sh
# Recording nix for the xtask tests: one line per call, arguments separated by US.
for a in "$@"; do printf '%s\037' "$a"; done >> '{log}'
printf '\n' >> '{log}'
fail='{fail}'
built='{built}'
hash='{HASH}'
build=0; json=0; dry=0; config=0; eval=0; pathinfo=0
for a in "$@"; do
  case "$a" in
    --version) echo "nix (Nix) ${{FAKE_NIX_VERSION:-2.8.0}}"; exit 0 ;;
    build) build=1 ;;
    eval) eval=1 ;;
    path-info) pathinfo=1 ;;
    --json) json=1 ;;
    --dry-run) dry=1 ;;
    show-config|config) config=1 ;;
  esac
done
if [ $config = 1 ]; then
  [ -f '{config_file}' ] || {{ echo "error: fake nix has no configuration" >&2; exit 1; }}
  cat '{config_file}'
  exit 0
fi
# The name a fake derivation gets from a cell's expression (cells.nix).
name_of() {{
  printf '%s' "$1" | sed -e 's/"//g' -e 's/^flake\.//' \
    -e 's/^(lib\.mkSystem {{system = \([^;]*\); features = \[\([^]]*\)\];}})\.config\.system\.build\.toplevel$/system.\1.\2/' \
    -e 's/[^A-Za-z0-9._+-]/-/g'
}}
if [ $eval = 1 ]; then
  # `nix eval --json --impure --expr 'import "<dir>/eval.nix" {{…}}'`:
  # every attribute of <dir>/cells.nix (or the one `only` names).
  expr=""; prev=""
  for a in "$@"; do [ "$prev" = "--expr" ] && expr="$a"; prev="$a"; done
  dir=$(printf '%s' "$expr" | sed -n 's/^import "\(.*\)\/eval\.nix".*/\1/p')
  only=$(printf '%s' "$expr" | sed -n 's/.*only = "\([^"]*\)".*/\1/p')
  [ -n "$dir" ] || {{ echo "error: fake nix evaluates only the matrix's cells" >&2; exit 1; }}
  sep=""; printf '{{'
  sed -n 's/^  \([a-z0-9]*\) = \(.*\);$/\1 \2/p' "$dir/cells.nix" | while read -r key expr; do
    [ -n "$only" ] && [ "$key" != "$only" ] && continue
    name=$(name_of "$expr")
    case "$name" in *"$fail"*) if [ -n "$fail" ] && [ "$FAKE_FAIL_EVAL" = 1 ]; then
      printf '%s"%s":{{"error":"fake evaluation error"}}' "$sep" "$key"; sep=","; continue; fi ;; esac
    printf '%s"%s":{{"drvPath":"/nix/store/%s-%s.drv","outputs":{{"out":"/nix/store/%s-%s"}}}}' "$sep" "$key" "$hash" "$name" "$hash" "$name"
    sep=","
  done
  printf '}}\n'
  exit 0
fi
if [ $pathinfo = 1 ]; then
  # Valid: what a fake build built (in whatever store), what the test
  # marked valid (locally, or in every --store), and sources (the seeded inputs).
  valid='{valid}'; prev=""
  for a in "$@"; do [ "$prev" = "--store" ] && valid='{valid_store}'; prev="$a"; done
  sep=""; printf '['
  for a in "$@"; do
    case "$a" in /nix/store/*) ;; *) continue ;; esac
    if grep -qxF "$a" "$built" 2>/dev/null || grep -qxF "$a" "$valid" 2>/dev/null; then
      printf '%s{{"path":"%s","narHash":"sha256-x","narSize":1}}' "$sep" "$a"
    else case "$a" in
      *-source) printf '%s{{"path":"%s","narHash":"sha256-x","narSize":1}}' "$sep" "$a" ;;
      *) printf '%s{{"path":"%s","valid":false}}' "$sep" "$a" ;;
    esac fi
    sep=","
  done
  printf ']\n'
  exit 0
fi
if [ $build = 1 ]; then
  failed=0; sep=""; out=""
  for a in "$@"; do
    case "$a" in
      *.drv|*.drv^\*) drv="${{a%^*}}" ;;
      *"#"*) drv="" ;;
      *) continue ;;
    esac
    if [ -n "$fail" ]; then
      case "$a" in *"$fail"*)
        printf '@nix {{"action":"msg","level":0,"msg":"error: builder for %s failed with exit code 1"}}\n' "'$drv'" >&2
        echo "error: fake nix fails $a" >&2
        failed=1; continue ;;
      esac
    fi
    [ $dry = 1 ] && continue
    if [ -n "$drv" ]; then
      path="${{drv%.drv}}"
      echo "$path" >> "$built"
    else
      drv="/nix/store/$hash-x.drv"; path='{out}'
    fi
    out="$out$sep{{\"drvPath\":\"$drv\",\"outputs\":{{\"out\":\"$path\"}}}}"; sep=","
  done
  [ $failed = 1 ] && exit 1
  [ $json = 1 ] && [ $dry = 0 ] && printf '[%s]\n' "$out"
  exit 0
fi
exit 0
"##,
            log = utf8(&log),
            fail = fail.unwrap_or(""),
            config_file = utf8(&config_file),
            built = utf8(&bin.path().join("built.txt")),
            valid = utf8(&bin.path().join("valid.txt")),
            valid_store = utf8(&bin.path().join("valid-in-store.txt")),
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

    /// What the recorded `nix build` calls built, sorted: the attribute
    /// (after `#`) of a flake installable, or the name of a derivation the
    /// fake's evaluation made (`checks.<system>.<feature>`,
    /// `system.<system>.<feature>`). How the repository itself is referred
    /// to is nix_argv.rs's business.
    pub fn built(&self) -> Vec<String> {
        let mut built: Vec<String> = self
            .builds()
            .iter()
            .flat_map(|argv| argv.iter().filter_map(|a| Self::built_name(a)))
            .collect();
        built.sort();
        built
    }

    /// The attribute or derivation name `arg` of a `nix build` call builds.
    fn built_name(arg: &str) -> Option<String> {
        if let Some((_, attr)) = arg.split_once('#') {
            return Some(attr.to_owned());
        }
        let drv = arg.strip_suffix("^*").unwrap_or(arg).strip_suffix(".drv")?;
        let name = drv.strip_prefix(&format!("/nix/store/{HASH}-"))?;
        Some(name.to_owned())
    }

    /// The recorded `nix build` calls.
    pub fn builds(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|argv| argv.get(2).is_some_and(|a| a == "build"))
            .collect()
    }

    /// Marks store paths valid for the fake's `path-info` (already built).
    pub fn mark_valid(&self, paths: &[String]) {
        std::fs::write(self.bin.path().join("valid.txt"), paths.join("\n") + "\n").unwrap();
    }

    /// Marks store paths valid in every store given with `--store` (a
    /// substituter, say) for the fake's `path-info`.
    pub fn mark_valid_in_store(&self, paths: &[String]) {
        std::fs::write(
            self.bin.path().join("valid-in-store.txt"),
            paths.join("\n") + "\n",
        )
        .unwrap();
    }

    /// The directory the fake is in (to put other fakes next to it).
    pub fn bin_dir(&self) -> &std::path::Path {
        self.bin.path()
    }

    /// The out path the fake gives the derivation named `name`.
    pub fn out_of(name: &str) -> String {
        format!("/nix/store/{HASH}-{name}")
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
