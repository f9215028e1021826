//! Compares the domi-nix NixOS contract with a real nixpkgs.
//!
//! domi-nix modules are evaluated offline against `nix-modules/contract`: a
//! declared subset of NixOS options (and stubs for the `pkgs` attributes the
//! modules use). This crate checks that the contract still tells the truth.
//! It compares two JSON documents of the same shape:
//!
//! * the contract's own description — `describe` in
//!   `nix-modules/contract/default.nix`;
//! * what nixpkgs declares — `nix-modules/contract/verify.nix`, evaluated
//!   against a nixpkgs checkout.
//!
//! ```json
//! { "schema": 1,
//!   "options": { "<dotted.path>": { "exists": true,
//!                                   "declaredIn": ["nixos/modules/…nix"],
//!                                   "type": "list of string", "typeName": "listOf",
//!                                   "subOptions": { "<name>": "<type description>" } } },
//!   "pkgs": { "<dotted.attr>": { "exists": true } } }
//! ```
//!
//! [`compare`] turns the pair into a [`Report`]: one [`Finding`] per option,
//! sub-option problem and package. A missing option, a changed type, a
//! missing or changed sub-option and a missing package are failures; an
//! option now declared in another nixpkgs file is only a warning.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// The file that holds the contract's option entries.
pub const CONTRACT_FILE: &str = "nix-modules/contract/options.nix";

/// The file that holds the contract's `pkgs` stubs.
pub const PKGS_FILE: &str = "nix-modules/contract/pkgs.nix";

/// The command that re-checks the contract.
pub const VERIFY_COMMAND: &str = "cargo xtask contract verify";

/// The JSON schema version this crate understands.
pub const SCHEMA: u64 = 1;

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
        "the {document} has schema {found}, this tool understands schema {SCHEMA}; update crates/dominix-contract or nix-modules/contract so they agree"
    )]
    Schema { document: Document, found: u64 },
    /// The contract has an entry without a type description.
    #[error(
        "contract entry `{option}` has no type description; give it a `type` in {CONTRACT_FILE}"
    )]
    UntypedEntry { option: String },
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Failure,
    Warning,
    Ok,
}

