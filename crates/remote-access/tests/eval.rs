//! Module evaluation of the remote-access branch against the NixOS contract:
//! the real `nixos.nix` through the real top level (see dominix-testing).
//!
//! Data-driven: the tables below are everything the branch sets — sshd's
//! settings, the other `services.openssh` options, the firewall, the keys,
//! the sandboxing exceptions and the sshd unit they make — written out here,
//! independently of the module, and compared whole with what the evaluation
//! gives, against the same system with the branch detached. A setting the
//! module loses, gains or changes fails a test.

use std::collections::BTreeMap;

use dominix_testing::dominix_eval::{Case, Context};
use dominix_testing::try_eval;
use serde_json::{Map, Value, json};

const SYSTEMS: [&str; 2] = ["x86_64-linux", "aarch64-linux"];

/// The VM test's key (vm-test.nix), and another user's.
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfqdDeY/SiXim46zChrM8XKegcVBWeul3pAsUhRVodX domi-nix remote-access VM test key (test only)";
const ALICE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAXe7Vgimvva0E/AZ0KLJ2/nM162KmFkNq3UVg8T01oY alice@example";

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// What the branch promises: plain definitions.
fn promises() -> Map<String, Value> {
    object(json!({
        "PermitRootLogin": "no",
        "PasswordAuthentication": false,
        "KbdInteractiveAuthentication": false,
        "AuthenticationMethods": "publickey",
    }))
}

/// sshd's settings a host may tune (priority 900).
fn tunables() -> Map<String, Value> {
    object(json!({
        "KexAlgorithms": [
            "mlkem768x25519-sha256",
            "sntrup761x25519-sha512",
            "sntrup761x25519-sha512@openssh.com",
            "curve25519-sha256",
            "curve25519-sha256@libssh.org",
        ],
        "Ciphers": [
            "chacha20-poly1305@openssh.com",
            "aes256-gcm@openssh.com",
            "aes128-gcm@openssh.com",
        ],
        "Macs": [
            "hmac-sha2-512-etm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
            "umac-128-etm@openssh.com",
        ],
        "RequiredRSASize": 3072,
        "MaxAuthTries": 3,
        "LoginGraceTime": 30,
        "LogLevel": "VERBOSE",
        "X11Forwarding": false,
    }))
}

/// A host's other value of every tunable.
fn other_tunables() -> Map<String, Value> {
    object(json!({
        "KexAlgorithms": ["curve25519-sha256"],
        "Ciphers": ["aes256-gcm@openssh.com"],
        "Macs": ["hmac-sha2-256-etm@openssh.com"],
        "RequiredRSASize": 4096,
        "MaxAuthTries": 6,
        "LoginGraceTime": 120,
        "LogLevel": "INFO",
        "X11Forwarding": true,
    }))
}

/// The `services.openssh` options (other than `settings`) the branch sets,
/// with their value at the defaults of `domi-nix.remote-access`.
fn openssh() -> Map<String, Value> {
    object(json!({
        "enable": true,
        "ports": [22],
        "openFirewall": true,
        "hostKeys": [{ "type": "ed25519", "path": "/etc/ssh/ssh_host_ed25519_key" }],
        "authorizedKeysInHomedir": false,
    }))
}

/// A host's other value of each of those a host may tune.
fn other_openssh() -> Map<String, Value> {
    object(json!({
        "ports": [2222],
        "openFirewall": false,
        "hostKeys": [{ "type": "rsa", "bits": 4096, "path": "/etc/ssh/ssh_host_rsa_key" }],
        "authorizedKeysInHomedir": true,
    }))
}

