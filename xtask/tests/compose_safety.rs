//! `compose` under interrupts, kills, concurrency and a umask: the output is
//! always the old trunk, the new one or absent — never half-written — no
//! staging directory outlives the runs, and files get ordinary permissions.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use common::{assert_exit, root};

fn xtask_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("xtask")
}

fn spawn_compose(features: &str, out: &Path) -> Child {
    Command::new(xtask_bin())
        .env("DOMINIX_ROOT", root())
        .args(["compose", "--features", features, "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn compose(features: &str, out: &Path) -> std::process::Output {
    spawn_compose(features, out).wait_with_output().unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    // The process may have finished already; that is fine too.
    let _ = status;
}

/// The flake.nix each selection composes to, from an undisturbed run.
fn reference(features: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trunk");
    let output = compose(features, &out);
    assert_exit(&output, 0);
    std::fs::read_to_string(out.join("flake.nix")).unwrap()
}

/// Names in `dir` other than `keep`.
fn leftovers(dir: &Path, keep: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != keep)
        .collect()
}

/// `out` is a whole trunk: its marker and one of `valid` flakes, or absent.
fn assert_whole(out: &Path, valid: &[&str], context: &str) {
    if !out.exists() {
        return;
    }
    let flake = std::fs::read_to_string(out.join("flake.nix"))
        .unwrap_or_else(|e| panic!("{context}: {} has no flake.nix ({e})", out.display()));
    assert!(
        valid.contains(&flake.as_str()),
        "{context}: half-written flake.nix:\n{flake}"
    );
    assert!(
        out.join(".domi-nix-trunk").is_file(),
        "{context}: no marker"
    );
    let names = leftovers(out, "");
    assert_eq!(
        names.len(),
        2,
        "{context}: unexpected files in the trunk: {names:?}"
    );
}

/// Composes `ui` into `out`; how long that took.
fn run_time(out: &Path) -> Duration {
    let start = std::time::Instant::now();
    let output = compose("ui", out);
    assert_exit(&output, 0);
    start.elapsed()
}

/// Round `round` of a disturbed series: `ui,hardening` (even rounds) or `ui`
/// composed into `out`, sent `signal_name` after `span * round / spread` —
/// from before the handlers are installed to after the swap, spread over one
/// undisturbed run's time on this machine, now.
fn disturbed(out: &Path, round: u32, span: Duration, spread: u32, signal_name: &str) -> Child {
    let features = if round.is_multiple_of(2) {
        "ui,hardening"
    } else {
        "ui"
    };
    let child = spawn_compose(features, out);
    std::thread::sleep(span * round / spread);
    signal(&child, signal_name);
    child
}

fn wait(mut child: Child) -> (ExitStatus, String) {
    let status = child.wait().unwrap();
    let mut err = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut err);
    }
    (status, err)
}

#[test]
fn interrupted_at_any_moment_compose_leaves_a_whole_trunk_and_no_staging() {
    let (ui, both) = (reference("ui"), reference("ui,hardening"));
    let valid = [ui.as_str(), both.as_str()];
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trunk");
    let span = run_time(&out);
    let mut interrupted = 0;
    for round in 0..40u32 {
        let signal_name = ["INT", "TERM", "HUP"][(round % 3) as usize];
        let (status, err) = wait(disturbed(&out, round, span, 36, signal_name));
        let context = format!("round {round} ({status})");
        // Exit 0 (done before the signal), 1 (interrupted), or killed by
        // the signal before the handlers were installed (nothing written).
        assert!(
            matches!(status.code(), Some(0 | 1) | None),
            "{context}: {err}"
        );
        if status.code() == Some(1) {
            interrupted += 1;
            assert!(err.contains("interrupted"), "{context}: {err}");
            assert!(!err.contains("panicked"), "{context}: {err}");
        }
        assert_whole(&out, &valid, &context);
        assert_eq!(
            leftovers(tmp.path(), "trunk"),
            Vec::<String>::new(),
            "{context}: staging left behind"
        );
    }
    // The signals landed inside the write, not only before or after it.
    assert!(interrupted > 0, "no round was interrupted mid-compose");
}

#[test]
fn killed_outright_compose_leaves_a_whole_trunk_and_the_next_run_sweeps() {
    let (ui, both) = (reference("ui"), reference("ui,hardening"));
    let valid = [ui.as_str(), both.as_str()];
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trunk");
    let span = run_time(&out);
    let mut mid_write = 0;
    for round in 0..25u32 {
        let _ = wait(disturbed(&out, round, span, 22, "KILL"));
        assert_whole(&out, &valid, &format!("SIGKILL round {round}"));
        mid_write += usize::from(!leftovers(tmp.path(), "trunk").is_empty());
    }
    // Some kills landed mid-write (they left a staging directory behind).
    assert!(mid_write > 0, "no kill landed inside the write");
    let last = compose("ui", &out);
    assert_exit(&last, 0);
    assert_whole(&out, &[ui.as_str()], "after the kills");
    assert_eq!(
        leftovers(tmp.path(), "trunk"),
        Vec::<String>::new(),
        "a killed run's staging directory survived the next run"
    );
}

#[test]
fn concurrent_composes_into_one_output_serialise() {
    let (ui, both, hardening) = (
        reference("ui"),
        reference("ui,hardening"),
        reference("hardening"),
    );
    let valid = [ui.as_str(), both.as_str(), hardening.as_str()];
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trunk");
    let children: Vec<Child> = (0..8)
        .map(|i| spawn_compose(["ui", "ui,hardening", "hardening"][i % 3], &out))
        .collect();
    for child in children {
        let (status, err) = wait(child);
        assert_eq!(status.code(), Some(0), "{err}");
    }
    assert_whole(&out, &valid, "after 8 concurrent runs");
    assert!(out.exists());
    assert_eq!(leftovers(tmp.path(), "trunk"), Vec::<String>::new());
}

#[test]
fn the_trunk_gets_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trunk");
    for round in 0..2 {
        // The second round replaces the first trunk.
        let status = Command::new("sh")
            .args(["-c", "umask 022; exec \"$0\" \"$@\""])
            .arg(xtask_bin())
            .env("DOMINIX_ROOT", root())
            .args(["compose", "--features", "ui", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), 0o755, "round {round}: the trunk directory");
        assert_eq!(mode(&out.join("flake.nix")), 0o644, "round {round}");
        assert_eq!(mode(&out.join(".domi-nix-trunk")), 0o644, "round {round}");
    }
}