/// One result of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The option exists in nixpkgs with the contract's type and sub-options.
    Ok { option: String },
    /// The package attribute exists in nixpkgs.
    PackageOk { attr: String },
    /// nixpkgs does not declare the option.
    Missing { option: String },
    /// nixpkgs declares the option with another type.
    TypeMismatch {
        option: String,
        contract: String,
        nixpkgs: String,
    },
    /// nixpkgs declares the option, but not in the file the contract names.
    /// A warning: the option still works, the contract's note is stale.
    DeclaredElsewhere {
        option: String,
        contract_file: String,
        nixpkgs_files: Vec<String>,
    },
    /// The option's submodule lacks a sub-option the contract declares.
    SubOptionMissing { option: String, sub_option: String },
    /// A sub-option has another type in nixpkgs.
    SubOptionTypeMismatch {
        option: String,
        sub_option: String,
        contract: String,
        nixpkgs: String,
    },
    /// nixpkgs has no such package attribute.
    PackageMissing { attr: String },
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Ok { .. } | Finding::PackageOk { .. } => Severity::Ok,
            Finding::DeclaredElsewhere { .. } => Severity::Warning,
            Finding::Missing { .. }
            | Finding::TypeMismatch { .. }
            | Finding::SubOptionMissing { .. }
            | Finding::SubOptionTypeMismatch { .. }
            | Finding::PackageMissing { .. } => Severity::Failure,
        }
    }

    /// The option or package attribute the finding is about.
    pub fn subject(&self) -> &str {
        match self {
            Finding::Ok { option }
            | Finding::Missing { option }
            | Finding::TypeMismatch { option, .. }
            | Finding::DeclaredElsewhere { option, .. }
            | Finding::SubOptionMissing { option, .. }
            | Finding::SubOptionTypeMismatch { option, .. } => option,
            Finding::PackageOk { attr } | Finding::PackageMissing { attr } => attr,
        }
    }

    /// What to do about it (empty for `Ok` findings).
    pub fn fix(&self) -> String {
        match self {
            Finding::Ok { .. } | Finding::PackageOk { .. } => String::new(),
            Finding::Missing { option } => format!(
                "find where nixpkgs renamed or removed `{option}` (its release notes, or `mkRenamedOptionModule`/`mkRemovedOptionModule`); \
                 update the entry in {CONTRACT_FILE} and every domi-nix module that uses it, then run `{VERIFY_COMMAND}`"
            ),
            Finding::TypeMismatch { option, .. } => format!(
                "change the `type` of \"{option}\" in {CONTRACT_FILE} to the type nixpkgs declares, \
                 check the modules that set it still type-check, then run `{VERIFY_COMMAND}`"
            ),
            Finding::DeclaredElsewhere {
                option,
                nixpkgs_files,
                ..
            } => format!(
                "set `declaredIn` of \"{option}\" in {CONTRACT_FILE} to \"{}\" (and move the entry to that file's group), then run `{VERIFY_COMMAND}`",
                nixpkgs_files
                    .first()
                    .map(String::as_str)
                    .unwrap_or("the file nixpkgs reports")
            ),
            Finding::SubOptionMissing { option, sub_option } => format!(
                "remove or rename the sub-option `{sub_option}` of \"{option}\" in {CONTRACT_FILE} \
                 (and in the modules that set it), then run `{VERIFY_COMMAND}`"
            ),
            Finding::SubOptionTypeMismatch {
                option, sub_option, ..
            } => format!(
                "change the type of the sub-option `{sub_option}` of \"{option}\" in {CONTRACT_FILE} to the one nixpkgs declares, \
                 then run `{VERIFY_COMMAND}`"
            ),
            Finding::PackageMissing { attr } => format!(
                "find what replaced `pkgs.{attr}` in nixpkgs; update the stub and `_contract.paths` in {PKGS_FILE} \
                 and the modules that use it, then run `{VERIFY_COMMAND}`"
            ),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Ok { option } => write!(f, "ok    {option}"),
            Finding::PackageOk { attr } => write!(f, "ok    pkgs.{attr}"),
            Finding::Missing { option } => {
                writeln!(f, "FAIL  {option}: nixpkgs does not declare this option")?;
                writeln!(f, "      contract entry: {CONTRACT_FILE}")?;
                write!(f, "      fix: {}", self.fix())
            }
            Finding::TypeMismatch {
                option,
                contract,
                nixpkgs,
            } => {
                writeln!(f, "FAIL  {option}: type differs from nixpkgs")?;
                writeln!(f, "      contract ({CONTRACT_FILE}): {contract}")?;
                writeln!(f, "      nixpkgs: {nixpkgs}")?;
                write!(f, "      fix: {}", self.fix())
            }
            Finding::DeclaredElsewhere {
                option,
                contract_file,
                nixpkgs_files,
            } => {
                writeln!(
                    f,
                    "WARN  {option}: declared in another nixpkgs file than the contract says"
                )?;
                writeln!(
                    f,
                    "      contract ({CONTRACT_FILE}): declaredIn = {contract_file}"
                )?;
                writeln!(f, "      nixpkgs: {}", nixpkgs_files.join(", "))?;
                write!(f, "      fix: {}", self.fix())
            }
            Finding::SubOptionMissing { option, sub_option } => {
                writeln!(
                    f,
                    "FAIL  {option}: nixpkgs has no sub-option `{sub_option}`"
                )?;
                writeln!(f, "      contract entry: {CONTRACT_FILE}")?;
                write!(f, "      fix: {}", self.fix())
            }
            Finding::SubOptionTypeMismatch {
                option,
                sub_option,
                contract,
                nixpkgs,
            } => {
                writeln!(
                    f,
                    "FAIL  {option}: sub-option `{sub_option}` has another type in nixpkgs"
                )?;
                writeln!(f, "      contract ({CONTRACT_FILE}): {contract}")?;
                writeln!(f, "      nixpkgs: {nixpkgs}")?;
                write!(f, "      fix: {}", self.fix())
            }
            Finding::PackageMissing { attr } => {
                writeln!(f, "FAIL  pkgs.{attr}: nixpkgs has no such attribute")?;
                writeln!(f, "      contract stub: {PKGS_FILE}")?;
                write!(f, "      fix: {}", self.fix())
            }
        }
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
}

