//! Module evaluation of the trunk and of the manifest's assertions: a
//! hand-written `imports` list is checked as strictly as `cargo xtask compose`.

use dominix_testing::dominix_eval::{Case, Context};
use dominix_testing::try_eval;
use serde_json::{Value, json};

fn eval(id: &str, case: Case) -> Option<dominix_testing::dominix_eval::Outcome> {
    Some(try_eval(id, &case)?.unwrap_or_else(|e| panic!("{e}")))
}

/// The one assertion `case` fails; `None` when skipped.
fn the_failed_assertion(id: &str, case: Case) -> Option<String> {
    let outcome = eval(id, case)?;
    let [message] = outcome.assertions.as_slice() else {
        panic!(
            "expected one failed assertion, got {:?}",
            outcome.assertions
        );
    };
    Some(message.clone())
}

/// The hardening branch with `settings` applied.
fn with_hardening(settings: Value) -> Case {
    Case {
        features: vec!["hardening".into()],
        ..Case::default()
    }
    .with_settings(settings)
}

/// A catalog entry for a branch that is not a crate, defined through settings.
fn entry(requires: &[&str], conflicts: &[&str]) -> Value {
    json!({ "category": "services", "summary": "test branch", "requires": requires, "conflicts": conflicts })
}

#[test]
fn the_trunk_alone_looks_like_domi_nix() {
    let Some(outcome) = eval("trunk", Case::default()) else {
        return;
    };
    let config = &outcome.config;
    assert_eq!(config["networking.hostName"], "domi-nix");
    assert_eq!(config["system.nixos.distroName"], "domi-nix");
    assert_eq!(config["system.nixos.variant_id"], "domi-nix");
    assert!(
        config["users.motd"]
            .as_str()
            .is_some_and(|m| m.contains("domi-nix"))
    );
    assert_eq!(
        config["services.getty.autologinUser"],
        Value::Null,
        "no default login outside VMs"
    );
    let manifest: Value = serde_json::from_str(
        config["environment.etc"]["domi-nix/features.json"]["text"]
            .as_str()
            .expect("manifest text"),
    )
    .expect("JSON");
    assert_eq!(manifest["features"], json!({}));
    assert!(outcome.assertions.is_empty(), "{:?}", outcome.assertions);
}

#[test]
fn the_vm_login_creates_a_wheel_user_and_logs_it_in() {
    let case = Case::default()
        .with_settings(json!({ "domi-nix": { "trunk": { "defaultLogin": { "enable": true } } } }));
    let Some(outcome) = eval("trunk+login", case) else {
        return;
    };
    let user = &outcome.config["users.users"]["domi"];
    assert_eq!(user["isNormalUser"], true);
    assert!(
        user["extraGroups"]
            .as_array()
            .is_some_and(|g| g.contains(&json!("wheel")))
    );
    assert_eq!(outcome.config["services.getty.autologinUser"], "domi");
}

#[test]
fn a_missing_requirement_fails_an_assertion_naming_both_features() {
    let settings = json!({ "domi-nix": { "features": { "web": entry(&["status-api"], &[]) } } });
    let Some(message) = the_failed_assertion("requires", Case::default().with_settings(settings))
    else {
        return;
    };
    assert!(
        message.contains("`web`") && message.contains("`status-api`"),
        "{message}"
    );
    assert!(message.contains("Fix:"), "{message}");
}

#[test]
fn conflicting_branches_fail_an_assertion_naming_both() {
    let settings = json!({ "domi-nix": { "features": { "telnet": entry(&[], &["hardening"]) } } });
    let Some(message) = the_failed_assertion("conflicts", with_hardening(settings)) else {
        return;
    };
    assert!(
        message.contains("`telnet`")
            && message.contains("`hardening`")
            && message.contains("conflict"),
        "{message}"
    );
}

#[test]
fn a_satisfied_requirement_passes() {
    let settings = json!({ "domi-nix": { "features": { "web": entry(&["hardening"], &["nothing-attached"]) } } });
    let Some(outcome) = eval("satisfied", with_hardening(settings)) else {
        return;
    };
    assert!(outcome.assertions.is_empty(), "{:?}", outcome.assertions);
}

#[test]
fn an_unknown_feature_is_an_error_naming_the_known_ones() {
    let case = Case {
        features: vec!["nope".into()],
        ..Case::default()
    };
    let Some(result) = try_eval("unknown", &case) else {
        return;
    };
    let error = result.expect_err("`nope` is not a feature").to_string();
    assert!(
        error.contains("unknown feature `nope`") && error.contains("hardening"),
        "{error}"
    );
}

#[test]
fn a_mkdefault_host_name_wins_over_the_trunk_without_conflict() {
    // What the NixOS test framework does for every node: `mkDefault <node name>`,
    // written as the value `lib.mkDefault` returns.
    let settings = json!({ "networking": { "hostName": { "_type": "override", "priority": 1000, "content": "machine" } } });
    let Some(outcome) = eval("trunk+test-node", Case::default().with_settings(settings)) else {
        return;
    };
    assert_eq!(outcome.config["networking.hostName"], "machine");
}

#[test]
fn the_greeting_is_nixpkgs_own_branded_by_the_distro_name() {
    // getty.nix sets the greeting with mkDefault; a second mkDefault in the
    // trunk conflicted in every real evaluation. The trunk brands it through
    // `system.nixos.distroName` instead.
    let Some(outcome) = eval("trunk greeting", Case::default()) else {
        return;
    };
    let greeting = outcome.config["services.getty.greetingLine"]
        .as_str()
        .expect("a string");
    assert!(
        greeting.starts_with("<<< Welcome to domi-nix "),
        "{greeting}"
    );
}

#[test]
fn the_vm_login_hint_shows_beside_nixpkgs_help_line() {
    // In the VM, getty.nix's normal-priority help line and the trunk's hint
    // merge (a `lines` option keeps only its strongest definitions).
    let Some(outcome) = eval("trunk vm", Case::default().in_context(Context::Vm)) else {
        return;
    };
    let help = outcome.config["services.getty.helpLine"]
        .as_str()
        .expect("lines");
    assert!(help.contains("log in as `domi`"), "{help}");
    assert!(help.contains("nixos-help"), "{help}");
    assert_eq!(outcome.config["services.getty.autologinUser"], "domi");
    assert!(outcome.drops.is_empty(), "{:?}", outcome.drops);
}

#[test]
fn the_trunk_yields_to_the_test_framework_without_conflict() {
    let case = Case::test_node("hardening", "baseline");
    let Some(outcome) = eval("trunk in a test node", case) else {
        return;
    };
    assert_eq!(
        outcome.config["networking.hostName"], "baseline",
        "the test framework names the node"
    );
    // test-instrumentation.nix sets it below mkDefault (1200); the trunk's 1100 wins.
    assert_eq!(outcome.config["system.stateVersion"], "25.11");
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
}

#[test]
fn a_request_larger_than_one_command_line_argument_evaluates() {
    // Linux caps one argument at 128 KiB; a 1,000-branch catalog's batch is
    // several times that, so the request travels in a file.
    let motd = "domi-nix ".repeat(30_000);
    let case = Case::default().with_settings(json!({ "users": { "motd": motd } }));
    let Some(outcome) = eval("a large request", case) else {
        return;
    };
    let shown = outcome.config["users.motd"].as_str().expect("lines");
    assert!(shown.len() >= motd.len(), "{}", shown.len());
}
