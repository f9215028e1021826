//! Module evaluation of the sandboxing branch against the NixOS contract:
//! the real `nixos.nix` through the real top level (see dominix-testing).
//!
//! The profile is written out here, independently of the module, and
//! compared whole: a directive the module loses, gains or changes fails a
//! test.

use dominix_testing::dominix_eval::Case;
use dominix_testing::{eval_feature, try_eval};
use serde_json::{Map, Value, json};

/// The profile, as systemd.exec(5) spells it.
fn profile() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "DynamicUser": true,
        "ProtectSystem": "strict",
        "ProtectHome": true,
        "PrivateTmp": true,
        "PrivateDevices": true,
        "PrivateMounts": true,
        "PrivateUsers": true,
        "NoNewPrivileges": true,
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "RestrictAddressFamilies": ["AF_UNIX", "AF_INET", "AF_INET6"],
        "RestrictNamespaces": true,
        "SystemCallArchitectures": "native",
        "SystemCallFilter": ["@system-service", "~@privileged @resources"],
        "MemoryDenyWriteExecute": true,
        "LockPersonality": true,
        "ProtectKernelTunables": true,
        "ProtectKernelModules": true,
        "ProtectKernelLogs": true,
        "ProtectControlGroups": true,
        "ProtectClock": true,
        "ProtectHostname": true,
        "ProtectProc": "invisible",
        "ProcSubset": "pid",
        "RestrictRealtime": true,
        "RestrictSUIDSGID": true,
        "RemoveIPC": true,
        "UMask": "0077",
        "IPAddressDeny": "any",
        "IPAddressAllow": "localhost",
        "DevicePolicy": "closed",
    }) else {
        unreachable!("an object")
    };
    map
}

/// A service `probe` with `serviceConfig`, put under the profile with
/// `sandboxing` (merged into the settings).
fn probe(service_config: Value, sandboxing: Value) -> Value {
    json!({
        "systemd": { "services": { "probe": {
            "description": "sandboxing probe",
            "script": "exec sleep infinity",
            "serviceConfig": service_config,
        } } },
        "domi-nix": { "sandboxing": { "services": { "probe": sandboxing } } },
    })
}

/// The evaluated `serviceConfig` of `unit`, with its `ExecStart` (a store
/// path of the script) checked and taken out.
fn service_config(config: &Value, unit: &str) -> Map<String, Value> {
    let mut directives = config["systemd.services"][unit]["serviceConfig"]
        .as_object()
        .unwrap_or_else(|| panic!("no serviceConfig for {unit}: {config}"))
        .clone();
    let exec = directives.remove("ExecStart").unwrap_or(Value::Null);
    let exec = exec.as_str().unwrap_or_default();
    assert!(
        exec.starts_with("/nix/store/") && exec.ends_with(&format!("-start/bin/{unit}-start ")),
        "ExecStart of {unit} is its script: {exec:?}"
    );
    directives
}

/// The profile with `changes` applied (`null` removes a directive).
fn profile_with(changes: Value) -> Map<String, Value> {
    let mut expected = profile();
    for (directive, value) in changes.as_object().cloned().unwrap_or_default() {
        if value.is_null() {
            expected.remove(&directive);
        } else {
            expected.insert(directive, value);
        }
    }
    expected
}

fn failure(id: &str, settings: Value) -> Option<String> {
    let case = Case::feature("sandboxing").with_settings(settings);
    let outcome = try_eval(id, &case)?;
    Some(match outcome.and_then(|o| o.into_checked(id)) {
        Ok(o) => panic!(
            "{id}: expected a failure, got {:?}",
            o.config["systemd.services"]
        ),
        Err(e) => e.to_string(),
    })
}

#[test]
fn a_named_unit_gets_the_whole_profile_and_nothing_else() {
    let Some(config) = eval_feature("sandboxing", probe(json!({}), json!({}))) else {
        return;
    };
    assert_eq!(service_config(&config, "probe"), profile());
    assert_eq!(
        config["domi-nix"]["sandboxing"]["profile"],
        Value::Object(profile()),
        "the read-only option shows the same profile"
    );
}

#[test]
fn the_profile_wins_over_the_units_own_definitions_up_to_mk_force() {
    let own = json!({
        "ProtectHome": false,
        "PrivateUsers": { "_override": 50, "value": false },
        "DynamicUser": { "_override": 41, "value": false },
        "SystemCallFilter": ["@basic-io"],
        "CapabilityBoundingSet": { "_override": 50, "value": ["CAP_NET_ADMIN"] },
        "RuntimeDirectory": "probe",
    });
    let Some(config) = eval_feature("sandboxing", probe(own, json!({}))) else {
        return;
    };
    let expected = profile_with(json!({ "RuntimeDirectory": "probe" }));
    assert_eq!(service_config(&config, "probe"), expected);
}

