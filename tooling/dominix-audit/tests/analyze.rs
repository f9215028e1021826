//! The analyzer against systemd's real `systemd-analyze` (≥ 250), on unit
//! files written here by hand, and against broken stand-ins of it.
//!
//! Where `systemd-analyze` is missing or too old, each test prints
//! `SKIP audit: …` (a failure under `DOMINIX_REQUIRE_EVAL=1`).

use std::path::Path;

use camino::Utf8PathBuf;
use dominix_audit::analyze::Analyzer;
use dominix_audit::fixes::bring_under;
use dominix_audit::{AuditError, Band, Exposure, Unavailable, UnitFile};

const BARE: &str = "[Unit]\nDescription=bare\n\n[Service]\nExecStart=/bin/true\n";

/// The sandboxing branch's profile, written out as systemd reads it.
const SANDBOXED: &str = "[Unit]\nDescription=sandboxed\n\n[Service]\nExecStart=/bin/true\n\
DynamicUser=true\nProtectSystem=strict\nProtectHome=true\nPrivateTmp=true\nPrivateDevices=true\n\
PrivateUsers=true\nPrivateMounts=true\nNoNewPrivileges=true\nCapabilityBoundingSet=\nAmbientCapabilities=\n\
RestrictAddressFamilies=AF_UNIX\nRestrictAddressFamilies=AF_INET\nRestrictAddressFamilies=AF_INET6\n\
RestrictNamespaces=true\nSystemCallArchitectures=native\nSystemCallFilter=@system-service\n\
SystemCallFilter=~@privileged @resources\nMemoryDenyWriteExecute=true\nLockPersonality=true\n\
ProtectKernelTunables=true\nProtectKernelModules=true\nProtectKernelLogs=true\nProtectControlGroups=true\n\
ProtectClock=true\nProtectHostname=true\nProtectProc=invisible\nProcSubset=pid\nRestrictRealtime=true\n\
RestrictSUIDSGID=true\nRemoveIPC=true\nUMask=0077\nIPAddressDeny=any\nIPAddressAllow=localhost\n\
DevicePolicy=closed\n";

struct Dir {
    _tmp: tempfile::TempDir,
    path: Utf8PathBuf,
}

fn dir() -> Dir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = Utf8PathBuf::from_path_buf(tmp.path().to_owned()).expect("UTF-8 temp dir");
    Dir { _tmp: tmp, path }
}

