//! Compares the domi-nix NixOS contract with a real nixpkgs.
//!
//! domi-nix modules are evaluated offline against `nix-modules/contract`: a
//! tree mirroring nixpkgs' layout whose files declare the NixOS options
//! domi-nix uses and make the definitions nixpkgs' file of the same path
//! makes (plus stubs for the `pkgs` attributes the modules use). This crate
//! checks that the contract still tells the truth. It compares two JSON
//! documents of the same shape (schema 2):
//!
//! * the contract's own description — `describe` in
//!   `nix-modules/contract/default.nix`;
//! * what nixpkgs declares and defines — `nix-modules/contract/verify.nix`,
//!   evaluated against a nixpkgs checkout.
//!
//! ```json
//! { "schema": 2,
//!   "options": { "<dotted.path>": {
//!       "exists": true, "declaredIn": ["nixos/modules/…nix"],
//!       "type": "list of string", "typeName": "listOf",
//!       "subOptions": { "<name>": "<type description>" },
//!       "keyed": "complete" | "partial" | null,
//!       "definitions": { "system": <report> | null, "vm": …, "test": … } } },
//!   "pkgs": { "<dotted.attr>": { "exists": true } } }
//! ```
//!
//! where a `<report>` (nix-modules/contract/report.nix) is
//! `{ "priority": 100, "definitions": [{ "file": "nixos/…", "value": … }],
//!    "keys": { "<attr>": { "priority": …, "definitions": [{ "file", "value" }] } } }`
//! (`keys` and no top-level values for keyed options).
//!
//! [`compare`] turns the pair into a [`Report`] of [`Finding`]s:
//!
//! * declarations: a missing option, a changed type, a missing or changed
//!   sub-option and a missing package fail; an option declared in another
//!   file than the contract's is a warning;
//! * definitions, per option and context (`system`, `vm`, `test`): an option
//!   present in a context on one side only fails; the winning priority must
//!   match; for non-merging types the winning (file, value) pairs must match
//!   exactly; for merging types ([`MERGING_TYPES`]) every file the contract
//!   models must define the option in nixpkgs too (values are not compared),
//!   and nixpkgs files the contract does not model are warnings; keyed
//!   options are compared per attribute, and nixpkgs attributes the contract
//!   lacks fail when the contract claims to be `complete`, warn when
//!   `partial`.
//!
//! An option's default (a priority-1500 definition made by the declaring
//! file) is compared by value only: where it is declared is the
//! declaration check's business.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// Where the contract's files live, relative to the repository root.
pub const CONTRACT_DIR: &str = "nix-modules/contract";

/// The file that lists the contract's modules per context.
pub const MODULE_LIST_FILE: &str = "nix-modules/contract/module-list.nix";

/// The file that holds the contract's `pkgs` stubs.
pub const PKGS_FILE: &str = "nix-modules/contract/pkgs.nix";

/// The command that re-checks the contract.
pub const VERIFY_COMMAND: &str = "cargo xtask contract verify";

/// The JSON schema version this crate understands.
pub const SCHEMA: u64 = 2;

/// Type names whose definitions merge: several files may define them, and
/// which of them win is decided by priority alone.
pub const MERGING_TYPES: &[&str] = &[
    "listOf",
    "attrsOf",
    "lazyAttrsOf",
    "submodule",
    "separatedString",
    "coercedTo",
    "deferredModule",
];

/// The priority of an option's declared default (`mkOptionDefault`).
const DEFAULT_PRIORITY: i64 = 1500;

/// The contract file mirroring a nixpkgs-relative file.
pub fn contract_file(nixpkgs_file: &str) -> String {
    format!("{CONTRACT_DIR}/{nixpkgs_file}")
}

/// Which of the two compared documents something refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The contract's `describe` output.
    Contract,
    /// The output of `verify.nix` against a real nixpkgs.
    Nixpkgs,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Document::Contract => {
                "contract description (nix-modules/contract/default.nix `describe`)"
            }
            Document::Nixpkgs => "nixpkgs description (nix-modules/contract/verify.nix)",
        })
    }
}

