//! The command lines of many builds at once: evaluating the derivations of
//! a set of cells, asking stores which outputs they hold, building every
//! missing one in one Nix, and pushing results to a cache.
//!
//! Each is written for Nix 2.8 (Debian 12) and current Nix / Lix alike;
//! where the two differ the function says so:
//!
//! - a derivation to build is `/nix/store/…drv` for Nix < 2.13 and
//!   `/nix/store/…drv^*` from 2.13 on ([`drv_installable`]; since 2.15 a
//!   bare `.drv` names the file itself, NixOS/nix#7600);
//! - `nix path-info --json` answers a list of `{"path", "valid"?}` before
//!   2.19 and an object keyed by path (`null` when invalid) since
//!   ([`valid_paths`] reads both);
//! - `nix path-info` of a missing path substitutes it in 2.8 unless told not
//!   to (`--no-substitute`; later versions never substitute there).
//!
//! Every option used here exists in 2.8: `--keep-going`, `--max-jobs`,
//! `--timeout` (Nix's per-derivation build timeout), `--builders`,
//! `--store`, `--eval-store`, `--substituters`, `--trusted-public-keys`,
//! `--log-format internal-json`, `-v`, `nix copy --to`, `nix store ping`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::NixCommand;

/// Where and how builds run: what the xtask passes through to Nix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildOptions {
    /// `--builders SPEC`: remote build machines (Nix's `builders` syntax).
    pub builders: Option<String>,
    /// `--store URL`, e.g. `ssh-ng://host`: where builds run and results live.
    pub store: Option<String>,
    /// `--eval-store URL`; `auto` (the local store) when only `store` is given.
    pub eval_store: Option<String>,
    /// `--substituters URLS` (space-separated), replacing the configured ones.
    pub substituters: Option<String>,
    /// `--trusted-public-keys KEYS` (space-separated).
    pub trusted_public_keys: Option<String>,
    /// `--max-jobs N` or `auto`: builds Nix runs at once.
    pub max_jobs: Option<String>,
    /// Nix's own `timeout`: a derivation building longer is stopped by Nix
    /// (its builder's process group killed) and reported timed out; the
    /// other builds go on.
    pub build_timeout: Option<Duration>,
}

impl BuildOptions {
    /// The options that say where paths live and come from (for builds,
    /// queries and copies): `--store`, `--eval-store`, `--substituters`,
    /// `--trusted-public-keys`, `--builders`.
    pub fn store_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut push = |flag: &str, value: &Option<String>| {
            if let Some(value) = value {
                args.extend([flag.to_owned(), value.clone()]);
            }
        };
        push("--store", &self.store);
        let eval_store = self
            .eval_store
            .clone()
            .or_else(|| self.store.as_ref().map(|_| "auto".to_owned()));
        push("--eval-store", &eval_store);
        push("--substituters", &self.substituters);
        push("--trusted-public-keys", &self.trusted_public_keys);
        push("--builders", &self.builders);
        args
    }

    /// [`BuildOptions::store_args`] plus how to build: `--keep-going` (a
    /// failure never stops the other builds), `--max-jobs`, `--timeout`.
    pub fn build_args(&self) -> Vec<String> {
        let mut args = vec!["--keep-going".to_owned()];
        if let Some(jobs) = &self.max_jobs {
            args.extend(["--max-jobs".to_owned(), jobs.clone()]);
        }
        if let Some(timeout) = self.build_timeout {
            let secs = timeout.as_secs().max(1);
            args.extend(["--timeout".to_owned(), secs.to_string()]);
        }
        args.extend(self.store_args());
        args
    }
}

/// What makes Nix report progress as JSON lines on stderr (`@nix {…}`), at
/// the verbosity that includes build starts, log lines and progress counts.
pub const PROGRESS_ARGS: [&str; 3] = ["--log-format", "internal-json", "-v"];

/// How `nix build` names the outputs of the derivation `drv` on Nix
/// `version`: `drv^*` from 2.13 on, the bare `drv` before (2.8 does not
/// know `^`; since 2.15 a bare `.drv` is the derivation file itself).
/// Unknown versions get the current syntax.
pub fn drv_installable(drv: &str, version: Option<(u32, u32)>) -> String {
    match version {
        Some(v) if v < (2, 13) => drv.to_owned(),
        _ => format!("{drv}^*"),
    }
}