#[test]
fn a_definition_stronger_than_the_profile_fails_naming_the_directives() {
    // Below 40 on one directive, or a `mkForce` of the whole serviceConfig.
    let one = probe(
        json!({ "PrivateUsers": { "_override": 39, "value": false } }),
        json!({}),
    );
    let Some(error) = failure("one directive", one) else {
        return;
    };
    assert!(
        error.contains(
            "domi-nix.sandboxing.services.probe: `PrivateUsers` of `probe` is not the profile's"
        ),
        "{error}"
    );
    assert!(error.contains("exceptions"), "{error}");
    let whole = probe(
        json!({ "_override": 10, "value": { "Type": "simple" } }),
        json!({}),
    );
    let Some(error) = failure("whole serviceConfig", whole) else {
        return;
    };
    assert!(
        error.contains("`DynamicUser`") && error.contains("`UMask`"),
        "{error}"
    );

    // At the profile's own priority two different values conflict.
    let own = json!({ "PrivateUsers": { "_override": 40, "value": false } });
    let Some(error) = failure("same-priority", probe(own, json!({}))) else {
        return;
    };
    assert!(error.contains("PrivateUsers"), "{error}");
    assert!(error.contains("conflicting definition values"), "{error}");
}

#[test]
fn an_exception_relaxes_one_directive_and_says_why() {
    let own = json!({ "SystemCallFilter": ["@system-service", "@network-io"] });
    let exceptions = json!({ "exceptions": {
        "PrivateUsers": { "value": false, "reason": "maps host user names" },
        "SystemCallFilter": { "value": null, "reason": "its own filter is narrower" },
        "RestrictAddressFamilies": { "value": ["AF_UNIX"], "reason": "local socket only" },
    } });
    let Some(config) = eval_feature("sandboxing", probe(own, exceptions)) else {
        return;
    };
    let expected = profile_with(json!({
        "PrivateUsers": false,
        "SystemCallFilter": ["@system-service", "@network-io"],
        "RestrictAddressFamilies": ["AF_UNIX"],
    }));
    assert_eq!(service_config(&config, "probe"), expected);
    let named = &config["domi-nix"]["sandboxing"]["services"]["probe"]["exceptions"];
    assert_eq!(named["PrivateUsers"]["reason"], "maps host user names");
    assert_eq!(named["ProtectHome"], Value::Null, "not relaxed");
}

#[test]
fn an_exception_without_a_reason_fails_naming_the_unit() {
    for reason in [json!(null), json!(""), json!("   ")] {
        let mut exception = json!({ "value": false });
        if !reason.is_null() {
            exception["reason"] = reason;
        }
        let settings = probe(
            json!({}),
            json!({ "exceptions": { "PrivateUsers": exception } }),
        );
        let Some(error) = failure("no-reason", settings) else {
            return;
        };
        assert!(
            error.contains(
                "domi-nix.sandboxing.services.probe.exceptions.PrivateUsers has no reason"
            ),
            "{error}"
        );
        assert!(error.contains("Fix: "), "{error}");
    }
}

#[test]
fn an_unknown_directive_is_an_error_naming_the_option() {
    let exceptions =
        json!({ "exceptions": { "PrivateNetworking": { "value": false, "reason": "typo" } } });
    let Some(error) = failure("unknown-directive", probe(json!({}), exceptions)) else {
        return;
    };
    assert!(
        error.contains("domi-nix.sandboxing.services.probe.exceptions.PrivateNetworking"),
        "{error}"
    );
    assert!(error.contains("does not exist"), "{error}");
}

#[test]
fn an_exception_of_the_wrong_type_is_an_error_naming_the_option() {
    for (exception, option) in [
        (
            json!({ "value": { "a": 1 }, "reason": "x" }),
            "exceptions.PrivateUsers.value",
        ),
        (
            json!({ "value": false, "reason": 3 }),
            "exceptions.PrivateUsers.reason",
        ),
    ] {
        let settings = probe(
            json!({}),
            json!({ "exceptions": { "PrivateUsers": exception } }),
        );
        let Some(error) = failure(option, settings) else {
            return;
        };
        assert!(
            error.contains(&format!("domi-nix.sandboxing.services.probe.{option}")),
            "{error}"
        );
        assert!(error.contains("is not of type"), "{error}");
    }
}

#[test]
fn a_unit_no_module_defines_fails_naming_it() {
    let settings = json!({ "domi-nix": { "sandboxing": { "services": { "ghost": {} } } } });
    let Some(error) = failure("ghost", settings) else {
        return;
    };
    assert!(
        error.contains("domi-nix.sandboxing.services.ghost: no systemd service `ghost` is defined"),
        "{error}"
    );
    assert!(error.contains("without `.service`"), "{error}");
}