/// Why two documents could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The text is not JSON.
    #[error("the {document} is not valid JSON: {source}")]
    Json {
        document: Document,
        #[source]
        source: serde_json::Error,
    },
    /// The JSON does not have the documented shape.
    #[error("the {document} does not have the expected shape: {detail}")]
    Shape { document: Document, detail: String },
    /// The document was written for another schema version.
    #[error(
        "the {document} has schema {found}, this tool understands schema {SCHEMA}; update tooling/dominix-contract or nix-modules/contract so they agree"
    )]
    Schema { document: Document, found: u64 },
    /// The contract has an option without a type description.
    #[error(
        "contract option `{option}` has no type description; give its mkOption a `type` in {file}"
    )]
    UntypedEntry { option: String, file: String },
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Failure,
    Warning,
    Ok,
}

/// The evaluation an option's definitions were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Context {
    /// A plain NixOS system (eval-config.nix with no modules).
    System,
    /// The VM variant (qemu-vm.nix and `virtualisation.vmVariant`).
    Vm,
    /// Node `machine` of a NixOS test.
    Test,
}

impl Context {
    pub const ALL: [Context; 3] = [Context::System, Context::Vm, Context::Test];

    /// The key in the JSON documents.
    pub fn key(self) -> &'static str {
        match self {
            Context::System => "system",
            Context::Vm => "vm",
            Context::Test => "test",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} context", self.key())
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The option matches nixpkgs (declaration and definitions).
    Ok,
    /// The package attribute exists in nixpkgs.
    PackageOk,
    /// nixpkgs does not declare the option.
    Missing,
    /// nixpkgs declares the option with another type.
    TypeMismatch,
    /// nixpkgs declares the option in another file.
    DeclaredElsewhere,
    /// nixpkgs' submodule lacks a sub-option the contract declares.
    SubOptionMissing,
    /// A sub-option has another type in nixpkgs.
    SubOptionTypeMismatch,
    /// nixpkgs has no such package attribute.
    PackageMissing,
    /// The option exists in a context on one side only.
    ContextMismatch,
    /// nixpkgs' definitions could not be evaluated.
    Unevaluable,
    /// The winning definitions have another priority.
    PriorityMismatch,
    /// The contract models a winning definition nixpkgs does not make.
    DefinitionMissing,
    /// The same file defines another value in nixpkgs.
    ValueMismatch,
    /// nixpkgs makes a winning definition the contract does not model.
    UnmodelledDefinition,
    /// nixpkgs defines an attribute of a keyed option the contract lacks.
    UnmodelledKey,
}

/// One result of the comparison: what is wrong (or fine), where to fix it,
/// what each side says, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub kind: Kind,
    /// The option's dotted path, or `pkgs.<attr>` for a package.
    pub subject: String,
    /// For definition findings, the evaluation they come from.
    pub context: Option<Context>,
    /// For keyed options, the attribute (`"kernel.kptr_restrict"`).
    pub key: Option<String>,
    /// One line saying what differs.
    pub what: String,
    /// The contract file to edit (repository-relative).
    pub file: String,
    /// What the contract says (empty for `Ok`).
    pub contract: String,
    /// What nixpkgs says (empty for `Ok`).
    pub nixpkgs: String,
    /// What to do about it (empty for `Ok`).
    pub fix: String,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The option (or `pkgs.<attr>`) the finding is about.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    fn ok(kind: Kind, subject: String, file: String) -> Self {
        Finding {
            severity: Severity::Ok,
            kind,
            subject,
            context: None,
            key: None,
            what: String::new(),
            file,
            contract: String::new(),
            nixpkgs: String::new(),
            fix: String::new(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Failure => "FAIL",
            Severity::Warning => "WARN",
            Severity::Ok => "ok  ",
        };
        write!(f, "{tag}  {}", self.subject)?;
        if let Some(key) = &self.key {
            write!(f, ".\"{key}\"")?;
        }
        if self.severity == Severity::Ok {
            return Ok(());
        }
        if let Some(context) = self.context {
            write!(f, " ({context})")?;
        }
        writeln!(f, ": {}", self.what)?;
        writeln!(f, "      contract ({}): {}", self.file, self.contract)?;
        writeln!(f, "      nixpkgs: {}", self.nixpkgs)?;
        write!(f, "      fix: {}", self.fix)
    }
}

/// The outcome of [`compare`]: every finding, in contract order (options by
/// path, then packages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    findings: Vec<Finding>,
}