/// `nix eval --json --impure --expr EXPR`: `--impure` because the cells'
/// expression reads an unlocked flake (`builtins.getFlake` of a checkout)
/// and a file under target/.
pub fn eval_json(expr: &str) -> NixCommand {
    NixCommand::nix("eval").args(["--json", "--impure", "--expr", expr])
}

/// `nix eval --json FLAKE#checks --apply …`: the names of a flake's checks,
/// by system.
pub fn check_names(flake: &str) -> NixCommand {
    NixCommand::nix("eval").args([
        "--json",
        &format!("{flake}#checks"),
        "--apply",
        "builtins.mapAttrs (_: builtins.attrNames)",
    ])
}

/// `nix-eval-jobs --impure --check-cache-status --workers N --gc-roots-dir DIR FILE`
/// (plus where paths live): evaluates every attribute of the attribute set
/// in `file`, one JSON line each with `drvPath`, `outputs` and `cacheStatus`
/// (`local`, `cached`, `notBuilt`; older versions: `isCached`).
pub fn eval_jobs(file: &str, workers: usize, gc_roots: &str, options: &BuildOptions) -> NixCommand {
    NixCommand::eval_jobs()
        .args(["--impure", "--check-cache-status"])
        .args(["--workers", &workers.max(1).to_string()])
        .args(["--gc-roots-dir", gc_roots])
        .args(options.store_args())
        .arg(file)
}

/// `nix build --json --no-link --log-format internal-json -v --keep-going …
/// INSTALLABLES`: every derivation handed to one Nix, which schedules them
/// and shares their common dependencies.
pub fn build_all<S: AsRef<str>>(installables: &[S], options: &BuildOptions) -> NixCommand {
    NixCommand::nix("build")
        .args(["--json", "--no-link"])
        .args(PROGRESS_ARGS)
        .args(options.build_args())
        .args(installables.iter().map(AsRef::as_ref))
}

/// `nix path-info --json --no-substitute [--store URL] PATHS`: which of
/// `paths` are valid in the store (`None`: the configured one).
pub fn path_info<S: AsRef<str>>(paths: &[S], store: Option<&str>) -> NixCommand {
    let store = store.map(|s| ["--store", s]);
    NixCommand::nix("path-info")
        .args(["--json", "--no-substitute"])
        .args(store.into_iter().flatten())
        .args(paths.iter().map(AsRef::as_ref))
}

/// The paths `nix path-info --json` reports valid: Nix < 2.19 answers a
/// list of objects with `path` (and `"valid": false` for an invalid one),
/// Nix ≥ 2.19 an object keyed by path whose value is `null` when invalid.
pub fn valid_paths(json: &str) -> Result<BTreeSet<String>, String> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| format!("`nix path-info --json` answered something that is not JSON ({e})"))?;
    match value {
        Value::Array(items) => Ok(items
            .iter()
            .filter(|i| i.get("valid") != Some(&Value::Bool(false)))
            .filter_map(|i| i.get("path")?.as_str().map(str::to_owned))
            .collect()),
        Value::Object(map) => Ok(map
            .into_iter()
            .filter(|(_, info)| !info.is_null())
            .map(|(path, _)| path)
            .collect()),
        other => Err(format!(
            "`nix path-info --json` answered {other}, neither a list nor an object"
        )),
    }
}

/// `nix copy --to URL [--store …] PATHS`: results pushed to a binary cache.
pub fn copy_to<S: AsRef<str>>(url: &str, paths: &[S], options: &BuildOptions) -> NixCommand {
    let store = options.store.as_ref().map(|s| ["--store", s.as_str()]);
    NixCommand::nix("copy")
        .args(["--to", url])
        .args(store.into_iter().flatten())
        .args(paths.iter().map(AsRef::as_ref))
}

/// `nix log DRV`: the whole build log of a derivation (printed for a
/// failed build, for what the last lines do not show).
pub fn log(drv: &str) -> NixCommand {
    NixCommand::nix("log").arg(drv)
}

/// `nix store ping --store URI`: whether Nix can reach a store (a remote
/// builder's), with Nix's own message when it cannot.
pub fn store_ping(uri: &str) -> NixCommand {
    NixCommand::nix("store").args(["ping", "--store", uri])
}

