//! Module evaluation of the hardening branch against the NixOS contract.
//! Runs the real `nixos.nix` through the real top level; see dominix-testing.

use dominix_testing::dominix_eval::Case;
use dominix_testing::{eval_feature, try_eval};
use serde_json::{Value, json};

fn strict() -> Value {
    json!({ "domi-nix": { "hardening": { "level": "strict" } } })
}

#[test]
fn baseline_sets_the_kernel_sysctls() {
    let Some(config) = eval_feature("hardening", json!({})) else {
        return;
    };
    let sysctl = &config["boot.kernel.sysctl"];
    for (key, want) in [
        ("kernel.kptr_restrict", 2),
        ("kernel.dmesg_restrict", 1),
        ("kernel.unprivileged_bpf_disabled", 1),
        ("net.core.bpf_jit_harden", 2),
        ("kernel.yama.ptrace_scope", 1),
        ("kernel.sysrq", 4),
        ("net.ipv4.tcp_syncookies", 1),
        ("net.ipv4.conf.all.accept_redirects", 0),
        ("fs.protected_symlinks", 1),
    ] {
        assert_eq!(sysctl[key], want, "sysctl {key}");
    }
    assert_eq!(config["domi-nix"]["hardening"]["level"], "baseline");
}

#[test]
fn baseline_protects_the_kernel_and_logins() {
    let Some(config) = eval_feature("hardening", json!({})) else {
        return;
    };
    assert_eq!(config["security.protectKernelImage"], true);
    assert_eq!(config["security.sudo.execWheelOnly"], true);
    assert_eq!(config["networking.firewall.enable"], true);
    assert_eq!(
        config["security.lockKernelModules"], false,
        "module locking is strict-only"
    );
    let params = config["boot.kernelParams"].as_array().expect("a list");
    assert!(params.contains(&json!("slab_nomerge")), "{params:?}");
    assert!(
        !params.contains(&json!("init_on_free=1")),
        "init_on_free is strict-only: {params:?}"
    );
    let blacklist = config["boot.blacklistedKernelModules"]
        .as_array()
        .expect("a list");
    assert!(
        blacklist.contains(&json!("dccp")) && !blacklist.contains(&json!("udf")),
        "{blacklist:?}"
    );
}

#[test]
fn strict_goes_further() {
    let Some(config) = eval_feature("hardening", strict()) else {
        return;
    };
    assert_eq!(config["boot.kernel.sysctl"]["kernel.yama.ptrace_scope"], 2);
    assert_eq!(config["boot.kernel.sysctl"]["kernel.sysrq"], 0);
    assert_eq!(
        config["boot.kernel.sysctl"]["net.ipv4.conf.all.log_martians"],
        1
    );
    assert_eq!(config["security.lockKernelModules"], true);
    assert_eq!(config["security.forcePageTableIsolation"], true);
    let params = config["boot.kernelParams"].as_array().expect("a list");
    for p in ["init_on_free=1", "vsyscall=none", "slab_nomerge"] {
        assert!(params.contains(&json!(p)), "{p} missing from {params:?}");
    }
    assert!(
        config["boot.blacklistedKernelModules"]
            .as_array()
            .expect("a list")
            .contains(&json!("udf"))
    );
}

#[test]
fn every_value_is_overridable_by_a_plain_definition() {
    let settings = json!({
        "boot": { "kernel": { "sysctl": { "kernel.sysrq": 1, "kernel.kptr_restrict": 1 } } },
        "security": { "sudo": { "execWheelOnly": false }, "lockKernelModules": false },
        "domi-nix": { "hardening": { "level": "strict" } }
    });
    let Some(config) = eval_feature("hardening", settings) else {
        return;
    };
    assert_eq!(config["boot.kernel.sysctl"]["kernel.sysrq"], 1);
    assert_eq!(config["boot.kernel.sysctl"]["kernel.kptr_restrict"], 1);
    assert_eq!(config["security.sudo.execWheelOnly"], false);
    assert_eq!(config["security.lockKernelModules"], false);
    // What was not overridden keeps the strict value.
    assert_eq!(config["boot.kernel.sysctl"]["kernel.yama.ptrace_scope"], 2);
}