impl Report {
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn failures(&self) -> impl Iterator<Item = &Finding> {
        self.with(Severity::Failure)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.with(Severity::Warning)
    }

    /// No failures (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.failures().next().is_none()
    }

    fn with(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |finding| finding.severity() == severity)
    }

    fn count(&self, kind: Kind) -> usize {
        self.findings.iter().filter(|x| x.kind == kind).count()
    }
}

impl fmt::Display for Report {
    /// Failures first, then warnings, then a one-line count of what is fine.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failures = self.failures().count();
        let warnings = self.warnings().count();
        let ok_options = self.count(Kind::Ok);
        let ok_packages = self.count(Kind::PackageOk);
        writeln!(
            f,
            "NixOS contract vs nixpkgs: {failures} failure(s), {warnings} warning(s); {ok_options} option(s) and {ok_packages} package(s) ok"
        )?;
        for finding in self.failures().chain(self.warnings()) {
            writeln!(f, "\n{finding}")?;
        }
        Ok(())
    }
}

/// `declaredIn` is a list of files; a single string is accepted too.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Files {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
struct Definition {
    file: String,
    /// Absent for the top-level definitions of keyed options.
    value: Option<Value>,
}

/// The winning definitions of an option (or of one attribute of it).
#[derive(Debug, Clone, Deserialize)]
struct Winners {
    priority: Option<i64>,
    #[serde(default)]
    definitions: Vec<Definition>,
}

/// report.nix's report of one option in one context.
#[derive(Debug, Deserialize)]
struct ContextReport {
    #[serde(flatten)]
    winners: Winners,
    keys: Option<BTreeMap<String, Winners>>,
    /// Set by verify.nix when the definitions could not be evaluated.
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionInfo {
    exists: Option<bool>,
    declared_in: Option<Files>,
    #[serde(rename = "type")]
    type_description: Option<String>,
    type_name: Option<String>,
    #[serde(default)]
    sub_options: BTreeMap<String, Option<String>>,
    keyed: Option<String>,
    #[serde(default)]
    definitions: BTreeMap<String, Option<ContextReport>>,
}

impl OptionInfo {
    fn exists(&self) -> bool {
        self.exists.unwrap_or(self.type_description.is_some())
    }

    fn declared_in_files(&self) -> Vec<String> {
        match &self.declared_in {
            Some(Files::One(file)) => vec![file.clone()],
            Some(Files::Many(files)) => files.clone(),
            None => Vec::new(),
        }
    }