/// The sandboxing profile's directives sshd does not keep, and the value it
/// gets instead (null: systemd's default).
fn exceptions() -> Map<String, Value> {
    object(json!({
        "DynamicUser": false,
        "PrivateUsers": false,
        "CapabilityBoundingSet": null,
        "NoNewPrivileges": false,
        "RestrictSUIDSGID": false,
        "SystemCallFilter": null,
        "MemoryDenyWriteExecute": false,
        "RestrictAddressFamilies": null,
        "RestrictNamespaces": false,
        "IPAddressDeny": null,
        "IPAddressAllow": null,
        "PrivateMounts": false,
        "ProtectSystem": false,
        "ProtectHome": false,
        "PrivateTmp": false,
        "PrivateDevices": false,
        "ProtectKernelTunables": false,
        "ProtectKernelModules": false,
        "ProtectKernelLogs": false,
        "ProtectControlGroups": false,
        "ProtectProc": "default",
        "ProcSubset": "all",
        "ProtectHostname": false,
        "ProtectClock": false,
        "DevicePolicy": "auto",
        "UMask": "0022",
    }))
}

/// The profile's directives sshd keeps, with the profile's values.
fn kept() -> Map<String, Value> {
    object(json!({
        "AmbientCapabilities": "",
        "SystemCallArchitectures": "native",
        "LockPersonality": true,
        "RestrictRealtime": true,
        "RemoveIPC": true,
    }))
}

/// sshd.service's `serviceConfig`: nixpkgs' own directives, the kept
/// profile and the exceptions' values (`ExecStart` checked apart).
fn sshd_service_config() -> Map<String, Value> {
    let mut expected = object(json!({
        "Type": "notify-reload",
        "Restart": "always",
        "KillMode": "process",
    }));
    expected.extend(kept());
    expected.extend(exceptions().into_iter().filter(|(_, v)| !v.is_null()));
    expected
}

/// `a` with `b` merged into it, objects key by key.
fn merged(mut a: Value, b: Value) -> Value {
    match (&mut a, b) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in right {
                let slot = left.remove(&key).unwrap_or(Value::Null);
                left.insert(key, merged(slot, value));
            }
            a
        }
        (_, b) => b,
    }
}

/// The account `domi` with the VM test's key, plus `extra`.
fn with_domi(extra: Value) -> Value {
    merged(
        json!({
            "users": { "users": { "domi": { "isNormalUser": true } } },
            "domi-nix": { "remote-access": { "users": { "domi": [KEY] } } },
        }),
        extra,
    )
}

fn detached() -> Value {
    json!({ "domi-nix": { "remote-access": { "enable": false } } })
}

/// `value` with each entry wrapped at `priority` (`{ "_override": N, "value": V }`).
fn at(priority: i64, value: &Map<String, Value>) -> Value {
    Value::Object(
        value
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "_override": priority, "value": v })))
            .collect(),
    )
}

fn eval_case(id: &str, case: Case) -> Option<Value> {
    let outcome = try_eval(id, &case)?;
    Some(
        outcome
            .and_then(|o| o.into_checked(id))
            .unwrap_or_else(|e| panic!("{e}"))
            .config,
    )
}

fn eval(id: &str, settings: Value) -> Option<Value> {
    eval_case(id, Case::feature("remote-access").with_settings(settings))
}

/// The error evaluating `settings` gives (a failed assertion or Nix's own).
fn failure(id: &str, settings: Value) -> Option<String> {
    let case = Case::feature("remote-access").with_settings(settings);
    let outcome = try_eval(id, &case)?;
    Some(match outcome.and_then(|o| o.into_checked(id)) {
        Ok(o) => panic!(
            "{id}: expected a failure, got {}",
            o.config["services.openssh.settings"]
        ),
        Err(e) => e.to_string(),
    })
}

/// Every `services.openssh.*` option whose value differs from `nixpkgs`'s.
fn changed_openssh(config: &Value, nixpkgs: &Value) -> BTreeMap<String, Value> {
    config
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(path, value)| {
            let name = path.strip_prefix("services.openssh.")?;
            (nixpkgs[path] != *value).then(|| (name.to_owned(), value.clone()))
        })
        .collect()
}

/// The non-empty lines of `services.openssh.extraConfig`, with the OpenSSH
/// package's store path written `<openssh>`.
fn extra_config(config: &Value) -> Vec<String> {
    let package = config["services.openssh.package"].as_str().unwrap_or("?");
    config["services.openssh.extraConfig"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.replace(package, "<openssh>").trim_end().to_owned())
        .collect()
}

