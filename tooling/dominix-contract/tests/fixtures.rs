//! The comparison on recorded JSON. `fixtures/contract.json` is `describe`
//! (nix-modules/contract/default.nix) and `fixtures/nixpkgs-matching.json`
//! what nix-modules/contract/verify.nix reports for a nixpkgs that matches
//! the contract; tests re-record both (see fixtures/README.md). Every case
//! below is that report with one small change, made to options and packages
//! by name, and the problems comparing the contract with it must find.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use dominix_contract::{Context, Finding, Kind, PKGS_FILE, Report, Severity, compare};
use serde_json::{Value, json};

/// How to bring the recordings up to date with the contract.
const RERECORD: &str = "if the contract changed, re-record tests/fixtures: \
    `UPDATE_FIXTURES=1 cargo test -p dominix-contract --test describe_eval`, then \
    `UPDATE_FIXTURES=1 cargo test --manifest-path xtask/Cargo.toml --test contract_verify`";

/// The report every case edits.
const MATCHING: &str = "nixpkgs-matching.json";

fn recorded(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}; {RERECORD}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON ({err}); {RERECORD}", path.display()))
}

// ---------------------------------------------------------------------------
// Edits: the recorded nixpkgs report, changed by name.

/// The recorded nixpkgs report, as one case edits it.
struct Nixpkgs {
    case: &'static str,
    report: Value,
}

impl Nixpkgs {
    fn recorded(case: &'static str) -> Self {
        Nixpkgs {
            case,
            report: recorded(MATCHING),
        }
    }

    fn root(&mut self) -> At<'_> {
        At {
            case: self.case,
            path: String::new(),
            value: &mut self.report,
        }
    }

    /// What nixpkgs reports for the option `name`.
    fn option(&mut self, name: &str) -> At<'_> {
        self.root().get("options").get(name)
    }

    /// What nixpkgs reports for the package `pkgs.<attr>`.
    fn package(&mut self, attr: &str) -> At<'_> {
        self.root().get("pkgs").get(attr)
    }
}

/// A place in the report a case edits. Every step must find what it names,
/// so an edit of something the recording no longer has fails naming the
/// case and the place instead of silently changing nothing.
struct At<'a> {
    case: &'a str,
    /// jq-like: `.options["users.motd"].definitions.system`.
    path: String,
    value: &'a mut Value,
}

#[track_caller]
fn lacks(case: &str, path: &str, what: &str) -> ! {
    panic!(
        "case `{case}`: {path} {what} in tests/fixtures/{MATCHING}. \
         Fix: if the contract renamed or dropped it, make the case (tests/fixtures.rs) edit what replaced it; \
         otherwise {RERECORD}"
    )
}

impl<'a> At<'a> {
    fn step(&self, key: &str) -> String {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            format!("{}.{key}", self.path)
        } else {
            format!("{}[{}]", self.path, json!(key))
        }
    }

    /// The member `key` of this object, which must be there.
    #[track_caller]
    fn get(self, key: &str) -> At<'a> {
        let path = self.step(key);
        let case = self.case;
        match self.value.get_mut(key) {
            Some(value) => At { case, path, value },
            None => lacks(case, &path, "is not"),
        }
    }

    /// [`At::get`], keeping this place for further edits.
    #[track_caller]
    fn at(&mut self, key: &str) -> At<'_> {
        At {
            case: self.case,
            path: self.path.clone(),
            value: &mut *self.value,
        }
        .get(key)
    }

    /// The option's report in `context` (`definitions.<context>`).
    #[track_caller]
    fn context(self, context: Context) -> At<'a> {
        self.get("definitions").get(context.key())
    }

    /// Applies `edit` to the option's report in every context.
    #[track_caller]
    fn each_context(&mut self, mut edit: impl FnMut(At<'_>)) {
        let mut definitions = self.at("definitions");
        for context in Context::ALL {
            edit(definitions.at(context.key()));
        }
    }

    /// Replaces the member `key`, which must be there.
    #[track_caller]
    fn set(&mut self, key: &str, value: impl Into<Value>) {
        *self.at(key).value = value.into();
    }

    /// Replaces this value.
    fn replace(self, value: impl Into<Value>) {
        *self.value = value.into();
    }

    /// Removes the member `key`, which must be there.
    #[track_caller]
    fn remove(&mut self, key: &str) {
        let path = self.step(key);
        if self
            .value
            .as_object_mut()
            .and_then(|o| o.remove(key))
            .is_none()
        {
            lacks(self.case, &path, "is not");
        }
    }

    /// Adds the member `key`, which must not be there yet.
    #[track_caller]
    fn insert(&mut self, key: &str, value: Value) {
        let path = self.step(key);
        match self.value.as_object_mut() {
            Some(object) if !object.contains_key(key) => {
                object.insert(key.to_owned(), value);
            }
            Some(_) => lacks(
                self.case,
                &path,
                "is already there (so adding it changes nothing), is not missing",
            ),
            None => lacks(self.case, &self.path, "is not an object"),
        }
    }

    /// The element of this list whose `field` is `wanted`.
    #[track_caller]
    fn find(self, field: &str, wanted: &str) -> At<'a> {
        let path = format!("{}[{field} = {}]", self.path, json!(wanted));
        let case = self.case;
        let element = self
            .value
            .as_array_mut()
            .and_then(|list| list.iter_mut().find(|x| x[field] == wanted));
        match element {
            Some(value) => At { case, path, value },
            None => lacks(case, &path, "is not"),
        }
    }

    /// The element of this list that is `wanted`.
    #[track_caller]
    fn element(self, wanted: &str) -> At<'a> {
        let path = format!("{}[{}]", self.path, json!(wanted));
        let case = self.case;
        let element = self
            .value
            .as_array_mut()
            .and_then(|list| list.iter_mut().find(|x| *x == wanted));
        match element {
            Some(value) => At { case, path, value },
            None => lacks(case, &path, "is not"),
        }
    }

    /// Removes the elements of this list whose `field` is `wanted` (at least one).
    #[track_caller]
    fn remove_where(&mut self, field: &str, wanted: &str) {
        let path = format!("{}[{field} = {}]", self.path, json!(wanted));
        let list = self.value.as_array_mut();
        let before = list.as_ref().map_or(0, |list| list.len());
        if let Some(list) = list {
            list.retain(|x| x[field] != wanted);
            if list.len() < before {
                return;
            }
        }
        lacks(self.case, &path, "is not");
    }
}