    fn in_context(&self, context: Context) -> Option<&ContextReport> {
        self.definitions.get(context.key()).and_then(Option::as_ref)
    }
}

#[derive(Debug, Deserialize)]
struct PackageInfo {
    exists: bool,
}

#[derive(Debug, Deserialize)]
struct Description {
    schema: Option<u64>,
    options: BTreeMap<String, OptionInfo>,
    #[serde(default)]
    pkgs: BTreeMap<String, PackageInfo>,
}

impl Description {
    fn parse(document: Document, value: &Value) -> Result<Self, ContractError> {
        let description = Description::deserialize(value).map_err(|err| ContractError::Shape {
            document,
            detail: err.to_string(),
        })?;
        match description.schema {
            Some(found) if found != SCHEMA => Err(ContractError::Schema { document, found }),
            _ => Ok(description),
        }
    }
}

/// A type as shown in a finding: its description, plus its name when the
/// names differ but the descriptions do not.
fn shown(description: &str, name: Option<&str>, other_description: &str) -> String {
    match name {
        Some(name) if description == other_description => {
            format!("{description} (type name `{name}`)")
        }
        _ => description.to_owned(),
    }
}

/// A JSON value in one line, shortened for the report.
fn short(value: &Value) -> String {
    const MAX: usize = 160;
    let text = value.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn priority_text(priority: Option<i64>) -> String {
    priority.map_or_else(|| "(none)".to_owned(), |p| p.to_string())
}

/// The winning definitions in a finding: `priority P: file = value; …`.
fn winners_text(winners: &Winners, with_values: bool) -> String {
    let defs: Vec<String> = winners
        .definitions
        .iter()
        .map(|d| match (&d.value, with_values) {
            (Some(value), true) => format!("{} = {}", d.file, short(value)),
            _ => d.file.clone(),
        })
        .collect();
    let defs = if defs.is_empty() {
        "no definitions".to_owned()
    } else {
        defs.join("; ")
    };
    format!("priority {}: {defs}", priority_text(winners.priority))
}

/// The nixpkgs `mk*` form of a priority, for fixes.
fn priority_form(priority: Option<i64>) -> String {
    match priority {
        Some(50) => "lib.mkForce".to_owned(),
        Some(100) => "a plain definition".to_owned(),
        Some(1000) => "lib.mkDefault".to_owned(),
        Some(1500) => "the option's `default` (or lib.mkOptionDefault)".to_owned(),
        Some(p) => format!("lib.mkOverride {p}"),
        None => "no definition".to_owned(),
    }
}

/// A definition as compared: the file (or `None` for the option's default,
/// made by the declaring file at priority 1500) and its value.
fn normalized(winners: &Winners, declared_in: &[String]) -> Vec<(Option<String>, String)> {
    let mut out: Vec<_> = winners
        .definitions
        .iter()
        .map(|d| {
            let default =
                winners.priority == Some(DEFAULT_PRIORITY) && declared_in.contains(&d.file);
            let value = d.value.as_ref().map(Value::to_string).unwrap_or_default();
            ((!default).then(|| d.file.clone()), value)
        })
        .collect();
    out.sort();
    out
}

/// Everything the comparison of one option needs to word its findings.
struct Subject<'a> {
    option: &'a str,
    context: Context,
    key: Option<&'a str>,
    /// The contract file declaring the option (repository-relative).
    declared_file: &'a str,
    contract_declared: &'a [String],
    nixpkgs_declared: &'a [String],
}

impl Subject<'_> {
    fn finding(
        &self,
        severity: Severity,
        kind: Kind,
        what: String,
        file: String,
        [contract, nixpkgs]: [String; 2],
        fix: String,
    ) -> Finding {
        Finding {
            severity,
            context: Some(self.context),
            key: self.key.map(str::to_owned),
            what,
            contract,
            nixpkgs,
            fix: format!("{fix}, then run `{VERIFY_COMMAND}`"),
            ..Finding::ok(kind, self.option.to_owned(), file)
        }
    }

    fn named(&self) -> String {
        match self.key {
            Some(key) => format!("`{}.\"{key}\"`", self.option),
            None => format!("`{}`", self.option),
        }
    }

    /// The contract file a definition in `file` belongs to.
    fn file_for(&self, file: &str) -> String {
        if file.starts_with("nixos/") {
            contract_file(file)
        } else {
            self.declared_file.to_owned()
        }
    }