#[test]
fn dynamic_user_on_a_fixed_user_fails_unless_excepted() {
    let alice = json!({ "users": { "users": { "alice": { "isNormalUser": true } } } });
    let mut settings = probe(json!({ "User": "alice" }), json!({}));
    settings["users"] = alice["users"].clone();
    let Some(error) = failure("fixed-user", settings.clone()) else {
        return;
    };
    assert!(
        error.contains(
            "domi-nix.sandboxing.services.probe: `probe` runs as `alice`, a static account"
        ),
        "{error}"
    );
    assert!(error.contains("exceptions.DynamicUser"), "{error}");

    settings["domi-nix"]["sandboxing"]["services"]["probe"] = json!({ "exceptions": { "DynamicUser": { "value": false, "reason": "owns /var/lib/alice" } } });
    let Some(config) = eval_feature("sandboxing", settings) else {
        return;
    };
    let expected = profile_with(json!({ "DynamicUser": false, "User": "alice" }));
    assert_eq!(service_config(&config, "probe"), expected);

    // Without `User=`, the dynamic user is named after the unit: a static
    // account of that name would be kept just the same.
    let mut named = probe(json!({}), json!({}));
    named["users"] =
        json!({ "users": { "svc": { "isSystemUser": true, "group": "svc", "name": "probe" } } });
    let Some(error) = failure("account-named-like-the-unit", named) else {
        return;
    };
    assert!(
        error.contains("runs as `probe`, a static account"),
        "{error}"
    );

    // A user name that is no static account is what DynamicUser allocates.
    let Some(config) = eval_feature("sandboxing", probe(json!({ "User": "probe" }), json!({})))
    else {
        return;
    };
    assert_eq!(
        service_config(&config, "probe"),
        profile_with(json!({ "User": "probe" }))
    );
}

/// nixpkgs' own `disable-kernel-module-loading` (security/lock-kernel-modules.nix),
/// sandboxed with the exceptions a root oneshot writing /proc/sys needs.
#[test]
fn a_nixpkgs_unit_is_sandboxed_the_same_way() {
    let settings = json!({
        "security": { "lockKernelModules": true },
        "domi-nix": { "sandboxing": { "services": { "disable-kernel-module-loading": { "exceptions": {
            "DynamicUser": { "value": false, "reason": "writes /proc/sys/kernel/modules_disabled as root" },
            "PrivateUsers": { "value": false, "reason": "needs the host's root, not a mapped one" },
            "ProtectKernelTunables": { "value": false, "reason": "its one job is a kernel tunable" },
            "CapabilityBoundingSet": { "value": "CAP_SYS_MODULE", "reason": "modules_disabled requires CAP_SYS_MODULE" },
            "ProtectKernelModules": { "value": false, "reason": "it would drop CAP_SYS_MODULE" },
            "ProcSubset": { "value": "all", "reason": "/proc/sys must be visible to be written" },
        } } } } },
    });
    let Some(config) = eval_feature("sandboxing", settings) else {
        return;
    };
    let unit = "disable-kernel-module-loading";
    let expected = profile_with(json!({
        "DynamicUser": false,
        "PrivateUsers": false,
        "ProtectKernelTunables": false,
        "CapabilityBoundingSet": "CAP_SYS_MODULE",
        "ProtectKernelModules": false,
        "ProcSubset": "all",
        // nixpkgs' own directives stay.
        "Type": "oneshot",
        "RemainAfterExit": true,
        "TimeoutSec": 180,
    }));
    assert_eq!(service_config(&config, unit), expected);
    assert_eq!(
        config["systemd.services"][unit]["wantedBy"],
        json!(["multi-user.target"]),
        "the rest of the unit is nixpkgs'"
    );
}

#[test]
fn a_detached_branch_sandboxes_nothing() {
    let mut settings = probe(json!({ "ProtectHome": false }), json!({}));
    settings["domi-nix"]["sandboxing"]["enable"] = json!(false);
    let Some(config) = eval_feature("sandboxing", settings) else {
        return;
    };
    let mut own = Map::new();
    own.insert("ProtectHome".into(), json!(false));
    assert_eq!(service_config(&config, "probe"), own);
    assert_eq!(
        config["domi-nix"]["features"],
        json!({}),
        "and leaves the manifest"
    );
}

#[test]
fn attached_alone_it_defines_no_service() {
    let Some(config) = eval_feature("sandboxing", json!({})) else {
        return;
    };
    assert_eq!(config["systemd.services"], json!({}));
    assert_eq!(config["domi-nix"]["sandboxing"]["services"], json!({}));
    let manifest: Value = serde_json::from_str(
        config["environment.etc"]["domi-nix/features.json"]["text"]
            .as_str()
            .unwrap_or("{}"),
    )
    .unwrap_or_default();
    assert_eq!(manifest["features"]["sandboxing"]["category"], "security");
}