fn keys_of<'a>(config: &'a Value, user: &str) -> &'a Value {
    &config["users.users"][user]["openssh"]["authorizedKeys"]["keys"]
}

/// `config`'s sshd.service `serviceConfig`, its `ExecStart` checked and
/// taken out.
fn service_config(config: &Value, unit: &str, exec: &str) -> Map<String, Value> {
    let mut directives = config["systemd.services"][unit]["serviceConfig"]
        .as_object()
        .unwrap_or_else(|| panic!("no serviceConfig for {unit}"))
        .clone();
    let start = directives.remove("ExecStart").unwrap_or(Value::Null);
    let start = start.as_str().unwrap_or_default();
    let package = config["services.openssh.package"].as_str().unwrap_or("?");
    assert_eq!(
        start.replace(package, "<openssh>"),
        exec,
        "ExecStart of {unit}"
    );
    directives
}

#[test]
fn every_setting_on_every_system_and_context() {
    for system in SYSTEMS {
        for context in [Context::System, Context::Vm] {
            let id = format!("{context} on {system}");
            let case = |settings| {
                Case::feature("remote-access")
                    .on_system(system)
                    .in_context(context)
                    .with_settings(settings)
            };
            let Some(nixpkgs) = eval_case(&format!("detached, {id}"), case(with_domi(detached())))
            else {
                return;
            };
            let Some(config) = eval_case(&id, case(with_domi(json!({})))) else {
                return;
            };

            // sshd's settings: nixpkgs' own, with the branch's over them.
            let mut settings = object(nixpkgs["services.openssh.settings"].clone());
            settings.extend(promises());
            settings.extend(tunables());
            assert_eq!(
                config["services.openssh.settings"],
                Value::Object(settings),
                "settings, {id}"
            );

            // The other options of services.openssh: those the branch sets,
            // and those nixpkgs derives from them.
            let mut expected: BTreeMap<String, Value> = openssh()
                .into_iter()
                .filter(|(name, value)| nixpkgs[format!("services.openssh.{name}")] != *value)
                .collect();
            expected.insert(
                "settings".into(),
                config["services.openssh.settings"].clone(),
            );
            expected.insert(
                "authorizedKeysFiles".into(),
                json!(["/etc/ssh/authorized_keys.d/%u"]),
            );
            expected.insert(
                "extraConfig".into(),
                config["services.openssh.extraConfig"].clone(),
            );
            assert_eq!(
                changed_openssh(&config, &nixpkgs),
                expected,
                "services.openssh, {id}"
            );
            for (name, value) in openssh() {
                assert_eq!(
                    config[format!("services.openssh.{name}")],
                    value,
                    "{name}, {id}"
                );
            }
            assert_eq!(
                extra_config(&config),
                [
                    "Banner none",
                    "AddressFamily any",
                    "Port 22",
                    "Subsystem sftp <openssh>/libexec/sftp-server",
                    "AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u",
                    "HostKey /etc/ssh/ssh_host_ed25519_key",
                ],
                "extraConfig, {id}"
            );

            // The port, open in the firewall.
            assert_eq!(nixpkgs["networking.firewall.allowedTCPPorts"], json!([]));
            assert_eq!(
                config["networking.firewall.allowedTCPPorts"],
                json!([22]),
                "{id}"
            );

            // The keys, where sshd reads them.
            assert_eq!(keys_of(&config, "domi"), &json!([KEY]), "{id}");
            assert_eq!(keys_of(&nixpkgs, "domi"), &json!([]), "{id}");
            let file = &config["environment.etc"]["ssh/authorized_keys.d/domi"];
            assert_eq!(file["mode"], "0444", "{id}");

            // sshd under the sandboxing profile, with the exceptions.
            let named = &config["domi-nix"]["sandboxing"]["services"];
            assert_eq!(
                named
                    .as_object()
                    .map(|m| m.keys().cloned().collect::<Vec<_>>()),
                Some(vec!["sshd".to_owned()]),
                "{id}"
            );
            let given = object(named["sshd"]["exceptions"].clone());
            let values: Map<String, Value> = given
                .iter()
                .filter(|(_, e)| !e.is_null())
                .map(|(d, e)| (d.clone(), e["value"].clone()))
                .collect();
            assert_eq!(values, exceptions(), "exceptions, {id}");
            for (directive, exception) in &given {
                if kept().contains_key(directive) {
                    assert_eq!(exception, &Value::Null, "{directive} is kept, {id}");
                } else {
                    let reason = exception["reason"].as_str().unwrap_or_default();
                    assert!(reason.len() > 20, "{directive} has a reason: {reason:?}");
                }
            }
            assert_eq!(
                given.len(),
                exceptions().len() + kept().len(),
                "the whole profile"
            );
            assert_eq!(
                service_config(
                    &config,
                    "sshd",
                    "<openssh>/bin/sshd -D -f /etc/ssh/sshd_config"
                ),
                sshd_service_config(),
                "sshd.service, {id}"
            );
        }
    }
}