impl fmt::Display for Report {
    /// Failures first, then warnings, then a one-line count of what is fine.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failures = self.failures().count();
        let warnings = self.warnings().count();
        let ok_options = self
            .findings
            .iter()
            .filter(|x| matches!(x, Finding::Ok { .. }))
            .count();
        let ok_packages = self
            .findings
            .iter()
            .filter(|x| matches!(x, Finding::PackageOk { .. }))
            .count();
        writeln!(
            f,
            "NixOS contract vs nixpkgs: {failures} failure(s), {warnings} warning(s); {ok_options} option(s) and {ok_packages} package(s) ok"
        )?;
        for finding in self.failures().chain(self.warnings()) {
            writeln!(f)?;
            writeln!(f, "{finding}")?;
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

/// Compares the contract's description with what nixpkgs declares.
///
/// `contract` is `describe` from `nix-modules/contract/default.nix`, `real`
/// the output of `nix-modules/contract/verify.nix`. Every contract option
/// gets exactly one of `Ok`, `Missing` or `TypeMismatch`, followed by any
/// `DeclaredElsewhere` and sub-option findings; every contract package gets
/// `PackageOk` or `PackageMissing`.
pub fn compare(contract: &Value, real: &Value) -> Result<Report, ContractError> {
    let contract = Description::parse(Document::Contract, contract)?;
    let real = Description::parse(Document::Nixpkgs, real)?;
    let mut findings = Vec::new();

    for (option, wanted) in &contract.options {
        let Some(wanted_type) = wanted.type_description.as_deref() else {
            return Err(ContractError::UntypedEntry {
                option: option.clone(),
            });
        };
        let Some(found) = real.options.get(option).filter(|found| found.exists()) else {
            findings.push(Finding::Missing {
                option: option.clone(),
            });
            continue;
        };

        let found_type = found
            .type_description
            .as_deref()
            .unwrap_or("(no type reported)");
        let names_differ =
            matches!((&wanted.type_name, &found.type_name), (Some(a), Some(b)) if a != b);
        if wanted_type != found_type || names_differ {
            findings.push(Finding::TypeMismatch {
                option: option.clone(),
                contract: shown(wanted_type, wanted.type_name.as_deref(), found_type),
                nixpkgs: shown(found_type, found.type_name.as_deref(), wanted_type),
            });
        } else {
            let mut sub_findings = Vec::new();
            for (sub_option, wanted_sub) in &wanted.sub_options {
                let wanted_sub = wanted_sub.as_deref().unwrap_or("(no type reported)");
                match found.sub_options.get(sub_option) {
                    None => sub_findings.push(Finding::SubOptionMissing {
                        option: option.clone(),
                        sub_option: sub_option.clone(),
                    }),
                    Some(found_sub) => {
                        let found_sub = found_sub.as_deref().unwrap_or("(no type reported)");
                        if found_sub != wanted_sub {
                            sub_findings.push(Finding::SubOptionTypeMismatch {
                                option: option.clone(),
                                sub_option: sub_option.clone(),
                                contract: wanted_sub.to_owned(),
                                nixpkgs: found_sub.to_owned(),
                            });
                        }
                    }
                }
            }
            if sub_findings.is_empty() {
                findings.push(Finding::Ok {
                    option: option.clone(),
                });
            }
            findings.extend(sub_findings);
        }

        let contract_files = wanted.declared_in_files();
        let nixpkgs_files = found.declared_in_files();
        if let Some(contract_file) = contract_files.first()
            && !nixpkgs_files.is_empty()
            && !nixpkgs_files.contains(contract_file)
        {
            findings.push(Finding::DeclaredElsewhere {
                option: option.clone(),
                contract_file: contract_file.clone(),
                nixpkgs_files,
            });
        }
    }

    for attr in contract.pkgs.keys() {
        let exists = real.pkgs.get(attr).is_some_and(|found| found.exists);
        findings.push(if exists {
            Finding::PackageOk { attr: attr.clone() }
        } else {
            Finding::PackageMissing { attr: attr.clone() }
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
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Value {
        json!({
            "schema": 1,
            "options": {
                "a.b": { "exists": true, "declaredIn": ["nixos/modules/a.nix"], "type": "boolean", "typeName": "bool", "subOptions": {} },
                "u.users": { "exists": true, "declaredIn": "nixos/modules/u.nix", "type": "attribute set of (submodule)", "typeName": "attrsOf",
                             "subOptions": { "home": "absolute path", "shell": "string" } }
            },
            "pkgs": { "jq": { "exists": true } }
        })
    }

    #[test]
    fn identical_documents_are_ok() -> Result<(), ContractError> {
        let report = compare(&contract(), &contract())?;
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.findings().len(), 3);
        assert_eq!(report.warnings().count(), 0);
        Ok(())
    }

    #[test]
    fn type_name_difference_alone_is_a_mismatch() -> Result<(), ContractError> {
        let mut real = contract();
        real["options"]["a.b"]["typeName"] = json!("boolean");
        let report = compare(&contract(), &real)?;
        assert_eq!(
            report.findings()[0],
            Finding::TypeMismatch {
                option: "a.b".into(),
                contract: "boolean (type name `bool`)".into(),
                nixpkgs: "boolean (type name `boolean`)".into(),
            }
        );
        Ok(())
    }

    #[test]
    fn sub_option_findings_replace_ok() -> Result<(), ContractError> {
        let mut real = contract();
        real["options"]["u.users"]["subOptions"] = json!({ "home": "path" });
        let report = compare(&contract(), &real)?;
        let about_users: Vec<_> = report
            .findings()
            .iter()
            .filter(|x| x.subject() == "u.users")
            .collect();
        assert_eq!(about_users.len(), 2, "{report}");
        assert!(
            about_users
                .iter()
                .all(|x| x.severity() == Severity::Failure)
        );
        Ok(())
    }

    #[test]
    fn exists_false_is_missing_even_with_other_fields() -> Result<(), ContractError> {
        let mut real = contract();
        real["options"]["a.b"]["exists"] = json!(false);
        let report = compare(&contract(), &real)?;
        assert_eq!(
            report.findings()[0],
            Finding::Missing {
                option: "a.b".into()
            }
        );
        Ok(())
    }

    #[test]
    fn bad_shape_and_schema_are_errors() {
        let err = compare(&json!({"options": 3}), &contract());
        assert!(matches!(
            err,
            Err(ContractError::Shape {
                document: Document::Contract,
                ..
            })
        ));
        let mut real = contract();
        real["schema"] = json!(2);
        let err = compare(&contract(), &real);
        assert!(matches!(
            err,
            Err(ContractError::Schema {
                document: Document::Nixpkgs,
                found: 2
            })
        ));
        let err = compare_json("{}", &contract().to_string());
        assert!(matches!(
            err,
            Err(ContractError::Shape {
                document: Document::Contract,
                ..
            })
        ));
        let err = compare_json(&contract().to_string(), "not json");
        assert!(matches!(
            err,
            Err(ContractError::Json {
                document: Document::Nixpkgs,
                ..
            })
        ));
    }

    #[test]
    fn untyped_contract_entry_is_an_error() {
        let mut broken = contract();
        broken["options"]["a.b"]["type"] = Value::Null;
        let err = compare(&broken, &contract());
        assert!(matches!(err, Err(ContractError::UntypedEntry { option }) if option == "a.b"));
    }
}