// ---------------------------------------------------------------------------
// Expectations: the problems of the report, compared whole.

/// A problem (failure or warning) the report must list.
struct Problem {
    severity: Severity,
    kind: Kind,
    subject: &'static str,
    context: Option<Context>,
    key: Option<&'static str>,
    /// The contract file the finding tells to edit.
    file: &'static str,
    /// What its wording must say.
    says: Vec<(Field, Text)>,
}

/// A text field of a finding.
#[derive(Clone, Copy, Debug)]
enum Field {
    What,
    Contract,
    Nixpkgs,
}

/// What a text field must say.
#[derive(Clone, Copy, Debug)]
enum Text {
    Is(&'static str),
    Has(&'static str),
    Lacks(&'static str),
    StartsWith(&'static str),
}

// `InContract`, `InNixpkgs`: not to be read as the types of those names.
use Field::{Contract as InContract, Nixpkgs as InNixpkgs, What};
use Text::{Has, Is, Lacks, StartsWith};

fn failure(kind: Kind, subject: &'static str, file: &'static str) -> Problem {
    Problem {
        severity: Severity::Failure,
        kind,
        subject,
        context: None,
        key: None,
        file,
        says: Vec::new(),
    }
}

fn warning(kind: Kind, subject: &'static str, file: &'static str) -> Problem {
    Problem {
        severity: Severity::Warning,
        ..failure(kind, subject, file)
    }
}

impl Problem {
    fn context(self, context: Context) -> Self {
        Problem {
            context: Some(context),
            ..self
        }
    }

    fn key(self, key: &'static str) -> Self {
        Problem {
            key: Some(key),
            ..self
        }
    }

    fn says(mut self, field: Field, text: Text) -> Self {
        self.says.push((field, text));
        self
    }

    /// The same problem in the system, vm and test contexts, in that order.
    fn in_every_context(self) -> Vec<Problem> {
        Context::ALL
            .into_iter()
            .map(|context| Problem {
                context: Some(context),
                says: self.says.clone(),
                ..self
            })
            .collect()
    }
}

/// (severity, kind, subject, context, key, file): a problem compared whole.
type Summary = (
    Severity,
    Kind,
    String,
    Option<Context>,
    Option<String>,
    String,
);

fn summary(finding: &Finding) -> Summary {
    (
        finding.severity,
        finding.kind,
        finding.subject.clone(),
        finding.context,
        finding.key.clone(),
        finding.file.clone(),
    )
}

impl Problem {
    fn summary(&self) -> Summary {
        (
            self.severity,
            self.kind,
            self.subject.to_owned(),
            self.context,
            self.key.map(str::to_owned),
            self.file.to_owned(),
        )
    }
}

fn problems(report: &Report) -> Vec<&Finding> {
    report
        .findings()
        .iter()
        .filter(|finding| finding.severity() != Severity::Ok)
        .collect()
}

// ---------------------------------------------------------------------------
// The cases.

/// One change to the recorded report and what comparing with it must find.
struct Case {
    name: &'static str,
    edit: fn(&mut Nixpkgs),
    /// Every failure and warning, in report order.
    problems: Vec<Problem>,
    /// Text the printed report contains.
    printed: &'static [&'static str],
}

const MISC: &str = "nix-modules/contract/nixos/modules/security/misc.nix";
const PAM_MOTD: &str = "nixos/modules/security/pam/motd.nix";
const SECURITY: &str = "nixos/modules/security/default.nix";

fn cases() -> Vec<Case> {
    use Kind::*;
    vec![
        Case {
            name: "matching",
            edit: |_| {},
            problems: vec![],
            printed: &["0 failure(s), 0 warning(s)"],
        },
        Case {
            // What verify.nix reports for an option nixpkgs does not declare.
            name: "missing-option",
            edit: missing_option,
            problems: vec![failure(Missing, "security.forcePageTableIsolation", MISC)],
            printed: &[
                "FAIL  security.forcePageTableIsolation",
                MISC,
                "cargo xtask contract verify",
            ],
        },
        Case {
            name: "changed-type",
            edit: |n| {
                let mut option = n.option("boot.blacklistedKernelModules");
                option.set(
                    "type",
                    "(attribute set of boolean) or (list of string) convertible to it",
                );
                option.set("typeName", "coercedTo");
            },
            problems: vec![
                failure(
                    TypeMismatch,
                    "boot.blacklistedKernelModules",
                    "nix-modules/contract/nixos/modules/system/boot/modprobe.nix",
                )
                .says(InContract, Is("list of string"))
                .says(
                    InNixpkgs,
                    Is("(attribute set of boolean) or (list of string) convertible to it"),
                ),
            ],
            printed: &[],
        },
        Case {
            name: "missing-package",
            edit: |n| {
                n.package("writeShellApplication").set("exists", false);
                n.package("formats.ini").set("exists", false);
            },
            problems: vec![
                failure(PackageMissing, "pkgs.formats.ini", PKGS_FILE),
                failure(PackageMissing, "pkgs.writeShellApplication", PKGS_FILE),
            ],
            printed: &["FAIL  pkgs.writeShellApplication", PKGS_FILE],
        },
        Case {
            // Declared, and its default defined, in another file: a warning.
            name: "moved-declaration",
            edit: moved_declaration,
            problems: vec![warning(
                DeclaredElsewhere,
                "users.motd",
                "nix-modules/contract/nixos/modules/security/pam.nix",
            )],
            printed: &[
                "WARN  users.motd",
                "nix-modules/contract/nixos/modules/security/pam/motd.nix",
            ],
        },
        Case {
            name: "sub-options",
            edit: |n| {
                let mut sub_options = n.option("users.users").get("subOptions");
                sub_options.remove("initialPassword");
                sub_options.set("openssh.authorizedKeys.keys", "list of string");
            },
            problems: vec![
                failure(
                    SubOptionMissing,
                    "users.users",
                    "nix-modules/contract/nixos/modules/config/users-groups.nix",
                )
                .says(What, Has("initialPassword")),
                failure(
                    SubOptionTypeMismatch,
                    "users.users",
                    "nix-modules/contract/nixos/modules/config/users-groups.nix",
                )
                .says(What, Has("openssh.authorizedKeys.keys"))
                .says(
                    InContract,
                    Is("list of (optionally newline-terminated) single-line string"),
                )
                .says(InNixpkgs, Is("list of string")),
            ],
            printed: &[],
        },
        Case {
            name: "missing-definition",
            edit: |n| {
                n.option("boot.kernelParams").each_context(|mut context| {
                    context.at("definitions").remove_where("file", SECURITY);
                });
            },
            problems: failure(
                DefinitionMissing,
                "boot.kernelParams",
                "nix-modules/contract/nixos/modules/security/default.nix",
            )
            .says(InContract, Has("security/default.nix"))
            .says(InNixpkgs, Lacks("security/default.nix"))
            .in_every_context(),
            printed: &[],
        },
        Case {
            name: "other-priority",
            edit: |n| {
                n.option("services.getty.greetingLine")
                    .context(Context::System)
                    .set("priority", 100);
            },
            problems: vec![
                failure(
                    PriorityMismatch,
                    "services.getty.greetingLine",
                    "nix-modules/contract/nixos/modules/services/ttys/getty.nix",
                )
                .context(Context::System)
                .says(InContract, StartsWith("priority 1000: "))
                .says(InNixpkgs, StartsWith("priority 100: ")),
            ],
            printed: &[
                "FAIL  services.getty.greetingLine (system context)",
                "a plain definition",
            ],
        },
        Case {
            name: "other-value",
            edit: |n| {
                n.option("documentation.enable").each_context(|context| {
                    context
                        .get("definitions")
                        .find("file", "nixos/modules/misc/documentation.nix")
                        .set("value", false);
                });
            },
            problems: failure(
                ValueMismatch,
                "documentation.enable",
                "nix-modules/contract/nixos/modules/misc/documentation.nix",
            )
            .says(InContract, Has("= true"))
            .says(InNixpkgs, Has("= false"))
            .in_every_context(),
            printed: &[],
        },
        Case {
            // boot.kernel.sysctl is keyed "complete": an extra key fails.
            name: "extra-sysctl",
            edit: |n| {
                n.option("boot.kernel.sysctl")
                    .context(Context::Test)
                    .get("keys")
                    .insert(
                        "net.core.bpf_jit_enable",
                        json!({
                            "priority": 100,
                            "definitions": [{ "file": "nixos/modules/config/sysctl.nix", "value": false }],
                        }),
                    );
            },
            problems: vec![
                failure(
                    UnmodelledKey,
                    "boot.kernel.sysctl",
                    "nix-modules/contract/nixos/modules/config/sysctl.nix",
                )
                .context(Context::Test)
                .key("net.core.bpf_jit_enable"),
            ],
            printed: &["FAIL  boot.kernel.sysctl.\"net.core.bpf_jit_enable\" (test context)"],
        },
        Case {
            // environment.etc is keyed "partial": an extra entry only warns.
            name: "extra-etc",
            edit: extra_etc,
            problems: vec![
                warning(
                    UnmodelledKey,
                    "environment.etc",
                    "nix-modules/contract/nixos/modules/misc/version.nix",
                )
                .context(Context::System)
                .key("os-release"),
            ],
            printed: &[],
        },
        Case {
            name: "no-vm-option",
            edit: |n| {
                n.option("virtualisation.cores")
                    .at("definitions")
                    .set("vm", Value::Null)
            },
            problems: vec![
                failure(
                    ContextMismatch,
                    "virtualisation.cores",
                    "nix-modules/contract/nixos/modules/virtualisation/qemu-vm.nix",
                )
                .context(Context::Vm),
            ],
            printed: &[],
        },
    ]
}

fn missing_option(n: &mut Nixpkgs) {
    let mut option = n.option("security.forcePageTableIsolation");
    option.set("exists", false);
    option.set("declaredIn", json!([]));
    option.set("type", Value::Null);
    option.set("typeName", Value::Null);
    option.set("subOptions", json!({}));
    option.each_context(|context| context.replace(Value::Null));
}

fn moved_declaration(n: &mut Nixpkgs) {
    const PAM: &str = "nixos/modules/security/pam.nix";
    let mut option = n.option("users.motd");
    option.at("declaredIn").element(PAM).replace(PAM_MOTD);
    option.each_context(|context| {
        context
            .get("definitions")
            .find("file", PAM)
            .set("file", PAM_MOTD);
    });
}

fn extra_etc(n: &mut Nixpkgs) {
    const VERSION: &str = "nixos/modules/misc/version.nix";
    let mut system = n.option("environment.etc").context(Context::System);
    system.at("keys").insert(
        "os-release",
        json!({
            "priority": 100,
            "definitions": [{ "file": VERSION, "value": { "text": "NAME=NixOS\n" } }],
        }),
    );
}

// ---------------------------------------------------------------------------
// The tests.

/// Compares the contract with the case's report; asserts what it must find.
fn check(case: &Case) {
    let name = case.name;
    let contract = recorded("contract.json");
    let mut nixpkgs = Nixpkgs::recorded(name);
    (case.edit)(&mut nixpkgs);
    let report = compare(&contract, &nixpkgs.report)
        .unwrap_or_else(|err| panic!("case `{name}`: {err}; {RERECORD}"));
    let found = problems(&report);

    let expected: Vec<Summary> = case.problems.iter().map(Problem::summary).collect();
    let actual: Vec<Summary> = found.iter().copied().map(summary).collect();
    assert_eq!(actual, expected, "case `{name}`:\n{report}\n{RERECORD}");
    for (problem, finding) in case.problems.iter().zip(&found) {
        for &(field, text) in &problem.says {
            let said = match field {
                What => &finding.what,
                InContract => &finding.contract,
                InNixpkgs => &finding.nixpkgs,
            };
            let holds = match text {
                Is(wanted) => said == wanted,
                Has(wanted) => said.contains(wanted),
                Lacks(unwanted) => !said.contains(unwanted),
                StartsWith(wanted) => said.starts_with(wanted),
            };
            assert!(
                holds,
                "case `{name}`: {field:?} of\n{finding}\nis not {text:?}"
            );
        }
    }

    // It fails exactly when a problem is a failure, and every option and
    // package of the contract is ok except those with a failure.
    let failing: BTreeSet<&str> = case
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Failure)
        .map(|p| p.subject)
        .collect();
    assert_eq!(
        report.is_ok(),
        failing.is_empty(),
        "case `{name}`:\n{report}"
    );
    let entries = |field: &str, prefix: &str| -> Vec<String> {
        contract[field]
            .as_object()
            .unwrap_or_else(|| panic!("contract.json has no `{field}` object; {RERECORD}"))
            .keys()
            .map(|key| format!("{prefix}{key}"))
            .collect()
    };
    let mut wanted_ok: Vec<String> = entries("options", "")
        .into_iter()
        .chain(entries("pkgs", "pkgs."))
        .filter(|subject| !failing.contains(subject.as_str()))
        .collect();
    wanted_ok.sort();
    let mut ok: Vec<String> = report
        .findings()
        .iter()
        .filter(|x| matches!(x.kind, Kind::Ok | Kind::PackageOk))
        .map(|x| x.subject.clone())
        .collect();
    ok.sort();
    assert_eq!(ok, wanted_ok, "case `{name}`: the options and packages ok");

    let text = report.to_string();
    let warnings = case.problems.len()
        - found
            .iter()
            .filter(|x| x.severity == Severity::Failure)
            .count();
    let count = format!(
        "{} failure(s), {warnings} warning(s)",
        case.problems.len() - warnings
    );
    for wanted in std::iter::once(count.as_str()).chain(case.printed.iter().copied()) {
        assert!(
            text.contains(wanted),
            "case `{name}`: no `{wanted}` in\n{text}"
        );
    }
}

#[test]
fn every_case_finds_its_problems() {
    let cases = cases();
    let failed: Vec<&str> = cases
        .iter()
        .filter(|case| catch_unwind(AssertUnwindSafe(|| check(case))).is_err())
        .map(|case| case.name)
        .collect();
    assert!(
        failed.is_empty(),
        "cases that failed (their messages are above): {failed:?}"
    );
    let names: BTreeSet<&str> = cases.iter().map(|case| case.name).collect();
    assert_eq!(names.len(), cases.len(), "two cases have one name");
}

fn edit_of(name: &str) -> fn(&mut Nixpkgs) {
    cases()
        .into_iter()
        .find(|case| case.name == name)
        .map(|case| case.edit)
        .unwrap_or_else(|| panic!("no case `{name}`"))
}

#[test]
fn failures_are_listed_before_warnings() {
    // A failure combined with a warning about an option listed after it and
    // with one about an option listed before it (the report is in option order).
    for (failing, warning, fail, warn) in [
        (
            "missing-option",
            "moved-declaration",
            "FAIL  security.forcePageTableIsolation",
            "WARN  users.motd",
        ),
        (
            "missing-option",
            "extra-etc",
            "FAIL  security.forcePageTableIsolation",
            "WARN  environment.etc",
        ),
    ] {
        let mut nixpkgs = Nixpkgs::recorded("failures-before-warnings");
        edit_of(failing)(&mut nixpkgs);
        edit_of(warning)(&mut nixpkgs);
        let report = compare(&recorded("contract.json"), &nixpkgs.report).expect("comparable");
        let text = report.to_string();
        let fail = text.find(fail).expect("failure listed");
        let warn = text.find(warn).expect("warning listed");
        assert!(fail < warn, "{text}");
    }
}

#[test]
#[should_panic(
    expected = "case `gone`: .options[\"services.gone\"] is not in tests/fixtures/nixpkgs-matching.json"
)]
fn an_edit_of_an_option_the_recording_lacks_names_case_and_option() {
    Nixpkgs::recorded("gone")
        .option("services.gone")
        .set("exists", false);
}

#[test]
#[should_panic(
    expected = "case `moved`: .options[\"users.motd\"].definitions.system.definitions[file = \"nixos/gone.nix\"] is not"
)]
fn an_edit_of_a_definition_the_recording_lacks_names_it() {
    Nixpkgs::recorded("moved")
        .option("users.motd")
        .context(Context::System)
        .get("definitions")
        .find("file", "nixos/gone.nix")
        .set("file", "x");
}