#[test]
fn detached_it_sets_nothing() {
    let Some(config) = eval("detached", with_domi(detached())) else {
        return;
    };
    assert_eq!(config["services.openssh.enable"], false);
    assert_eq!(config["systemd.services"].get("sshd"), None);
    assert_eq!(config["networking.firewall.allowedTCPPorts"], json!([]));
    assert_eq!(keys_of(&config, "domi"), &json!([]));
    assert_eq!(config["domi-nix"]["sandboxing"]["services"], json!({}));
    assert_eq!(
        config["services.openssh.settings"]["PermitRootLogin"], "prohibit-password",
        "nixpkgs' own"
    );
    assert_eq!(config["domi-nix"]["features"].get("remote-access"), None);
}

#[test]
fn a_hosts_plain_definition_wins_over_every_tunable() {
    let host = json!({ "services": { "openssh": merged(
        Value::Object(other_openssh()),
        json!({ "settings": Value::Object(other_tunables()) }),
    ) } });
    let Some(config) = eval("host", with_domi(host)) else {
        return;
    };
    let settings = object(config["services.openssh.settings"].clone());
    for (name, value) in other_tunables() {
        assert_eq!(settings[&name], value, "{name}");
    }
    for (name, value) in promises() {
        assert_eq!(settings[&name], value, "{name} is not a tunable");
    }
    for (name, value) in other_openssh() {
        assert_eq!(config[format!("services.openssh.{name}")], value, "{name}");
    }
    assert_eq!(config["networking.firewall.allowedTCPPorts"], json!([]));
    assert_eq!(
        config["services.openssh.authorizedKeysFiles"],
        json!(["%h/.ssh/authorized_keys", "/etc/ssh/authorized_keys.d/%u"])
    );
}

/// Another module's `mkDefault` (a profile's, say) loses to every setting
/// of the branch, so each is the branch's own even where it equals
/// nixpkgs' default.
#[test]
fn the_branch_wins_over_another_modules_mk_default() {
    let mut settings = other_tunables();
    settings.extend(object(json!({
        "PermitRootLogin": "yes",
        "PasswordAuthentication": true,
        "KbdInteractiveAuthentication": true,
        "AuthenticationMethods": "any",
    })));
    let mut options = object(at(1000, &other_openssh()));
    options.insert("settings".into(), at(1000, &settings));
    let host = json!({ "services": { "openssh": options } });
    let Some(config) = eval("mkDefault", with_domi(host)) else {
        return;
    };
    let settings = object(config["services.openssh.settings"].clone());
    for (name, value) in promises().into_iter().chain(tunables()) {
        assert_eq!(settings[&name], value, "{name}");
    }
    for (name, value) in openssh() {
        assert_eq!(config[format!("services.openssh.{name}")], value, "{name}");
    }
}