    /// Compares the winning definitions of the option (or one attribute).
    fn compare_winners(
        &self,
        wanted: &Winners,
        found: &Winners,
        merging: bool,
        findings: &mut Vec<Finding>,
    ) {
        let with_values = !merging;
        let named = self.named();
        let sides = || [wanted, found].map(|winners| winners_text(winners, with_values));
        if wanted.priority != found.priority {
            // Name the file whose definition decides the priority.
            let deciding = found.definitions.first().or(wanted.definitions.first());
            let file = self.file_for(deciding.map_or("", |d| d.file.as_str()));
            findings.push(self.finding(
                Severity::Failure,
                Kind::PriorityMismatch,
                format!(
                    "the winning definitions have priority {} in nixpkgs, {} in the contract",
                    priority_text(found.priority),
                    priority_text(wanted.priority)
                ),
                file.clone(),
                sides(),
                format!(
                    "make the contract's definition of {named} in {file} like nixpkgs' ({})",
                    priority_form(found.priority)
                ),
            ));
            return;
        }

        let contract_defs = normalized(wanted, self.contract_declared);
        let nixpkgs_defs = normalized(found, self.nixpkgs_declared);
        let [contract_files, nixpkgs_files] = [&contract_defs, &nixpkgs_defs]
            .map(|defs| defs.iter().map(|(f, _)| f.clone()).collect::<BTreeSet<_>>());
        let declared = self.declared_file;
        // The contract file to edit for a definition, and how to name it.
        let place = |file: &Option<String>| match file {
            Some(f) => (self.file_for(f), f.clone()),
            None => (declared.to_owned(), "the option's default".to_owned()),
        };

        for file in &contract_files {
            let (target, shown) = place(file);
            let [ours, theirs] = [&contract_defs, &nixpkgs_defs]
                .map(|defs| defs.iter().filter(|(f, _)| f == file).collect::<Vec<_>>());
            if !nixpkgs_files.contains(file) {
                findings.push(self.finding(
                    Severity::Failure,
                    Kind::DefinitionMissing,
                    format!(
                        "the contract defines it in {shown}, nixpkgs does not (among the winning definitions)"
                    ),
                    target.clone(),
                    sides(),
                    format!(
                        "remove or change the definition of {named} in {target} to match nixpkgs"
                    ),
                ));
            } else if with_values && ours != theirs {
                findings.push(self.finding(
                    Severity::Failure,
                    Kind::ValueMismatch,
                    format!("{shown} defines another value in nixpkgs"),
                    target.clone(),
                    sides(),
                    format!("change the value of {named} in {target} to nixpkgs' value"),
                ));
            }
        }
        for file in nixpkgs_files.difference(&contract_files) {
            let (target, shown) = place(file);
            let (severity, what) = if merging {
                (
                    Severity::Warning,
                    format!(
                        "nixpkgs also defines it in {shown}, which the contract does not model (it merges, so it cannot change which definitions win)"
                    ),
                )
            } else {
                (
                    Severity::Failure,
                    format!("nixpkgs defines it in {shown}, which the contract does not model"),
                )
            };
            let fix = if target.as_str() == declared || !target.starts_with(CONTRACT_DIR) {
                format!("model nixpkgs' definition of {named} in {target}")
            } else {
                format!(
                    "model nixpkgs' definition of {named} in {target} (create it, mirroring nixpkgs' file, and list it in {MODULE_LIST_FILE} if it is new)"
                )
            };
            findings.push(self.finding(
                severity,
                Kind::UnmodelledDefinition,
                what,
                target,
                sides(),
                fix,
            ));
        }
    }
}

/// Compares one option's definitions in one context.
fn compare_context(
    subject: &Subject<'_>,
    wanted: &OptionInfo,
    found: &OptionInfo,
    findings: &mut Vec<Finding>,
) {
    let context = subject.context;
    let declared = subject.declared_file;
    let [yes, no] = ["declared", "not declared"].map(|d| format!("{d} in the {context}"));
    match (wanted.in_context(context), found.in_context(context)) {
        (None, None) => {}
        (Some(_), None) => findings.push(subject.finding(
            Severity::Failure,
            Kind::ContextMismatch,
            format!("nixpkgs has no such option in the {context}"),
            declared.to_owned(),
            [yes, no],
            format!(
                "declare `{}` only where nixpkgs does: move its declaration to the contract file mirroring nixpkgs' declaring file ({}) and check {MODULE_LIST_FILE} lists that file in the same contexts as nixpkgs loads it",
                subject.option,
                subject.nixpkgs_declared.join(", ")
            ),
        )),
        (None, Some(_)) => findings.push(subject.finding(
            Severity::Failure,
            Kind::ContextMismatch,
            format!("the contract has no such option in the {context}, nixpkgs has"),
            declared.to_owned(),
            [no, yes],
            format!(
                "list {declared} in the `{}` context of {MODULE_LIST_FILE} (nixpkgs loads its declaring file there)",
                context.key()
            ),
        )),
        (Some(_), Some(real)) if real.error.is_some() => findings.push(subject.finding(
            Severity::Failure,
            Kind::Unevaluable,
            "nixpkgs' definitions could not be evaluated".to_owned(),
            declared.to_owned(),
            [String::new(), "<error>".to_owned()],
            format!(
                "evaluate `options.{}` of nixpkgs' {context} by hand to see the error",
                subject.option
            ),
        )),
        (Some(model), Some(real)) => match wanted.keyed.as_deref() {
            Some(keyed) => compare_keys(subject, keyed, model, real, findings),
            None => {
                let merging = MERGING_TYPES.contains(&wanted.type_name.as_deref().unwrap_or(""));
                subject.compare_winners(&model.winners, &real.winners, merging, findings)
            }
        },
    }
}