/// One derivation as the cells' evaluation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Derivation {
    #[serde(rename = "drvPath")]
    pub drv_path: String,
    /// Output name → store path.
    pub outputs: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivations_are_named_as_each_nix_wants() {
        let drv = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-ok.drv";
        assert_eq!(drv_installable(drv, Some((2, 8))), drv);
        assert_eq!(drv_installable(drv, Some((2, 12))), drv);
        assert_eq!(drv_installable(drv, Some((2, 13))), format!("{drv}^*"));
        assert_eq!(drv_installable(drv, Some((2, 28))), format!("{drv}^*"));
        assert_eq!(
            drv_installable(drv, Some((2, 91))),
            format!("{drv}^*"),
            "Lix"
        );
        assert_eq!(drv_installable(drv, None), format!("{drv}^*"));
    }

    #[test]
    fn path_info_of_nix_2_8_and_of_current_nix() {
        // Nix 2.8 (recorded here): a list; invalid paths say so.
        let old = r#"[{"path":"/nix/store/8dyd1hvrc7qaajmsqmc6nxzh480i2izh-bad","valid":false},{"path":"/nix/store/dx8mxn7xh9s4raski94rcflww3qklrjx-ok","narHash":"sha256-2PNF8sp6JG1nf+S+xUt53bVOl8AqrJ5Fpp7GmMcXdFw=","narSize":120,"references":[],"ultimate":true}]"#;
        assert_eq!(
            valid_paths(old).expect("parses"),
            BTreeSet::from(["/nix/store/dx8mxn7xh9s4raski94rcflww3qklrjx-ok".to_owned()])
        );
        // Nix ≥ 2.19: an object keyed by path, null when invalid.
        let new = r#"{"/nix/store/8dyd1hvrc7qaajmsqmc6nxzh480i2izh-bad":null,"/nix/store/dx8mxn7xh9s4raski94rcflww3qklrjx-ok":{"narHash":"sha256-x","narSize":120}}"#;
        assert_eq!(valid_paths(new), valid_paths(old));
        assert!(valid_paths("[]").expect("empty").is_empty());
        assert!(valid_paths("not json").is_err());
        assert!(valid_paths("3").is_err());
    }

    #[test]
    fn build_options_pass_through_in_one_order() {
        let options = BuildOptions {
            builders: Some("ssh://arm aarch64-linux".into()),
            store: Some("ssh-ng://big".into()),
            substituters: Some("file:///cache https://c".into()),
            trusted_public_keys: Some("k:1".into()),
            max_jobs: Some("4".into()),
            build_timeout: Some(Duration::from_secs(90)),
            ..BuildOptions::default()
        };
        assert_eq!(
            options.build_args(),
            [
                "--keep-going",
                "--max-jobs",
                "4",
                "--timeout",
                "90",
                "--store",
                "ssh-ng://big",
                "--eval-store",
                "auto",
                "--substituters",
                "file:///cache https://c",
                "--trusted-public-keys",
                "k:1",
                "--builders",
                "ssh://arm aarch64-linux",
            ]
        );
        assert_eq!(BuildOptions::default().store_args(), Vec::<String>::new());
        let explicit = BuildOptions {
            store: Some("ssh-ng://big".into()),
            eval_store: Some("daemon".into()),
            ..BuildOptions::default()
        };
        assert_eq!(
            explicit.store_args(),
            ["--store", "ssh-ng://big", "--eval-store", "daemon"]
        );
    }

    #[test]
    fn the_build_of_everything_is_one_nix_call() {
        let argv = build_all(
            &["/nix/store/a.drv", "/nix/store/b.drv"],
            &BuildOptions::default(),
        )
        .argv();
        assert_eq!(
            argv[3..],
            [
                "build",
                "--json",
                "--no-link",
                "--log-format",
                "internal-json",
                "-v",
                "--keep-going",
                "/nix/store/a.drv",
                "/nix/store/b.drv"
            ]
        );
        let query = path_info(&["/nix/store/a"], Some("file:///c")).argv();
        assert_eq!(
            query[3..],
            [
                "path-info",
                "--json",
                "--no-substitute",
                "--store",
                "file:///c",
                "/nix/store/a"
            ]
        );
    }
}