/// Priority 900: a definition at 899 wins over every tunable, one at 901
/// loses to every one.
#[test]
fn the_tunables_sit_at_priority_900() {
    for (priority, host_wins) in [(899, true), (901, false)] {
        let mut options = object(at(priority, &other_openssh()));
        options.insert("settings".into(), at(priority, &other_tunables()));
        let host = json!({ "services": { "openssh": options } });
        let Some(config) = eval(&format!("priority {priority}"), with_domi(host)) else {
            return;
        };
        let (settings, openssh) = if host_wins {
            (other_tunables(), other_openssh())
        } else {
            (tunables(), openssh())
        };
        for (name, value) in settings {
            assert_eq!(
                config["services.openssh.settings"][&name], value,
                "{name} at {priority}"
            );
        }
        for (name, value) in openssh.into_iter().filter(|(n, _)| n != "enable") {
            assert_eq!(
                config[format!("services.openssh.{name}")],
                value,
                "{name} at {priority}"
            );
        }
    }
}

/// The promises are plain definitions: another plain value conflicts
/// (naming the option), and only `lib.mkForce` relaxes one.
#[test]
fn a_promise_yields_only_to_mk_force() {
    let rows = [
        ("PermitRootLogin", json!("prohibit-password")),
        ("PasswordAuthentication", json!(true)),
        ("KbdInteractiveAuthentication", json!(true)),
        ("AuthenticationMethods", json!("any")),
    ];
    for (name, other) in rows {
        let plain = json!({ "services": { "openssh": { "settings": { name: other } } } });
        let Some(error) = failure(&format!("plain {name}"), with_domi(plain)) else {
            return;
        };
        assert!(
            error.contains(&format!("services.openssh.settings.{name}")),
            "{error}"
        );
        assert!(error.contains("conflicting definition values"), "{error}");

        let forced = json!({ "services": { "openssh": { "settings": {
            name: { "_override": 50, "value": other },
        } } } });
        let Some(config) = eval(&format!("mkForce {name}"), with_domi(forced)) else {
            return;
        };
        assert_eq!(config["services.openssh.settings"][name], other, "{name}");
    }

    // sshd itself: detach the branch instead.
    let off = json!({ "services": { "openssh": { "enable": false } } });
    let Some(error) = failure("sshd off", with_domi(off)) else {
        return;
    };
    assert!(error.contains("services.openssh.enable"), "{error}");
    assert!(error.contains("conflicting definition values"), "{error}");
}

#[test]
fn the_port_and_the_firewall() {
    let port = json!({ "domi-nix": { "remote-access": { "port": 2222 } } });
    let Some(config) = eval("port", with_domi(port)) else {
        return;
    };
    assert_eq!(config["services.openssh.ports"], json!([2222]));
    assert_eq!(config["networking.firewall.allowedTCPPorts"], json!([2222]));
    assert!(extra_config(&config).contains(&"Port 2222".to_owned()));

    let closed = json!({ "domi-nix": { "remote-access": { "openFirewall": false } } });
    let Some(config) = eval("closed", with_domi(closed)) else {
        return;
    };
    assert_eq!(config["services.openssh.openFirewall"], false);
    assert_eq!(config["services.openssh.ports"], json!([22]));
    assert_eq!(config["networking.firewall.allowedTCPPorts"], json!([]));

    // Merged with other modules' ports, sorted and without duplicates.
    let others = json!({ "networking": { "firewall": { "allowedTCPPorts": [80, 22] } } });
    let Some(config) = eval("merged ports", with_domi(others)) else {
        return;
    };
    assert_eq!(
        config["networking.firewall.allowedTCPPorts"],
        json!([22, 80])
    );
}

#[test]
fn keys_for_several_users_merge_with_their_own() {
    let settings = with_domi(json!({
        "users": { "users": {
            "alice": { "isNormalUser": true },
            "domi": { "openssh": { "authorizedKeys": { "keys": [ALICE] } } },
            "git": { "isSystemUser": true, "group": "git" },
        } },
        "domi-nix": { "remote-access": { "users": { "alice": [ALICE], "git": [KEY, ALICE] } } },
    }));
    let Some(config) = eval("users", settings) else {
        return;
    };
    // The host's own key and the branch's, in either order.
    let mut domi: Vec<&str> = keys_of(&config, "domi")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    domi.sort_unstable();
    let mut both = [KEY, ALICE];
    both.sort_unstable();
    assert_eq!(domi, both);
    assert_eq!(keys_of(&config, "alice"), &json!([ALICE]));
    assert_eq!(keys_of(&config, "git"), &json!([KEY, ALICE]));
    assert_eq!(keys_of(&config, "root"), &json!([]));
    let files: Vec<&String> = config["environment.etc"]
        .as_object()
        .into_iter()
        .flat_map(|etc| etc.keys())
        .filter(|k| k.starts_with("ssh/authorized_keys.d/"))
        .collect();
    assert_eq!(
        files,
        [
            "ssh/authorized_keys.d/alice",
            "ssh/authorized_keys.d/domi",
            "ssh/authorized_keys.d/git"
        ]
    );
}

