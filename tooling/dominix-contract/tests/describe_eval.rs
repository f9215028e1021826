//! Evaluates the contract with Nix for real: `describe` must produce JSON that
//! compares clean with itself and is the recorded `tests/fixtures/contract.json`
//! (`UPDATE_FIXTURES=1` re-records it), and the contract module must accept
//! good settings and reject a wrongly typed one.
//!
//! Runs where `nix-instantiate` exists and a nixpkgs `lib` is at hand: the one
//! `DOMINIX_NIXPKGS_LIB` points to (the `lib` directory itself, or a directory
//! containing `lib/`), else the nixpkgs-lib pinned in flake.lock when it is in
//! the Nix store (`cargo xtask seed`). Otherwise it prints
//! `SKIP contract-describe: …` past the harness' capture — or panics, when
//! `DOMINIX_REQUIRE_EVAL=1`. The recording is `describe` with the pinned
//! nixpkgs-lib (type descriptions depend on the lib): with another lib only
//! its entries are compared, and it cannot be re-recorded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dominix_contract::compare;
use dominix_testing::recording;
use serde_json::Value;

const NAME: &str = "contract-describe";

/// Re-records `tests/fixtures/contract.json`.
const REFRESH: &str = "UPDATE_FIXTURES=1 cargo test -p dominix-contract --test describe_eval";

/// Re-records `tests/fixtures/nixpkgs-matching.json`, which changes with the contract too.
const REFRESH_NIXPKGS: &str =
    "UPDATE_FIXTURES=1 cargo test --manifest-path xtask/Cargo.toml --test contract_verify";

struct Nix {
    lib: PathBuf,
    contract: PathBuf,
    /// Whether `lib` is the nixpkgs-lib pinned in flake.lock.
    pinned: bool,
}

/// Skips (or, under `DOMINIX_REQUIRE_EVAL=1` or `UPDATE_FIXTURES=1`, fails)
/// with a reason and a fix.
fn skip(reason: &str, fix: &str) -> Option<Nix> {
    assert!(
        !recording::updating(),
        "UPDATE_FIXTURES=1 cannot re-record tests/fixtures/contract.json here: {reason}. Fix: {fix}"
    );
    dominix_eval::skip::skip_test(&format!("SKIP {NAME}: {reason} — {fix}"));
    None
}

