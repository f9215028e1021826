//! Module evaluation of the ui branch against the NixOS contract.

use dominix_testing::dominix_eval::Case;
use dominix_testing::{eval_feature, try_eval};
use serde_json::json;

#[test]
fn installs_the_shell_and_greets_at_login() {
    let Some(config) = eval_feature("ui", json!({})) else {
        return;
    };
    // nixpkgs' own core packages are there too (system-path.nix).
    let shells = shell_packages(&config);
    assert_eq!(shells.len(), 1, "{shells:?}");
    let package = shells[0].as_str();
    assert!(package.starts_with("/nix/store/"), "{package}");
    let init = config["environment.loginShellInit"]
        .as_str()
        .expect("lines");
    assert!(
        init.contains(&format!("{package}/bin/domi-nix-shell")),
        "{init}"
    );
}

#[test]
fn login_banner_can_be_turned_off() {
    let Some(config) = eval_feature(
        "ui",
        json!({ "domi-nix": { "ui": { "showOnLogin": false } } }),
    ) else {
        return;
    };
    assert_eq!(config["environment.loginShellInit"], "");
    assert_eq!(shell_packages(&config).len(), 1, "still installed");
}

/// The `environment.systemPackages` entries that are the domi-nix shell
/// (`domi-nix.ui.package`).
fn shell_packages(config: &serde_json::Value) -> Vec<String> {
    let shell = config["domi-nix"]["ui"]["package"]
        .as_str()
        .expect("a store path");
    config["environment.systemPackages"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| *p == shell)
        .map(str::to_owned)
        .collect()
}

#[test]
fn composes_with_hardening() {
    let case = Case {
        features: vec!["ui".into(), "hardening".into()],
        ..Case::feature("ui")
    };
    let Some(result) = try_eval("ui+hardening", &case) else {
        return;
    };
    let outcome = result
        .and_then(|o| o.into_checked("ui+hardening"))
        .unwrap_or_else(|e| panic!("{e}"));
    let features = outcome.config["domi-nix"]["features"]
        .as_object()
        .expect("manifest");
    assert!(
        features.contains_key("ui") && features.contains_key("hardening"),
        "{features:?}"
    );
}

#[test]
fn a_package_of_the_wrong_type_is_rejected() {
    let case = Case::feature("ui")
        .with_settings(json!({ "domi-nix": { "ui": { "showOnLogin": "yes" } } }));
    let Some(result) = try_eval("ui", &case) else {
        return;
    };
    let error = result.expect_err("a string is not a bool").to_string();
    assert!(
        error.contains("domi-nix.ui.showOnLogin") && error.contains("crates/ui")
            || error.contains("settings"),
        "{error}"
    );
}