#[test]
fn detached_branch_sets_nothing() {
    let Some(config) = eval_feature(
        "hardening",
        json!({ "domi-nix": { "hardening": { "enable": false } } }),
    ) else {
        return;
    };
    assert_eq!(
        config["boot.kernel.sysctl"]["kernel.kptr_restrict"], 1,
        "nixpkgs' own value (sysctl.nix), not the branch's 2"
    );
    assert_eq!(config["security.protectKernelImage"], false);
    assert_eq!(
        config["domi-nix"]["features"],
        json!({}),
        "a detached branch leaves the manifest"
    );
}

#[test]
fn manifest_lists_the_branch() {
    let Some(config) = eval_feature("hardening", json!({})) else {
        return;
    };
    let text = config["environment.etc"]["domi-nix/features.json"]["text"]
        .as_str()
        .expect("manifest text");
    let manifest: Value = serde_json::from_str(text).expect("manifest is JSON");
    assert_eq!(manifest["features"]["hardening"]["category"], "security");
}

#[test]
fn an_unknown_level_is_a_type_error_naming_the_option() {
    let case = Case::feature("hardening")
        .with_settings(json!({ "domi-nix": { "hardening": { "level": "paranoid" } } }));
    let Some(result) = try_eval("hardening", &case) else {
        return;
    };
    let error = result.expect_err("`paranoid` is not a level").to_string();
    assert!(error.contains("domi-nix.hardening.level"), "{error}");
    assert!(error.contains("hardening"), "{error}");
}

#[test]
fn a_kernel_parameter_can_be_dropped() {
    let settings = json!({ "domi-nix": { "hardening": { "kernelParams": ["init_on_alloc=1"] } } });
    let Some(config) = eval_feature("hardening", settings) else {
        return;
    };
    let params = config["boot.kernelParams"].as_array().expect("a list");
    assert!(params.contains(&json!("init_on_alloc=1")), "{params:?}");
    for dropped in [
        "slab_nomerge",
        "page_alloc.shuffle=1",
        "randomize_kstack_offset=on",
    ] {
        assert!(
            !params.contains(&json!(dropped)),
            "{dropped} dropped: {params:?}"
        );
    }
    // The rest is nixpkgs' own (kernel.nix, security/default.nix, and
    // security/misc.nix for the protected kernel image).
    assert!(params.contains(&json!("loglevel=4")), "{params:?}");
}

/// Strict hardening's kernel parameters on one guest system.
fn strict_on(system: &str) -> Option<Value> {
    let case = Case::feature("hardening")
        .on_system(system)
        .with_settings(strict());
    let outcome = try_eval(&format!("hardening strict on {system}"), &case)?;
    Some(outcome.unwrap_or_else(|e| panic!("{e}")).config)
}

#[test]
fn x86_only_kernel_parameters_stay_off_aarch64() {
    let (Some(x86), Some(arm)) = (strict_on("x86_64-linux"), strict_on("aarch64-linux")) else {
        return;
    };
    let params = |config: &Value| -> Vec<String> {
        config["boot.kernelParams"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect()
    };
    let (x86_params, arm_params) = (params(&x86), params(&arm));
    // `pti=on` comes from nixpkgs' security/misc.nix, which has no platform check.
    for x86_only in ["vsyscall=none", "pti=on"] {
        assert!(
            x86_params.iter().any(|p| p == x86_only),
            "{x86_only} on x86_64: {x86_params:?}"
        );
        assert!(
            !arm_params.iter().any(|p| p == x86_only),
            "{x86_only} on aarch64: {arm_params:?}"
        );
    }
    assert_eq!(x86["security.forcePageTableIsolation"], true);
    assert_eq!(arm["security.forcePageTableIsolation"], false);
    assert!(
        arm_params.iter().any(|p| p == "init_on_free=1"),
        "{arm_params:?}"
    );
}