/// The store path of the nixpkgs-lib pinned in flake.lock, if it is in the store.
fn pinned_lib() -> Option<PathBuf> {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flake.lock");
    let lock: Value = serde_json::from_str(&std::fs::read_to_string(lock).ok()?).ok()?;
    let node = lock["nodes"]["root"]["inputs"]["nixpkgs-lib"].as_str()?;
    let nar_hash = lock["nodes"][node]["locked"]["narHash"].as_str()?;
    let output = Command::new("nix-store")
        .args(["--print-fixed-path", "--recursive", "sha256"])
        .args([nar_hash, "source"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    path.join("lib").is_dir().then_some(path)
}

fn nix() -> Option<Nix> {
    match Command::new("nix-instantiate").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        Ok(_) | Err(_) => {
            return skip(
                "`nix-instantiate` is not available",
                "install Nix (2.8 or newer) and put it on PATH",
            );
        }
    }
    let pinned = pinned_lib();
    let Some(dir) = std::env::var_os("DOMINIX_NIXPKGS_LIB")
        .map(PathBuf::from)
        .or_else(|| pinned.clone())
    else {
        return skip(
            "no nixpkgs lib: DOMINIX_NIXPKGS_LIB is not set and the pinned nixpkgs-lib is not in the Nix store",
            "run `cargo xtask seed nixpkgs-lib --from <a nixpkgs.lib checkout>`, or set DOMINIX_NIXPKGS_LIB to a nixpkgs lib source tree",
        );
    };
    let lib = if dir.join("default.nix").is_file() && dir.join("types.nix").is_file() {
        dir
    } else if dir.join("lib/default.nix").is_file() && dir.join("lib/types.nix").is_file() {
        dir.join("lib")
    } else {
        return skip(
            &format!("DOMINIX_NIXPKGS_LIB={} holds no nixpkgs lib", dir.display()),
            "point it at a directory with types.nix and default.nix, or one containing lib/",
        );
    };
    let contract = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../nix-modules/contract");
    assert!(
        contract.join("default.nix").is_file(),
        "no contract at {}",
        contract.display()
    );
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    let pinned = pinned.is_some_and(|p| same(&p.join("lib"), &lib));
    Some(Nix {
        lib,
        contract,
        pinned,
    })
}

impl Nix {
    /// `nix-instantiate --eval --strict --json` of `expr`, a function of
    /// `{ lib, contract }` (both passed as strings, never pasted into Nix code).
    fn eval(&self, expr: &str) -> Output {
        let lib = self.lib.to_str().expect("lib path is UTF-8");
        let contract = self.contract.to_str().expect("contract path is UTF-8");
        let wrapped = format!(
            "{{libDir, contractDir}}: let lib = import libDir; contract = import contractDir {{inherit lib;}}; in ({expr})"
        );
        Command::new("nix-instantiate")
            .args(["--extra-experimental-features", "nix-command flakes"])
            .args(["--eval", "--strict", "--json", "--expr", &wrapped])
            .args([
                "--argstr",
                "libDir",
                lib,
                "--argstr",
                "contractDir",
                contract,
            ])
            .output()
            .expect("nix-instantiate runs")
    }

    fn eval_json(&self, expr: &str) -> Value {
        let output = self.eval(expr);
        assert!(
            output.status.success(),
            "nix-instantiate failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("nix-instantiate printed JSON")
    }
}

fn keys(value: &Value, field: &str) -> BTreeSet<String> {
    value[field]
        .as_object()
        .unwrap_or_else(|| panic!("`{field}` is an object"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn describe_evaluates_and_is_the_recording() {
    let Some(nix) = nix() else { return };
    let described = nix.eval_json("contract.describe");

    let report = compare(&described, &described).expect("describe has the documented shape");
    assert!(report.is_ok(), "{report}");
    assert!(report.warnings().next().is_none(), "{report}");

    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contract.json");
    let fix = format!("{REFRESH}`, then `{REFRESH_NIXPKGS}");
    if nix.pinned {
        recording::check(&recorded, &described, &fix);
    } else {
        assert!(
            !recording::updating(),
            "{} is `describe` with the nixpkgs-lib pinned in flake.lock, not with DOMINIX_NIXPKGS_LIB={}. \
             Fix: unset DOMINIX_NIXPKGS_LIB (and `cargo xtask seed nixpkgs-lib` if the pinned one is not in the store)",
            recorded.display(),
            nix.lib.display()
        );
        let recorded: Value = std::fs::read_to_string(&recorded)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| panic!("cannot read {}. Fix: run `{fix}`", recorded.display()));
        for field in ["options", "pkgs"] {
            assert_eq!(
                keys(&described, field),
                keys(&recorded, field),
                "the contract's {field} changed: the recording tests/fixtures/contract.json is stale. Fix: run `{fix}`"
            );
        }
    }

    // Every option entry names a nixpkgs file and a type.
    for (path, entry) in described["options"].as_object().expect("options object") {
        let files = entry["declaredIn"]
            .as_array()
            .expect("declaredIn is a list");
        assert!(
            files.len() == 1
                && files[0]
                    .as_str()
                    .is_some_and(|f| f.starts_with("nixos/modules/") && f.ends_with(".nix")),
            "{path}: declaredIn {files:?}"
        );
        assert!(
            entry["type"].as_str().is_some_and(|t| !t.is_empty()),
            "{path}: no type"
        );
    }
}

const MODULE_EVAL: &str = r#"
  let
    evaluated = contract.evaluate {
      context = "system";
      modules = [
        ({ pkgs, ... }: {
          boot.kernel.sysctl."kernel.kptr_restrict" = 2;
          boot.blacklistedKernelModules = [ "dccp" ];
          users.users.domi = { isNormalUser = true; shell = pkgs.bashInteractive; };
          environment.etc."x".text = "y";
          environment.systemPackages = [ pkgs.jq ];
          BAD
        })
      ];
    };
    c = evaluated.config;
  in {
    sysctl = c.boot.kernel.sysctl."kernel.kptr_restrict";
    blacklist = c.boot.blacklistedKernelModules;
    home = c.users.users.domi.home;
    etcTarget = c.environment.etc."x".target;
    etcSource = c.environment.etc."x".source.outPath;
    packages = map (p: p.outPath) c.environment.systemPackages;
    params = c.boot.kernelParams;
  }
"#;

#[test]
fn module_accepts_good_settings_and_rejects_a_wrong_type() {
    let Some(nix) = nix() else { return };

    let good = nix.eval_json(&MODULE_EVAL.replace("BAD", ""));
    assert_eq!(good["sysctl"], 2);
    assert_eq!(good["blacklist"], serde_json::json!(["dccp"]));
    assert_eq!(good["home"], "/home/domi");
    assert_eq!(good["etcTarget"], "x");
    let store_path = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.strip_prefix("/nix/store/").is_some_and(|rest| {
                rest.len() > 33
                    && rest.as_bytes()[32] == b'-'
                    && rest[..32]
                        .chars()
                        .all(|c| "0123456789abcdfghijklmnpqrsvwxyz".contains(c))
            })
        })
    };
    assert!(store_path(&good["etcSource"]), "{}", good["etcSource"]);
    assert!(
        good["packages"]
            .as_array()
            .is_some_and(|p| p.iter().all(store_path)
                && p.iter()
                    .any(|x| x.as_str().is_some_and(|s| s.ends_with("-jq")))),
        "{}",
        good["packages"]
    );

    let bad = nix.eval(&MODULE_EVAL.replace("BAD", r#"boot.kernelParams = "x";"#));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success(),
        "a string for boot.kernelParams must be rejected"
    );
    assert!(
        stderr.contains("boot.kernelParams") && stderr.contains("is not of type"),
        "{stderr}"
    );
}
