//! Golden-file tests for the trunk flake. `UPDATE_GOLDEN=1 cargo test -p
//! dominix` rewrites the files instead of comparing.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;

use super::{With, feature, world};
use crate::render::{DOMI_NIX_INPUT, current_input_args};
use crate::{Catalog, Profile, RenderOptions, Selection, System, trunk_flake};
use camino::Utf8PathBuf;

/// What `cargo xtask` passes for a git checkout (`shallow=1`: depth-1 clones work).
const FLAKE_REF: &str = "git+file:///src/domi-nix?shallow=1";

fn golden_dir() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with `tests/golden/<name>`, or rewrites it (atomically:
/// temporary file, then rename) when `UPDATE_GOLDEN=1`.
fn golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        let mut tmp = tempfile::NamedTempFile::new_in(golden_dir()).unwrap();
        tmp.write_all(actual.as_bytes()).unwrap();
        tmp.persist(&path).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {path}: {e}; run `UPDATE_GOLDEN=1 cargo test -p dominix` to create it")
    });
    assert_eq!(
        actual, expected,
        "{path} differs; if the change is intended, run `UPDATE_GOLDEN=1 cargo test -p dominix`"
    );
}

fn opts(command: &str) -> RenderOptions {
    RenderOptions {
        flake_ref: FLAKE_REF.into(),
        system: System::X86_64Linux,
        command: command.into(),
    }
}

#[test]
fn minimal() {
    let res = world()
        .resolve(&Selection::profile(Profile::Minimal))
        .unwrap();
    golden(
        "minimal.nix",
        &trunk_flake(&res, &opts("cargo xtask compose --profile minimal")),
    );
}

#[test]
fn ui_pulls_in_hardening() {
    let res = world().resolve(&Selection::features(["ui"])).unwrap();
    golden(
        "ui.nix",
        &trunk_flake(&res, &opts("cargo xtask compose --features ui")),
    );
}

#[test]
fn ui_and_hardening_requested() {
    let res = world()
        .resolve(&Selection::features(["ui", "hardening"]))
        .unwrap();
    golden(
        "ui-hardening.nix",
        &trunk_flake(&res, &opts("cargo xtask compose --features ui,hardening")),
    );
}

#[test]
fn shared_requirements_on_aarch64() {
    let res = world()
        .resolve(&Selection::features(["web", "ui"]).with_system(System::Aarch64Linux))
        .unwrap();
    let opts = RenderOptions {
        flake_ref: "github:o/domi-nix".into(),
        system: System::Aarch64Linux,
        command: "cargo xtask compose --features web,ui --system aarch64-linux".into(),
    };
    golden("web-ui-aarch64.nix", &trunk_flake(&res, &opts));
}

#[test]
fn hostile_strings_are_escaped() {
    let res = world()
        .resolve(&Selection::features(["hardening"]))
        .unwrap();
    let opts = RenderOptions {
        flake_ref: "git+file:///src/\"domi-nix\"${builtins.abort \"x\"}\\\n".into(),
        system: System::X86_64Linux,
        command: "cargo xtask compose --features hardening\n}; evil = import /etc/passwd; {".into(),
    };
    let out = trunk_flake(&res, &opts);
    assert!(
        !out.contains("\n}; evil"),
        "the command must stay inside the comment"
    );
    assert!(!out.contains("\"domi-nix\"$"), "quotes must be escaped");
    golden("hostile.nix", &out);
}

#[test]
fn unusual_names_are_quoted() {
    // Not a valid catalog, but rendering must still produce valid Nix.
    let c = Catalog::from_features(vec![feature("in"), feature("9lives").requires(&["in"])]);
    let res = c.resolve(&Selection::features(["9lives"])).unwrap();
    golden(
        "quoted-names.nix",
        &trunk_flake(&res, &opts("cargo xtask compose --features 9lives")),
    );
}

#[test]
fn the_trunk_says_how_to_build_today_s_domi_nix() {
    let res = world()
        .resolve(&Selection::features(["hardening"]))
        .unwrap();
    let flake = trunk_flake(&res, &opts("cargo xtask compose --features hardening"));
    let header: String = flake
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ");
    let [override_input, input, _, no_write] = current_input_args(FLAKE_REF);
    assert!(
        header.contains("flake.lock")
            && header.contains(&format!("{override_input} {input} <the url below>"))
            && header.contains(&no_write),
        "{header}"
    );
    assert!(
        flake.contains(&format!("inputs.{DOMI_NIX_INPUT}.url = \"{FLAKE_REF}\";")),
        "{flake}"
    );
}

#[test]
fn golden_files_hold_no_local_paths() {
    let manifest_dir = env!("CARGO_MANIFEST_DIR");
    let mut seen = 0;
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "nix") {
            continue; // e.g. a temporary file of a concurrent UPDATE_GOLDEN run
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Prefixes of build-machine paths, spelled in pieces so this file holds none.
        let work = ["/", "work", "/"].concat();
        for bad in [
            manifest_dir,
            "/home/",
            "/tmp/",
            work.as_str(),
            "/nix/store/",
        ] {
            assert!(!text.contains(bad), "{} contains `{bad}`", path.display());
        }
        assert!(
            text.ends_with("}\n"),
            "{} must end with a newline",
            path.display()
        );
        seen += 1;
    }
    if std::env::var("UPDATE_GOLDEN").is_err() {
        assert_eq!(seen, 6, "expected one golden file per rendering test");
    }
}
