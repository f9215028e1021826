//! The comparison on recorded JSON: `fixtures/contract.json` is `describe`
//! from nix-modules/contract/default.nix, the `nixpkgs-*.json` files are what
//! nix-modules/contract/verify.nix returns (see fixtures/README.md).

use std::path::Path;

use dominix_contract::{CONTRACT_FILE, Finding, PKGS_FILE, Report, Severity, compare_json};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn report(nixpkgs: &str) -> Report {
    compare_json(&fixture("contract.json"), &fixture(nixpkgs))
        .unwrap_or_else(|err| panic!("{nixpkgs}: {err}"))
}

fn problems(report: &Report) -> Vec<&Finding> {
    report
        .findings()
        .iter()
        .filter(|finding| finding.severity() != Severity::Ok)
        .collect()
}

#[test]
fn matching_nixpkgs_is_ok() {
    let report = report("nixpkgs-matching.json");
    assert!(report.is_ok(), "{report}");
    assert!(problems(&report).is_empty(), "{report}");
    let options = report
        .findings()
        .iter()
        .filter(|x| matches!(x, Finding::Ok { .. }))
        .count();
    let packages = report
        .findings()
        .iter()
        .filter(|x| matches!(x, Finding::PackageOk { .. }))
        .count();
    assert_eq!((options, packages), (28, 16), "{report}");
    assert!(
        report.to_string().contains("0 failure(s), 0 warning(s)"),
        "{report}"
    );
}

#[test]
fn missing_option_fails() {
    let report = report("nixpkgs-missing-option.json");
    assert!(!report.is_ok());
    assert_eq!(
        problems(&report),
        [&Finding::Missing {
            option: "security.forcePageTableIsolation".into()
        }]
    );
    let text = report.to_string();
    assert!(
        text.contains("FAIL  security.forcePageTableIsolation"),
        "{text}"
    );
    assert!(text.contains(CONTRACT_FILE), "{text}");
    assert!(text.contains("cargo xtask contract verify"), "{text}");
}

#[test]
fn changed_type_fails() {
    let report = report("nixpkgs-changed-type.json");
    assert!(!report.is_ok());
    assert_eq!(
        problems(&report),
        [&Finding::TypeMismatch {
            option: "boot.blacklistedKernelModules".into(),
            contract: "(attribute set of boolean) or (list of string) convertible to it".into(),
            nixpkgs: "list of string".into(),
        }]
    );
}

#[test]
fn missing_package_fails() {
    let report = report("nixpkgs-missing-package.json");
    assert!(!report.is_ok());
    assert_eq!(
        problems(&report),
        [
            &Finding::PackageMissing {
                attr: "formats.ini".into()
            },
            &Finding::PackageMissing {
                attr: "writeShellApplication".into()
            },
        ]
    );
    let text = report.to_string();
    assert!(text.contains("FAIL  pkgs.writeShellApplication"), "{text}");
    assert!(text.contains(PKGS_FILE), "{text}");
}

#[test]
fn moved_declaration_only_warns() {
    let report = report("nixpkgs-moved-declaration.json");
    assert!(
        report.is_ok(),
        "a moved declaration is a warning, not a failure:\n{report}"
    );
    assert_eq!(
        problems(&report),
        [&Finding::DeclaredElsewhere {
            option: "users.motd".into(),
            contract_file: "nixos/modules/security/pam.nix".into(),
            nixpkgs_files: vec!["nixos/modules/security/pam/motd.nix".into()],
        }]
    );
    assert!(report.findings().contains(&Finding::Ok {
        option: "users.motd".into()
    }));
    let text = report.to_string();
    assert!(text.contains("WARN  users.motd"), "{text}");
    assert!(
        text.contains("nixos/modules/security/pam/motd.nix"),
        "{text}"
    );
}

#[test]
fn changed_sub_options_fail() {
    let report = report("nixpkgs-sub-options.json");
    assert!(!report.is_ok());
    assert_eq!(
        problems(&report),
        [
            &Finding::SubOptionMissing {
                option: "users.users".into(),
                sub_option: "initialPassword".into()
            },
            &Finding::SubOptionTypeMismatch {
                option: "users.users".into(),
                sub_option: "openssh.authorizedKeys.keys".into(),
                contract: "list of (optionally newline-terminated) single-line string".into(),
                nixpkgs: "list of string".into(),
            },
        ]
    );
    assert!(!report.findings().contains(&Finding::Ok {
        option: "users.users".into()
    }));
}

#[test]
fn failures_are_listed_before_warnings() {
    // Combine a moved declaration with a missing option in one document.
    let mut real: serde_json::Value =
        serde_json::from_str(&fixture("nixpkgs-moved-declaration.json")).expect("fixture is JSON");
    real["options"]["security.forcePageTableIsolation"]["exists"] = serde_json::json!(false);
    let contract: serde_json::Value =
        serde_json::from_str(&fixture("contract.json")).expect("fixture is JSON");
    let report = dominix_contract::compare(&contract, &real).expect("comparable");
    let text = report.to_string();
    let fail = text
        .find("FAIL  security.forcePageTableIsolation")
        .expect("failure listed");
    let warn = text.find("WARN  users.motd").expect("warning listed");
    assert!(fail < warn, "{text}");
}