/// Compares a keyed option attribute by attribute.
fn compare_keys(
    subject: &Subject<'_>,
    keyed: &str,
    model: &ContextReport,
    real: &ContextReport,
    findings: &mut Vec<Finding>,
) {
    // The top-level priority only matters where the contract models a real
    // definition; otherwise it differs because of attributes the contract
    // leaves out, which are reported one by one below.
    if model.winners.priority.is_some_and(|p| p < DEFAULT_PRIORITY)
        && model.winners.priority != real.winners.priority
    {
        subject.compare_winners(&model.winners, &real.winners, true, findings);
    }
    let empty = BTreeMap::new();
    let model_keys = model.keys.as_ref().unwrap_or(&empty);
    let real_keys = real.keys.as_ref().unwrap_or(&empty);
    // The contract file of an attribute: where its first winning definition is.
    let file_of = |winners: &Winners| match winners.definitions.first() {
        Some(d) => subject.file_for(&d.file),
        None => subject.declared_file.to_owned(),
    };
    for (key, wanted) in model_keys {
        let subject = Subject {
            key: Some(key),
            ..*subject
        };
        match real_keys.get(key) {
            Some(found) => subject.compare_winners(wanted, found, false, findings),
            None => {
                let file = file_of(wanted);
                findings.push(subject.finding(
                    Severity::Failure,
                    Kind::DefinitionMissing,
                    "the contract defines this attribute, nixpkgs does not".to_owned(),
                    file.clone(),
                    [winners_text(wanted, true), "not defined".to_owned()],
                    format!("remove the definition of {} from {file}", subject.named()),
                ));
            }
        }
    }
    for (key, found) in real_keys
        .iter()
        .filter(|(key, _)| !model_keys.contains_key(*key))
    {
        let subject = Subject {
            key: Some(key),
            ..*subject
        };
        let file = file_of(found);
        let (severity, what) = if keyed == "complete" {
            (
                Severity::Failure,
                "nixpkgs defines this attribute; the contract models every attribute of this option (keyed = \"complete\") but not this one".to_owned(),
            )
        } else {
            (
                Severity::Warning,
                "nixpkgs defines this attribute, the contract does not model it (keyed = \"partial\")".to_owned(),
            )
        };
        findings.push(subject.finding(
            severity,
            Kind::UnmodelledKey,
            what,
            file.clone(),
            ["not defined".to_owned(), winners_text(found, true)],
            format!(
                "define {} in {file} as nixpkgs does ({})",
                subject.named(),
                priority_form(found.priority)
            ),
        ));
    }
}

