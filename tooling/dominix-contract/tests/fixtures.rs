//! The comparison on recorded JSON: `fixtures/contract.json` is `describe`
//! from nix-modules/contract/default.nix, the `nixpkgs-*.json` files are what
//! nix-modules/contract/verify.nix returns (see fixtures/README.md).

use std::path::Path;

use dominix_contract::{Context, Finding, Kind, PKGS_FILE, Report, Severity, compare_json};

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

/// (severity, kind, subject, context, key) of every problem, in report order.
type Summary = (Severity, Kind, String, Option<Context>, Option<String>);

fn summary(report: &Report) -> Vec<Summary> {
    problems(report)
        .into_iter()
        .map(|x| {
            (
                x.severity,
                x.kind,
                x.subject.clone(),
                x.context,
                x.key.clone(),
            )
        })
        .collect()
}

fn row(
    severity: Severity,
    kind: Kind,
    subject: &str,
    context: Option<Context>,
    key: Option<&str>,
) -> Summary {
    (
        severity,
        kind,
        subject.to_owned(),
        context,
        key.map(str::to_owned),
    )
}

/// A failure with no context and no key.
fn failure(kind: Kind, subject: &str) -> Summary {
    row(Severity::Failure, kind, subject, None, None)
}

/// A warning with no context and no key.
fn warning(kind: Kind, subject: &str) -> Summary {
    row(Severity::Warning, kind, subject, None, None)
}

/// The first problem of `report`, which must be declared in `file`.
#[track_caller]
fn first_problem_in<'a>(report: &'a Report, file: &str) -> &'a Finding {
    let found = problems(report);
    assert_eq!(found[0].file, file);
    found[0]
}

fn in_every_context(severity: Severity, kind: Kind, subject: &str) -> Vec<Summary> {
    Context::ALL
        .into_iter()
        .map(|context| row(severity, kind, subject, Some(context), None))
        .collect()
}

fn ok(report: &Report, subject: &str) -> bool {
    report
        .findings()
        .iter()
        .any(|x| x.kind == Kind::Ok && x.subject == subject)
}

#[test]
fn matching_nixpkgs_is_ok() {
    let report = report("nixpkgs-matching.json");
    assert!(report.is_ok(), "{report}");
    assert!(problems(&report).is_empty(), "{report}");
    let count = |kind| report.findings().iter().filter(|x| x.kind == kind).count();
    // Every option and package of the recorded contract is ok.
    let contract: serde_json::Value =
        serde_json::from_str(&fixture("contract.json")).expect("contract.json is JSON");
    let size = |field: &str| contract[field].as_object().map_or(0, |o| o.len());
    assert_eq!(
        (count(Kind::Ok), count(Kind::PackageOk)),
        (size("options"), size("pkgs")),
        "{report}"
    );
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
        summary(&report),
        [failure(Kind::Missing, "security.forcePageTableIsolation")]
    );
    let text = report.to_string();
    assert!(
        text.contains("FAIL  security.forcePageTableIsolation"),
        "{text}"
    );
    assert!(
        text.contains("nix-modules/contract/nixos/modules/security/misc.nix"),
        "{text}"
    );
    assert!(text.contains("cargo xtask contract verify"), "{text}");
}

#[test]
fn changed_type_fails() {
    let report = report("nixpkgs-changed-type.json");
    assert!(!report.is_ok());
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].kind, Kind::TypeMismatch);
    assert_eq!(found[0].subject, "boot.blacklistedKernelModules");
    assert_eq!(found[0].contract, "list of string");
    assert_eq!(
        found[0].nixpkgs,
        "(attribute set of boolean) or (list of string) convertible to it"
    );
    assert_eq!(
        found[0].file,
        "nix-modules/contract/nixos/modules/system/boot/modprobe.nix"
    );
}

