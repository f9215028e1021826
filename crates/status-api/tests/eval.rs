//! Module evaluation of the status-api branch against the NixOS contract:
//! the real `nixos.nix` with what it requires (packages, sandboxing) on the
//! trunk. Every setting the branch makes is compared whole.

use dominix_testing::dominix_eval::Case;
use dominix_testing::try_eval;
use serde_json::{Map, Value, json};

fn eval(id: &str, settings: Value) -> Option<Value> {
    let case = Case::feature("status-api").with_settings(settings);
    let outcome = try_eval(id, &case)?;
    Some(
        outcome
            .and_then(|o| o.into_checked(id))
            .unwrap_or_else(|e| panic!("{e}"))
            .config,
    )
}

fn failure(id: &str, settings: Value) -> Option<String> {
    let case = Case::feature("status-api").with_settings(settings);
    let outcome = try_eval(id, &case)?;
    Some(match outcome.and_then(|o| o.into_checked(id)) {
        Ok(_) => panic!("{id}: expected a failure"),
        Err(e) => e.to_string(),
    })
}

fn options(settings: Value) -> Value {
    json!({ "domi-nix": { "status-api": settings } })
}

/// The unit's whole `serviceConfig`: the sandboxing profile (as that branch
/// evaluates it), the exceptions, and the service's own directives.
fn expected_service_config(config: &Value, listen: &str, exceptions: Value) -> Map<String, Value> {
    let mut expected = config["domi-nix"]["sandboxing"]["profile"]
        .as_object()
        .cloned()
        .expect("the profile");
    assert!(expected.len() > 20, "the sandboxing profile: {expected:?}");
    expected.extend(exceptions.as_object().cloned().unwrap_or_default());
    let package = config["domi-nix"]["status-api"]["package"]
        .as_str()
        .expect("a store path");
    expected.insert(
        "ExecStart".into(),
        json!(format!(
            "{package}/bin/domi-nix-status --listen {listen} --manifest /etc/domi-nix/features.json --max-connections 512"
        )),
    );
    expected.insert("Restart".into(), json!("on-failure"));
    expected.insert("LimitNOFILE".into(), json!(576));
    expected
}

#[test]
fn by_default_a_sandboxed_unit_on_loopback_with_the_firewall_closed() {
    let Some(config) = eval("defaults", json!({})) else {
        return;
    };
    let unit = &config["systemd.services"]["domi-nix-status"];
    assert_eq!(
        unit["serviceConfig"],
        Value::Object(expected_service_config(
            &config,
            "127.0.0.1:9180",
            json!({})
        ))
    );
    assert_eq!(unit["description"], "domi-nix status API");
    assert_eq!(unit["wantedBy"], json!(["multi-user.target"]));
    assert_eq!(unit["after"], json!(["network.target"]));
    assert_eq!(config["networking.firewall.allowedTCPPorts"], json!([]));
    let sandboxed = &config["domi-nix"]["sandboxing"]["services"]["domi-nix-status"]["exceptions"];
    assert!(
        sandboxed
            .as_object()
            .is_some_and(|e| e.values().all(Value::is_null)),
        "no exception on loopback: {sandboxed}"
    );
    assert_eq!(
        config["domi-nix"]["features"]["status-api"]["services"],
        json!(["domi-nix-status.service"])
    );
    let package = config["domi-nix"]["status-api"]["package"]
        .as_str()
        .expect("a store path");
    assert!(
        package.ends_with("-domi-nix-status-0.1.0"),
        "from the packages overlay: {package}"
    );
    assert_eq!(
        config["domi-nix"]["packages"]["programs"],
        json!(["domi-nix-shell", "domi-nix-status"])
    );
}

#[test]
fn on_the_network_it_names_its_one_exception_and_opens_the_port_when_asked() {
    let settings = options(
        json!({ "address": "0.0.0.0", "port": 8080, "openFirewall": true, "maxConnections": 100 }),
    );
    let Some(config) = eval("network", settings) else {
        return;
    };
    let mut expected =
        expected_service_config(&config, "0.0.0.0:8080", json!({ "IPAddressAllow": "any" }));
    let package = config["domi-nix"]["status-api"]["package"]
        .as_str()
        .expect("a store path");
    expected.insert(
        "ExecStart".into(),
        json!(format!(
            "{package}/bin/domi-nix-status --listen 0.0.0.0:8080 --manifest /etc/domi-nix/features.json --max-connections 100"
        )),
    );
    expected.insert("LimitNOFILE".into(), json!(164));
    assert_eq!(
        config["systemd.services"]["domi-nix-status"]["serviceConfig"],
        Value::Object(expected)
    );
    assert_eq!(config["networking.firewall.allowedTCPPorts"], json!([8080]));
    let exception = &config["domi-nix"]["sandboxing"]["services"]["domi-nix-status"]["exceptions"]
        ["IPAddressAllow"];
    assert_eq!(exception["value"], "any");
    assert_eq!(
        exception["reason"],
        "answers clients on 0.0.0.0, beyond loopback"
    );
}

#[test]
fn an_ipv6_address_is_bracketed_and_ipv6_loopback_needs_no_exception() {
    // A shell word, as systemd reads ExecStart (brackets are quoted).
    for (address, listen, exception) in
        [("::", "'[::]:9180'", true), ("::1", "'[::1]:9180'", false)]
    {
        let Some(config) = eval(address, options(json!({ "address": address }))) else {
            return;
        };
        let exec = config["systemd.services"]["domi-nix-status"]["serviceConfig"]["ExecStart"]
            .as_str()
            .expect("a command line");
        assert!(exec.contains(&format!("--listen {listen} ")), "{exec}");
        let allow = &config["domi-nix"]["sandboxing"]["services"]["domi-nix-status"]["exceptions"]
            ["IPAddressAllow"];
        assert_eq!(!allow.is_null(), exception, "{address}: {allow}");
    }
}

#[test]
fn bad_options_are_errors_naming_them() {
    for (settings, option) in [
        (json!({ "port": 70000 }), "domi-nix.status-api.port"),
        (
            json!({ "maxConnections": 0 }),
            "domi-nix.status-api.maxConnections",
        ),
        (
            json!({ "openFirewall": "yes" }),
            "domi-nix.status-api.openFirewall",
        ),
        (json!({ "address": 1 }), "domi-nix.status-api.address"),
    ] {
        let Some(error) = failure(option, options(settings)) else {
            return;
        };
        assert!(error.contains(option), "{error}");
    }
}

#[test]
fn detached_there_is_no_service() {
    let Some(config) = eval("detached", options(json!({ "enable": false }))) else {
        return;
    };
    assert_eq!(config["systemd.services"]["domi-nix-status"], Value::Null);
    assert_eq!(config["domi-nix"]["sandboxing"]["services"], json!({}));
    assert_eq!(config["domi-nix"]["features"]["status-api"], Value::Null);
}