/// Compares the contract's description with what nixpkgs declares and defines.
///
/// `contract` is `describe` from `nix-modules/contract/default.nix`, `real`
/// the output of `nix-modules/contract/verify.nix`. Every contract option
/// gets its declaration and definition findings, and `Ok` when none of them
/// fails; every contract package gets `PackageOk` or `PackageMissing`.
pub fn compare(contract: &Value, real: &Value) -> Result<Report, ContractError> {
    let contract = Description::parse(Document::Contract, contract)?;
    let real = Description::parse(Document::Nixpkgs, real)?;
    let mut findings = Vec::new();

    for (option, wanted) in &contract.options {
        let contract_declared = wanted.declared_in_files();
        let declared_file = contract_declared
            .first()
            .map_or_else(|| CONTRACT_DIR.to_owned(), |f| contract_file(f));
        let Some(wanted_type) = wanted.type_description.as_deref() else {
            return Err(ContractError::UntypedEntry {
                option: option.clone(),
                file: declared_file,
            });
        };
        let ok = Finding::ok(Kind::Ok, option.clone(), declared_file.clone());
        let declaration = |severity, kind, what, contract, nixpkgs, fix: String| Finding {
            severity,
            kind,
            what,
            contract,
            nixpkgs,
            fix: format!("{fix}, then run `{VERIFY_COMMAND}`"),
            ..ok.clone()
        };
        let mut found_here = Vec::new();
        let Some(found) = real.options.get(option).filter(|found| found.exists()) else {
            findings.push(declaration(
                Severity::Failure,
                Kind::Missing,
                "nixpkgs does not declare this option".to_owned(),
                format!("declared in {}", contract_declared.join(", ")),
                "not declared".to_owned(),
                format!(
                    "find where nixpkgs renamed or removed `{option}` (its release notes, or `mkRenamedOptionModule`/`mkRemovedOptionModule`); \
                     update its declaration in {declared_file} and every domi-nix module that uses it"
                ),
            ));
            continue;
        };

        let found_type = found
            .type_description
            .as_deref()
            .unwrap_or("(no type reported)");
        let names_differ =
            matches!((&wanted.type_name, &found.type_name), (Some(a), Some(b)) if a != b);
        if wanted_type != found_type || names_differ {
            found_here.push(declaration(
                Severity::Failure,
                Kind::TypeMismatch,
                "type differs from nixpkgs".to_owned(),
                shown(wanted_type, wanted.type_name.as_deref(), found_type),
                shown(found_type, found.type_name.as_deref(), wanted_type),
                format!(
                    "change the `type` of `{option}` in {declared_file} to the type nixpkgs declares and check the modules that set it still type-check"
                ),
            ));
        } else {
            let reported =
                |sub: &Option<String>| sub.clone().unwrap_or("(no type reported)".into());
            for (sub_option, wanted_sub) in &wanted.sub_options {
                let wanted_sub = reported(wanted_sub);
                match found.sub_options.get(sub_option).map(reported) {
                    None => found_here.push(declaration(
                        Severity::Failure,
                        Kind::SubOptionMissing,
                        format!("nixpkgs has no sub-option `{sub_option}`"),
                        wanted_sub,
                        "no such sub-option".to_owned(),
                        format!(
                            "remove or rename the sub-option `{sub_option}` of `{option}` in {declared_file} (and in the modules that set it)"
                        ),
                    )),
                    Some(found_sub) if found_sub != wanted_sub => found_here.push(declaration(
                        Severity::Failure,
                        Kind::SubOptionTypeMismatch,
                        format!("sub-option `{sub_option}` has another type in nixpkgs"),
                        wanted_sub,
                        found_sub,
                        format!(
                            "change the type of the sub-option `{sub_option}` of `{option}` in {declared_file} to the one nixpkgs declares"
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }

        let nixpkgs_declared = found.declared_in_files();
        if let Some(first) = contract_declared.first()
            && let Some(theirs) = nixpkgs_declared.first()
            && !nixpkgs_declared.contains(first)
        {
            let target = contract_file(theirs);
            found_here.push(declaration(
                Severity::Warning,
                Kind::DeclaredElsewhere,
                "declared in another nixpkgs file than the contract says".to_owned(),
                format!("declared in {}", contract_declared.join(", ")),
                format!("declared in {}", nixpkgs_declared.join(", ")),
                format!(
                    "move the declaration of `{option}` (and the definitions nixpkgs moved with it) from {declared_file} to {target}, listing that file in {MODULE_LIST_FILE} if it is new"
                ),
            ));
        }

        for context in Context::ALL {
            let subject = Subject {
                option,
                context,
                key: None,
                declared_file: &declared_file,
                contract_declared: &contract_declared,
                nixpkgs_declared: &nixpkgs_declared,
            };
            compare_context(&subject, wanted, found, &mut found_here);
        }

        if found_here.iter().all(|x| x.severity != Severity::Failure) {
            findings.push(ok);
        }
        findings.extend(found_here);
    }

    for attr in contract.pkgs.keys() {
        let ok = Finding::ok(
            Kind::PackageOk,
            format!("pkgs.{attr}"),
            PKGS_FILE.to_owned(),
        );
        findings.push(if real.pkgs.get(attr).is_some_and(|found| found.exists) {
            ok
        } else {
            Finding {
                severity: Severity::Failure,
                kind: Kind::PackageMissing,
                what: "nixpkgs has no such attribute".to_owned(),
                contract: format!("a stub for `pkgs.{attr}`"),
                nixpkgs: "no such attribute".to_owned(),
                fix: format!(
                    "find what replaced `pkgs.{attr}` in nixpkgs; update the stub and `_contract.paths` in {PKGS_FILE} \
                     and the modules that use it, then run `{VERIFY_COMMAND}`"
                ),
                ..ok
            }
        });
    }

    Ok(Report { findings })
}

/// [`compare`] on JSON text.
pub fn compare_json(contract: &str, real: &str) -> Result<Report, ContractError> {
    let parse = |document, text: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|source| ContractError::Json { document, source })
    };
    compare(
        &parse(Document::Contract, contract)?,
        &parse(Document::Nixpkgs, real)?,
    )
}

#[cfg(test)]
mod tests;
