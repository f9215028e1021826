use super::*;
use serde_json::json;

fn winners(priority: i64, defs: Value) -> Value {
    json!({ "priority": priority, "definitions": defs })
}

fn everywhere(report: Value) -> Value {
    json!({ "system": report, "vm": report, "test": report })
}

fn contract() -> Value {
    json!({
        "schema": 2,
        "options": {
            "a.b": { "exists": true, "declaredIn": ["nixos/modules/a.nix"], "type": "boolean", "typeName": "bool",
                     "subOptions": {}, "keyed": null,
                     "definitions": everywhere(winners(1500, json!([{ "file": "nixos/modules/a.nix", "value": false }]))) },
            "l.ist": { "exists": true, "declaredIn": ["nixos/modules/l.nix"], "type": "list of string", "typeName": "listOf",
                       "subOptions": {}, "keyed": null,
                       "definitions": everywhere(winners(100, json!([{ "file": "nixos/modules/l.nix", "value": ["x"] }]))) },
            "s.ys": { "exists": true, "declaredIn": ["nixos/modules/s.nix"], "type": "attribute set of anything", "typeName": "attrsOf",
                      "subOptions": {}, "keyed": "complete",
                      "definitions": everywhere(json!({ "priority": 100, "definitions": [{ "file": "nixos/modules/s.nix" }],
                                                        "keys": { "k": winners(100, json!([{ "file": "nixos/modules/s.nix", "value": 1 }])) } })) },
            "u.users": { "exists": true, "declaredIn": "nixos/modules/u.nix", "type": "attribute set of (submodule)", "typeName": "attrsOf",
                         "subOptions": { "home": "absolute path", "shell": "string" }, "keyed": "partial",
                         "definitions": everywhere(json!({ "priority": 1500, "definitions": [{ "file": "nixos/modules/u.nix" }], "keys": {} })) }
        },
        "pkgs": { "jq": { "exists": true } }
    })
}

fn problems(report: &Report) -> Vec<&Finding> {
    report
        .findings()
        .iter()
        .filter(|x| x.severity != Severity::Ok)
        .collect()
}

#[test]
fn identical_documents_are_ok() -> Result<(), ContractError> {
    let report = compare(&contract(), &contract())?;
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.findings().len(), 5);
    assert_eq!(report.warnings().count(), 0);
    Ok(())
}

#[test]
fn type_name_difference_alone_is_a_mismatch() -> Result<(), ContractError> {
    let mut real = contract();
    real["options"]["a.b"]["typeName"] = json!("boolean");
    let report = compare(&contract(), &real)?;
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].kind, Kind::TypeMismatch);
    assert_eq!(found[0].contract, "boolean (type name `bool`)");
    assert_eq!(found[0].nixpkgs, "boolean (type name `boolean`)");
    assert_eq!(found[0].file, "nix-modules/contract/nixos/modules/a.nix");
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
    assert_eq!(report.findings()[0].kind, Kind::Missing);
    assert_eq!(report.findings()[0].subject, "a.b");
    Ok(())
}

#[test]
fn merging_types_compare_files_not_values() -> Result<(), ContractError> {
    let mut real = contract();
    real["options"]["l.ist"]["definitions"]["vm"] = winners(
        100,
        json!([{ "file": "nixos/modules/l.nix", "value": ["y"] },
               { "file": "nixos/modules/other.nix", "value": ["z"] }]),
    );
    let report = compare(&contract(), &real)?;
    assert!(report.is_ok(), "{report}");
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].kind, Kind::UnmodelledDefinition);
    assert_eq!(found[0].severity, Severity::Warning);
    assert_eq!(found[0].context, Some(Context::Vm));
    assert_eq!(
        found[0].file,
        "nix-modules/contract/nixos/modules/other.nix"
    );
    Ok(())
}

#[test]
fn non_merging_types_compare_values_and_extra_files() -> Result<(), ContractError> {
    let mut real = contract();
    real["options"]["a.b"]["definitions"]["test"] = winners(
        1500,
        json!([{ "file": "nixos/modules/a.nix", "value": true }]),
    );
    real["options"]["a.b"]["definitions"]["system"] = winners(
        1500,
        json!([{ "file": "nixos/modules/a.nix", "value": false },
               { "file": "nixos/modules/b.nix", "value": false }]),
    );
    let report = compare(&contract(), &real)?;
    let kinds: Vec<_> = problems(&report)
        .iter()
        .map(|x| (x.kind, x.context, x.severity))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                Kind::UnmodelledDefinition,
                Some(Context::System),
                Severity::Failure
            ),
            (Kind::ValueMismatch, Some(Context::Test), Severity::Failure),
        ],
        "{report}"
    );
    Ok(())
}

#[test]
fn a_default_moves_with_its_declaration() -> Result<(), ContractError> {
    let mut real = contract();
    real["options"]["a.b"]["declaredIn"] = json!(["nixos/modules/moved.nix"]);
    real["options"]["a.b"]["definitions"] = everywhere(winners(
        1500,
        json!([{ "file": "nixos/modules/moved.nix", "value": false }]),
    ));
    let report = compare(&contract(), &real)?;
    assert!(report.is_ok(), "{report}");
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].kind, Kind::DeclaredElsewhere);
    assert!(
        found[0]
            .fix
            .contains("nix-modules/contract/nixos/modules/moved.nix"),
        "{}",
        found[0]
    );
    Ok(())
}

#[test]
fn keys_missing_on_either_side() -> Result<(), ContractError> {
    let mut real = contract();
    real["options"]["s.ys"]["definitions"]["system"]["keys"] =
        json!({ "j": winners(100, json!([{ "file": "nixos/modules/t.nix", "value": 2 }])) });
    let report = compare(&contract(), &real)?;
    let kinds: Vec<_> = problems(&report)
        .iter()
        .map(|x| (x.kind, x.key.clone().unwrap_or_default(), x.severity))
        .collect();
    assert_eq!(
        kinds,
        [
            (Kind::DefinitionMissing, "k".to_owned(), Severity::Failure),
            (Kind::UnmodelledKey, "j".to_owned(), Severity::Failure),
        ],
        "{report}"
    );
    assert_eq!(
        problems(&report)[1].file,
        "nix-modules/contract/nixos/modules/t.nix"
    );
    Ok(())
}

#[test]
fn an_unevaluable_context_fails() -> Result<(), ContractError> {
    let mut real = contract();
    real["options"]["a.b"]["definitions"]["vm"] =
        json!({ "priority": null, "definitions": [], "error": "<error>" });
    let report = compare(&contract(), &real)?;
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].kind, Kind::Unevaluable);
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
    real["schema"] = json!(1);
    let err = compare(&contract(), &real);
    assert!(matches!(
        err,
        Err(ContractError::Schema {
            document: Document::Nixpkgs,
            found: 1
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
    assert!(
        matches!(err, Err(ContractError::UntypedEntry { option, file }) if option == "a.b" && file == "nix-modules/contract/nixos/modules/a.nix")
    );
}