fn unit(name: &str, text: &str) -> UnitFile {
    UnitFile {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

/// The real analyzer, or `None` after the SKIP line.
fn analyzer() -> Option<Analyzer> {
    match Analyzer::probe() {
        Ok(analyzer) => Some(analyzer),
        Err(AuditError::Unavailable(reason)) => {
            dominix_eval::skip::skip_test(&reason.skip_line());
            None
        }
        Err(other) => panic!("{other}"),
    }
}

fn score(analyzer: &Analyzer, units: &[UnitFile]) -> Result<Vec<dominix_audit::Score>, AuditError> {
    let dir = dir();
    for u in units {
        u.write_to(&dir.path).expect("write");
    }
    let names: Vec<String> = units.iter().map(|u| u.name.clone()).collect();
    analyzer.score(&dir.path, &names)
}

#[test]
fn an_unsandboxed_unit_is_unsafe_and_the_profile_is_ok() {
    let Some(analyzer) = analyzer() else { return };
    let scores = score(
        &analyzer,
        &[
            unit("bare.service", BARE),
            unit("sandboxed.service", SANDBOXED),
        ],
    )
    .expect("scored");
    assert_eq!(scores.len(), 2);
    let (bare, sandboxed) = (&scores[0], &scores[1]);
    assert_eq!(
        (bare.unit.as_str(), sandboxed.unit.as_str()),
        ("bare.service", "sandboxed.service")
    );
    assert!(bare.band >= Band::Unsafe, "{bare:?}");
    assert_eq!(
        bare.failing()[0].name,
        "PrivateNetwork=",
        "the heaviest failing setting"
    );
    assert!(
        sandboxed.exposure <= Exposure::from_tenths(15).expect("1.5"),
        "{sandboxed:?}"
    );
    assert!(sandboxed.band <= Band::Ok);
    // What the profile leaves open on purpose: Internet sockets and the network.
    let failing: Vec<&str> = sandboxed
        .failing()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(failing.contains(&"PrivateNetwork="), "{failing:?}");
    assert!(!failing.contains(&"ProtectHome="), "{failing:?}");
    assert!(bare.warnings.is_empty() && sandboxed.warnings.is_empty());
}

#[test]
fn a_unit_systemd_cannot_load_is_named_among_others() {
    let Some(analyzer) = analyzer() else { return };
    let error = score(
        &analyzer,
        &[
            unit("good.service", BARE),
            unit("broken.service", "garbage\n[Service\nExecStart=\n"),
            unit("other.service", BARE),
        ],
    )
    .expect_err("a broken unit");
    let message = error.to_string();
    assert!(matches!(error, AuditError::Failed { .. }), "{message}");
    assert!(message.contains("broken.service"), "{message}");
    assert!(!message.contains("good.service"), "{message}");
    assert!(message.contains("Fix:"), "{message}");
}

#[test]
fn a_key_systemd_ignores_is_a_warning_of_its_unit() {
    let Some(analyzer) = analyzer() else { return };
    let scores = score(
        &analyzer,
        &[
            unit("plain.service", BARE),
            unit("odd.service", &format!("{BARE}NoSuchDirective=yes\n")),
        ],
    )
    .expect("scored");
    assert!(scores[0].warnings.is_empty(), "{:?}", scores[0].warnings);
    assert_eq!(scores[1].warnings.len(), 1, "{:?}", scores[1].warnings);
    assert!(
        scores[1].warnings[0].contains("NoSuchDirective"),
        "{:?}",
        scores[1].warnings
    );
}

#[test]
fn the_fewest_fixes_that_bring_a_unit_under_its_ceiling_are_checked_by_systemd() {
    let Some(analyzer) = analyzer() else { return };
    let bare = unit("bare.service", BARE);
    let before = score(&analyzer, std::slice::from_ref(&bare))
        .expect("scored")
        .remove(0);
    let ceiling = Exposure::from_tenths(70).expect("7.0");
    let scratch = dir();
    let suggestion = bring_under(&analyzer, &scratch.path, &bare, &before, ceiling)
        .expect("scored")
        .expect("some fixes bring it under 7.0");
    assert!(suggestion.exposure <= ceiling, "{suggestion:?}");
    assert!(!suggestion.fixes.is_empty());
    assert_eq!(
        suggestion.fixes[0].1, "PrivateNetwork=true",
        "heaviest first"
    );
    // The same lines, written by hand, give systemd's same number.
    let lines: String = suggestion
        .fixes
        .iter()
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let fixed = score(
        &analyzer,
        &[unit("fixed.service", &format!("{BARE}{lines}"))],
    )
    .expect("scored")
    .remove(0);
    assert_eq!(fixed.exposure, suggestion.exposure);
    // One fix fewer is not enough.
    if suggestion.fixes.len() > 1 {
        let fewer: String = suggestion.fixes[..suggestion.fixes.len() - 1]
            .iter()
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let short = score(
            &analyzer,
            &[unit("short.service", &format!("{BARE}{fewer}"))],
        )
        .expect("scored")
        .remove(0);
        assert!(short.exposure > ceiling, "{short:?}");
    }
}

/// A stand-in `systemd-analyze` running `script`, installed by a child
/// process (a writable descriptor held here could leak into a child another
/// test thread forks, and exec would fail with ETXTBSY).
fn fake(dir: &Path, script: &str) -> String {
    let draft = dir.join("draft");
    std::fs::write(&draft, format!("#!/bin/sh\n{script}\n")).expect("write");
    let program = dir.join("systemd-analyze");
    let status = std::process::Command::new("install")
        .args(["-m", "755"])
        .arg(&draft)
        .arg(&program)
        .status()
        .expect("install");
    assert!(status.success());
    program.display().to_string()
}

#[test]
fn a_missing_or_old_analyzer_is_a_skip_and_a_broken_one_a_failure() {
    let tmp = dir();
    let missing = tmp.path.join("nowhere/systemd-analyze");
    assert!(matches!(
        Analyzer::probe_program(missing.as_str()),
        Err(AuditError::Unavailable(Unavailable::Missing))
    ));
    let old = fake(tmp.path.as_std_path(), "echo 'systemd 249 (249.11)'");
    assert!(matches!(
        Analyzer::probe_program(&old),
        Err(AuditError::Unavailable(Unavailable::TooOld {
            version: 249
        }))
    ));
    let liar = fake(tmp.path.as_std_path(), "echo 'I am not systemd'");
    let error = Analyzer::probe_program(&liar).expect_err("not a version");
    assert!(matches!(error, AuditError::Broken(_)), "{error}");
}

#[test]
fn an_analyzer_that_crashes_or_prints_garbage_fails_naming_the_unit_file() {
    let tmp = dir();
    let units = dir();
    unit("probe.service", BARE)
        .write_to(&units.path)
        .expect("write");
    let names = ["probe.service".to_owned()];
    for (script, kind) in [
        (
            "case \"$1\" in --version) echo 'systemd 252 (252)';; *) kill -SEGV $$;; esac",
            "Failed",
        ),
        (
            "case \"$1\" in --version) echo 'systemd 252 (252)';; *) echo '{not json';; esac",
            "Garbage",
        ),
        (
            "case \"$1\" in --version) echo 'systemd 252 (252)';; *) echo '[]';; esac",
            "Garbage",
        ),
    ] {
        let program = fake(tmp.path.as_std_path(), script);
        let analyzer = Analyzer::probe_program(&program).expect("answers its version");
        let error = analyzer.score(&units.path, &names).expect_err("no score");
        let message = error.to_string();
        let matches = match kind {
            "Failed" => matches!(error, AuditError::Failed { .. }),
            _ => matches!(error, AuditError::Garbage { .. }),
        };
        assert!(matches, "{kind}: {message}");
        assert!(message.contains("probe.service"), "{message}");
        assert!(!matches!(error, AuditError::Unavailable(_)), "never a skip");
    }
}