#[test]
fn every_kind_of_public_key_line_is_accepted() {
    for key in [
        KEY.to_owned(),
        format!("restrict,command=\"uptime\" {ALICE}"),
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDh1AsNAbeII9O03HHPlTBSiHP+NO5PsVOMjfztfKxY8PSDQ6fUUMl2H06bb4JQ9WHvdCTz9cj4OHhbKRWi8fec9BfofhU3eUHKvKE3JSF9RchjaSP2dHtojGx4JkpiEJKoIagkwsMiuFBrQsO7uZPlpkkH rsa@example".to_owned(),
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP2GB48gIAlgdZFC2foTy/8BIkwTqWcGpklau45UBubPyGwxU34LckUX4M5g/B6CtAbZS9EXElutIi5tYb8zn4g=".to_owned(),
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAXe7Vgimvva0E security-key".to_owned(),
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t cert".to_owned(),
    ] {
        let settings = json!({ "domi-nix": { "remote-access": { "users": { "domi": [key] } } } });
        let Some(config) = eval("key kinds", with_domi(settings)) else {
            return;
        };
        assert_eq!(keys_of(&config, "domi"), &json!([key]));
    }
}

/// Bad input: each error names the option and the fix.
#[test]
fn bad_input_is_an_error_naming_the_option_and_the_fix() {
    let users = |users: Value| json!({ "domi-nix": { "remote-access": { "users": users } } });
    let rows = [
        (
            "root",
            users(json!({ "root": [KEY] })),
            vec![
                "domi-nix.remote-access.users.root: root never logs in over SSH",
                "Fix: remove `root`",
            ],
        ),
        (
            "no keys",
            users(json!({ "domi": [] })),
            vec![
                "domi-nix.remote-access.users.domi has no keys",
                "Fix: add the line of the user's public key file",
            ],
        ),
        (
            "no account",
            users(json!({ "ghost": [KEY] })),
            vec![
                "domi-nix.remote-access.users.ghost: there is no account `ghost`",
                "Fix: declare it (`users.users.ghost.isNormalUser = true;`)",
            ],
        ),
        (
            "a fingerprint",
            users(json!({ "domi": ["SHA256:m0xihhb/BRX8vUIIhk9h9wrCIX2ZJTi3oVpHhR7aNtw alice"] })),
            vec![
                "domi-nix.remote-access.users.domi: `SHA256:m0xihhb/BRX8vUIIhk9h9wrCIX2ZJTi3o…` is not an OpenSSH public key",
                "Fix: paste the whole line of the public key file",
            ],
        ),
        (
            "a path",
            users(json!({ "domi": ["/home/domi/.ssh/id_ed25519.pub"] })),
            vec!["is not an OpenSSH public key", "Fix: "],
        ),
        (
            "port 0",
            json!({ "domi-nix": { "remote-access": { "port": 0 } } }),
            vec![
                "domi-nix.remote-access.port is 0",
                "Fix: choose a port from 1 to 65535",
            ],
        ),
        // The module system's own type errors name the option and the type.
        (
            "port out of range",
            json!({ "domi-nix": { "remote-access": { "port": 70000 } } }),
            vec!["domi-nix.remote-access.port", "65535"],
        ),
        (
            "a private key",
            users(
                json!({ "domi": ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"] }),
            ),
            vec!["domi-nix.remote-access.users.domi", "single-line string"],
        ),
    ];
    for (id, settings, wanted) in rows {
        let Some(error) = failure(id, with_domi(settings)) else {
            return;
        };
        for part in wanted {
            assert!(error.contains(part), "{id}: {part:?} not in {error}");
        }
    }
}

/// With `startWhenNeeded`, sshd runs as one `sshd@` instance per
/// connection: that template is what gets sandboxed.
#[test]
fn socket_activation_sandboxes_the_per_connection_unit() {
    let settings = json!({ "services": { "openssh": { "startWhenNeeded": true } } });
    let Some(config) = eval("startWhenNeeded", with_domi(settings)) else {
        return;
    };
    let named = &config["domi-nix"]["sandboxing"]["services"];
    assert_eq!(named.get("sshd"), None);
    let given = object(named["sshd@"]["exceptions"].clone());
    let values: Map<String, Value> = given
        .into_iter()
        .filter(|(_, e)| !e.is_null())
        .map(|(d, e)| (d, e["value"].clone()))
        .collect();
    assert_eq!(values, exceptions());
    assert_eq!(config["systemd.services"].get("sshd"), None);
    assert_eq!(
        config["domi-nix"]["features"]["remote-access"]["services"],
        json!(["sshd.socket"]),
        "the shell shows the socket"
    );
    let mut expected = kept();
    expected.extend(exceptions().into_iter().filter(|(_, v)| !v.is_null()));
    expected.extend(object(json!({
        "KillMode": "process",
        "StandardInput": "socket",
        "StandardError": "journal",
    })));
    assert_eq!(
        service_config(
            &config,
            "sshd@",
            "-<openssh>/bin/sshd -i -D -f /etc/ssh/sshd_config"
        ),
        expected
    );
}

#[test]
fn without_sandboxing_the_missing_branch_is_named() {
    let settings = json!({ "domi-nix": { "sandboxing": { "enable": false } } });
    let Some(error) = failure("no sandboxing", with_domi(settings)) else {
        return;
    };
    assert!(
        error.contains("feature `remote-access` requires feature `sandboxing`"),
        "{error}"
    );
    assert!(error.contains("Fix: "), "{error}");
}

/// The VM test's nodes, as the NixOS test framework builds them.
#[test]
fn the_vm_tests_nodes() {
    let Some(server) = eval_case("server", Case::test_node("remote-access", "server")) else {
        return;
    };
    let mut settings = object(server["services.openssh.settings"].clone());
    let expected: Map<String, Value> = promises().into_iter().chain(tunables()).collect();
    settings.retain(|k, _| expected.contains_key(k));
    assert_eq!(settings, expected);
    assert_eq!(keys_of(&server, "domi"), &json!([KEY]));
    assert_eq!(keys_of(&server, "root"), &json!([KEY]), "root has it too");
    assert_eq!(
        server["users.users"]["domi"]["extraGroups"],
        json!(["wheel"])
    );
    assert_eq!(server["networking.firewall.allowedTCPPorts"], json!([22]));
    assert_eq!(server["networking.hostName"], "server");

    let Some(client) = eval_case("client", Case::test_node("remote-access", "client")) else {
        return;
    };
    assert_eq!(client["services.openssh.enable"], false);
    assert_eq!(client["domi-nix"]["sandboxing"]["services"], json!({}));
    assert_eq!(
        client["environment.etc"]["domi-nix-test/id_ed25519"]["mode"],
        "0600"
    );
}

#[test]
fn manifest_lists_the_branch() {
    let Some(config) = eval("manifest", with_domi(json!({}))) else {
        return;
    };
    let text = config["environment.etc"]["domi-nix/features.json"]["text"]
        .as_str()
        .unwrap_or("{}");
    let manifest: Value = serde_json::from_str(text).unwrap_or_default();
    let entry = &manifest["features"]["remote-access"];
    assert_eq!(entry["category"], "services");
    assert_eq!(entry["requires"], json!(["sandboxing"]));
    assert_eq!(
        entry["services"],
        json!(["sshd.service"]),
        "the unit the shell shows"
    );
}