#[test]
fn missing_package_fails() {
    let report = report("nixpkgs-missing-package.json");
    assert!(!report.is_ok());
    assert_eq!(
        summary(&report),
        [
            failure(Kind::PackageMissing, "pkgs.formats.ini"),
            failure(Kind::PackageMissing, "pkgs.writeShellApplication"),
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
        summary(&report),
        [warning(Kind::DeclaredElsewhere, "users.motd")]
    );
    assert!(ok(&report, "users.motd"), "{report}");
    let text = report.to_string();
    assert!(text.contains("WARN  users.motd"), "{text}");
    assert!(
        text.contains("nix-modules/contract/nixos/modules/security/pam/motd.nix"),
        "{text}"
    );
}

#[test]
fn changed_sub_options_fail() {
    let report = report("nixpkgs-sub-options.json");
    assert!(!report.is_ok());
    let found = problems(&report);
    assert_eq!(
        summary(&report),
        [
            failure(Kind::SubOptionMissing, "users.users"),
            failure(Kind::SubOptionTypeMismatch, "users.users"),
        ]
    );
    assert!(found[0].what.contains("initialPassword"), "{}", found[0]);
    assert!(
        found[1].what.contains("openssh.authorizedKeys.keys"),
        "{}",
        found[1]
    );
    assert_eq!(
        found[1].contract,
        "list of (optionally newline-terminated) single-line string"
    );
    assert_eq!(found[1].nixpkgs, "list of string");
    assert!(!ok(&report, "users.users"));
}

#[test]
fn missing_definition_fails_in_every_context() {
    let report = report("nixpkgs-missing-definition.json");
    assert!(!report.is_ok());
    assert_eq!(
        summary(&report),
        in_every_context(
            Severity::Failure,
            Kind::DefinitionMissing,
            "boot.kernelParams"
        )
    );
    let found = first_problem_in(
        &report,
        "nix-modules/contract/nixos/modules/security/default.nix",
    );
    assert!(found.contract.contains("security/default.nix"), "{found}");
    assert!(!found.nixpkgs.contains("security/default.nix"), "{found}");
    assert!(!ok(&report, "boot.kernelParams"));
}

#[test]
fn another_priority_fails() {
    let report = report("nixpkgs-other-priority.json");
    assert_eq!(
        summary(&report),
        [row(
            Severity::Failure,
            Kind::PriorityMismatch,
            "services.getty.greetingLine",
            Some(Context::System),
            None
        )]
    );
    let found = first_problem_in(
        &report,
        "nix-modules/contract/nixos/modules/services/ttys/getty.nix",
    );
    assert!(found.contract.starts_with("priority 1000: "), "{found}");
    assert!(found.nixpkgs.starts_with("priority 100: "), "{found}");
    let text = report.to_string();
    assert!(
        text.contains("FAIL  services.getty.greetingLine (system context)"),
        "{text}"
    );
    assert!(text.contains("a plain definition"), "{text}");
}

#[test]
fn another_value_fails() {
    let report = report("nixpkgs-other-value.json");
    assert_eq!(
        summary(&report),
        in_every_context(
            Severity::Failure,
            Kind::ValueMismatch,
            "documentation.enable"
        )
    );
    let found = first_problem_in(
        &report,
        "nix-modules/contract/nixos/modules/misc/documentation.nix",
    );
    assert!(found.contract.contains("= true"), "{found}");
    assert!(found.nixpkgs.contains("= false"), "{found}");
}

#[test]
fn an_unmodelled_sysctl_fails() {
    let report = report("nixpkgs-extra-sysctl.json");
    assert!(!report.is_ok());
    assert_eq!(
        summary(&report),
        [row(
            Severity::Failure,
            Kind::UnmodelledKey,
            "boot.kernel.sysctl",
            Some(Context::Test),
            Some("net.core.bpf_jit_enable")
        )]
    );
    first_problem_in(
        &report,
        "nix-modules/contract/nixos/modules/config/sysctl.nix",
    );
    let text = report.to_string();
    assert!(
        text.contains("FAIL  boot.kernel.sysctl.\"net.core.bpf_jit_enable\" (test context)"),
        "{text}"
    );
}

#[test]
fn an_unmodelled_etc_entry_only_warns() {
    let report = report("nixpkgs-extra-etc.json");
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        summary(&report),
        [row(
            Severity::Warning,
            Kind::UnmodelledKey,
            "environment.etc",
            Some(Context::System),
            Some("os-release")
        )]
    );
    first_problem_in(
        &report,
        "nix-modules/contract/nixos/modules/misc/version.nix",
    );
    assert!(ok(&report, "environment.etc"));
}

#[test]
fn an_option_missing_in_the_vm_fails() {
    let report = report("nixpkgs-no-vm-option.json");
    assert_eq!(
        summary(&report),
        [row(
            Severity::Failure,
            Kind::ContextMismatch,
            "virtualisation.cores",
            Some(Context::Vm),
            None
        )]
    );
    first_problem_in(
        &report,
        "nix-modules/contract/nixos/modules/virtualisation/qemu-vm.nix",
    );
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
