//! Module evaluation of the hardening branch against the NixOS contract:
//! the real `nixos.nix` through the real top level (see dominix-testing).
//!
//! Data-driven: for each level and guest system, the tables below are
//! everything the branch sets — sysctls, kernel parameters, blacklisted
//! modules, other options — and each is compared whole with what the
//! evaluation gives, against the same system with the branch detached. A
//! setting the module loses, gains or changes fails a test; a setting added
//! to the module without a row here fails too.

use std::collections::BTreeMap;

use dominix_testing::dominix_eval::Case;
use dominix_testing::try_eval;
use serde_json::{Map, Value, json};

const SYSTEMS: [&str; 2] = ["x86_64-linux", "aarch64-linux"];

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Baseline,
    Strict,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Strict => "strict",
        }
    }
}

/// The sysctls the branch sets at `level` on `system`.
fn sysctls(level: Level, system: &str) -> Map<String, Value> {
    let strict = level == Level::Strict;
    let pick =
        |baseline: i64, strict_value: i64| json!(if strict { strict_value } else { baseline });
    let mut table = json!({
        "kernel.kptr_restrict": 2,
        "kernel.dmesg_restrict": 1,
        "kernel.perf_event_paranoid": 3,
        "kernel.unprivileged_bpf_disabled": 1,
        "net.core.bpf_jit_harden": 2,
        "kernel.kexec_load_disabled": 1,
        "kernel.io_uring_disabled": pick(1, 2),
        "dev.tty.ldisc_autoload": 0,
        "dev.tty.legacy_tiocsti": 0,
        "vm.unprivileged_userfaultfd": 0,
        "kernel.randomize_va_space": 2,
        "vm.mmap_rnd_compat_bits": 16,
        "kernel.yama.ptrace_scope": pick(1, 2),
        "kernel.sysrq": pick(4, 0),
        "kernel.oops_limit": 100,
        "fs.protected_hardlinks": 1,
        "fs.protected_symlinks": 1,
        "fs.protected_fifos": 2,
        "fs.protected_regular": 2,
        "fs.suid_dumpable": 0,
        "net.ipv4.conf.all.rp_filter": 1,
        "net.ipv4.conf.default.rp_filter": 1,
        "net.ipv4.conf.all.accept_redirects": 0,
        "net.ipv4.conf.default.accept_redirects": 0,
        "net.ipv4.conf.all.secure_redirects": 0,
        "net.ipv4.conf.default.secure_redirects": 0,
        "net.ipv4.conf.all.send_redirects": 0,
        "net.ipv4.conf.default.send_redirects": 0,
        "net.ipv6.conf.all.accept_redirects": 0,
        "net.ipv6.conf.default.accept_redirects": 0,
        "net.ipv4.conf.all.accept_source_route": 0,
        "net.ipv4.conf.default.accept_source_route": 0,
        "net.ipv6.conf.all.accept_source_route": 0,
        "net.ipv6.conf.default.accept_source_route": 0,
        "net.ipv4.tcp_syncookies": 1,
        "net.ipv4.tcp_rfc1337": 1,
        "net.ipv4.icmp_echo_ignore_broadcasts": 1,
        "net.ipv4.icmp_ignore_bogus_error_responses": 1,
        "net.ipv4.conf.all.log_martians": pick(0, 1),
        "net.ipv4.conf.default.log_martians": pick(0, 1),
    });
    if system == "x86_64-linux" {
        table["vm.mmap_rnd_bits"] = json!(32);
        table["vm.mmap_min_addr"] = json!(65536);
    }
    if strict {
        table["kernel.warn_limit"] = json!(100);
    }
    table.as_object().cloned().unwrap_or_default()
}

/// The kernel parameters the branch adds, and those nixpkgs adds because of
/// an option the branch sets (security/misc.nix).
fn kernel_params(level: Level, system: &str) -> Vec<&'static str> {
    let x86 = system == "x86_64-linux";
    let mut params = vec![
        "slab_nomerge",
        "init_on_alloc=1",
        "page_alloc.shuffle=1",
        "randomize_kstack_offset=on",
    ];
    match level {
        Level::Baseline => params.push("proc_mem.force_override=ptrace"),
        Level::Strict => {
            params.extend([
                "proc_mem.force_override=never",
                "init_on_free=1",
                "debugfs=off",
                "bdev_allow_write_mounted=0",
                "iommu.strict=1",
                "efi=disable_early_pci_dma",
                // nixpkgs, for security.protectKernelImage.
                "nohibernate",
            ]);
            if x86 {
                // nixpkgs' `pti=on` for security.forcePageTableIsolation.
                params.extend(["vsyscall=none", "vdso32=0", "ia32_emulation=0", "pti=on"]);
            }
        }
    }
    params
}

fn blacklist(level: Level) -> Vec<&'static str> {
    let mut modules = vec![
        "dccp",
        "sctp",
        "rds",
        "tipc",
        "n-hdlc",
        "ax25",
        "netrom",
        "rose",
        "x25",
        "decnet",
        "econet",
        "af_802154",
        "ipx",
        "appletalk",
        "psnap",
        "p8022",
        "p8023",
        "atm",
        "vivid",
    ];
    if level == Level::Strict {
        modules.extend([
            "cramfs",
            "freevxfs",
            "jffs2",
            "hfs",
            "hfsplus",
            "udf",
            "adfs",
            "affs",
            "bfs",
            "befs",
            "efs",
            "exofs",
            "hpfs",
            "jfs",
            "minix",
            "nilfs2",
            "omfs",
            "qnx4",
            "qnx6",
            "sysv",
            "ufs",
            "firewire-core",
            "firewire-ohci",
            "firewire-sbp2",
            "firewire-net",
            "can",
        ]);
    }
    modules
}

/// Every other option the branch sets, with its value.
fn options(level: Level, system: &str) -> BTreeMap<&'static str, Value> {
    let strict = level == Level::Strict;
    BTreeMap::from([
        ("boot.tmp.cleanOnBoot", json!(true)),
        ("boot.loader.systemd-boot.editor", json!(false)),
        (
            "systemd.coredump.extraConfig",
            json!(if strict {
                "Storage=none\nProcessSizeMax=0"
            } else {
                "Storage=none"
            }),
        ),
        ("security.sudo.execWheelOnly", json!(true)),
        ("networking.firewall.enable", json!(true)),
        ("security.protectKernelImage", json!(strict)),
        ("security.lockKernelModules", json!(strict)),
        (
            "security.forcePageTableIsolation",
            json!(strict && system == "x86_64-linux"),
        ),
        (
            "nix.settings.allowed-users",
            json!(if strict { vec!["@wheel"] } else { vec!["*"] }),
        ),
    ])
}

fn eval(id: &str, system: &str, settings: Value) -> Option<Value> {
    let case = Case::feature("hardening")
        .on_system(system)
        .with_settings(settings);
    let outcome = try_eval(id, &case)?;
    Some(
        outcome
            .and_then(|o| o.into_checked(id))
            .unwrap_or_else(|e| panic!("{e}"))
            .config,
    )
}

fn level(level: Level) -> Value {
    json!({ "domi-nix": { "hardening": { "level": level.name() } } })
}

/// The value of a dotted option path, from the contract options (keyed by
/// their full path) or below one of them.
fn option<'a>(config: &'a Value, path: &str) -> &'a Value {
    if let Some(value) = config.get(path) {
        return value;
    }
    let (parent, leaf) = path.rsplit_once('.').unwrap_or((path, ""));
    &option(config, parent)[leaf]
}

fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    items.sort();
    items
}

#[test]
fn every_setting_of_every_level_on_every_system() {
    for system in SYSTEMS {
        let detached = json!({ "domi-nix": { "hardening": { "enable": false } } });
        let Some(nixpkgs) = eval(&format!("detached on {system}"), system, detached) else {
            return;
        };
        for lvl in [Level::Baseline, Level::Strict] {
            let id = format!("{} on {system}", lvl.name());
            let Some(config) = eval(&id, system, level(lvl)) else {
                return;
            };

            // Sysctls: nixpkgs' own, with the branch's table over them.
            let mut expected = nixpkgs["boot.kernel.sysctl"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            expected.extend(sysctls(lvl, system));
            assert_eq!(
                config["boot.kernel.sysctl"],
                Value::Object(expected),
                "sysctls, {id}"
            );

            // Kernel parameters: nixpkgs' own plus the branch's (and what
            // nixpkgs adds for the options the branch sets).
            let mut params = sorted(&nixpkgs["boot.kernelParams"]);
            params.extend(kernel_params(lvl, system).into_iter().map(str::to_owned));
            params.sort();
            assert_eq!(
                sorted(&config["boot.kernelParams"]),
                params,
                "kernel parameters, {id}"
            );

            assert_eq!(
                config["boot.blacklistedKernelModules"],
                json!(blacklist(lvl)),
                "module blacklist, {id}"
            );

            for (path, want) in options(lvl, system) {
                assert_eq!(option(&config, path), &want, "{path}, {id}");
            }
            assert_eq!(config["domi-nix"]["hardening"]["level"], lvl.name());
        }
    }
}

#[test]
fn detached_it_sets_nothing() {
    let detached = json!({ "domi-nix": { "hardening": { "enable": false } } });
    let Some(config) = eval("detached", "x86_64-linux", detached) else {
        return;
    };
    assert_eq!(
        config["boot.kernel.sysctl"]["kernel.kptr_restrict"], 1,
        "nixpkgs' own value (sysctl.nix), not the branch's 2"
    );
    // nixpkgs' own values of what baseline sets.
    for (path, nixpkgs) in [
        ("boot.tmp.cleanOnBoot", json!(false)),
        ("boot.loader.systemd-boot.editor", json!(true)),
        ("systemd.coredump.extraConfig", json!("")),
        ("security.sudo.execWheelOnly", json!(false)),
    ] {
        assert_eq!(option(&config, path), &nixpkgs, "{path} without the branch");
    }
    assert_eq!(config["boot.blacklistedKernelModules"], json!([]));
    assert_eq!(
        config["domi-nix"]["features"],
        json!({}),
        "a detached branch leaves the manifest"
    );
}

#[test]
fn a_plain_definition_overrides_any_value() {
    let settings = json!({
        "boot": { "kernel": { "sysctl": { "kernel.sysrq": 1, "kernel.io_uring_disabled": 0 } } },
        "security": { "sudo": { "execWheelOnly": false }, "lockKernelModules": false },
        "nix": { "settings": { "allowed-users": ["*"] } },
        "systemd": { "coredump": { "extraConfig": "Storage=external" } },
        "domi-nix": { "hardening": { "level": "strict" } }
    });
    let Some(config) = eval("overridden", "x86_64-linux", settings) else {
        return;
    };
    assert_eq!(config["boot.kernel.sysctl"]["kernel.sysrq"], 1);
    assert_eq!(config["boot.kernel.sysctl"]["kernel.io_uring_disabled"], 0);
    assert_eq!(config["security.sudo.execWheelOnly"], false);
    assert_eq!(config["security.lockKernelModules"], false);
    assert_eq!(option(&config, "nix.settings.allowed-users"), &json!(["*"]));
    assert_eq!(config["systemd.coredump.extraConfig"], "Storage=external");
    // What was not overridden keeps the strict value.
    assert_eq!(config["boot.kernel.sysctl"]["kernel.yama.ptrace_scope"], 2);
}

/// Priority 900: a host's `mkOverride 899` wins, a module's `mkDefault`
/// (1000) — or anything weaker than 900 — loses.
#[test]
fn the_branch_sits_between_plain_definitions_and_mk_default() {
    let at = |priority: i64| json!({ "_override": priority, "value": 0 });
    for (priority, wins) in [(899, true), (901, false), (1000, false)] {
        let settings = json!({
            "boot": { "kernel": { "sysctl": { "kernel.kptr_restrict": at(priority) } } },
            "networking": { "firewall": { "enable": { "_override": priority, "value": false } } },
        });
        let Some(config) = eval(&format!("priority {priority}"), "x86_64-linux", settings) else {
            return;
        };
        let (sysctl, firewall) = if wins { (0, false) } else { (2, true) };
        assert_eq!(
            config["boot.kernel.sysctl"]["kernel.kptr_restrict"], sysctl,
            "at {priority}"
        );
        assert_eq!(
            config["networking.firewall.enable"], firewall,
            "at {priority}"
        );
    }
}

#[test]
fn baseline_keeps_hibernation_and_kexec_is_off_at_both_levels() {
    let Some(baseline) = eval("baseline", "x86_64-linux", json!({})) else {
        return;
    };
    let params = sorted(&baseline["boot.kernelParams"]);
    assert!(!params.iter().any(|p| p == "nohibernate"), "{params:?}");
    assert_eq!(
        baseline["boot.kernel.sysctl"]["kernel.kexec_load_disabled"],
        1
    );
}

#[test]
fn a_kernel_parameter_and_a_module_can_be_dropped() {
    let settings = json!({ "domi-nix": { "hardening": {
        "kernelParams": ["init_on_alloc=1"],
        "blacklistedKernelModules": ["dccp"],
    } } });
    let Some(config) = eval("dropped", "x86_64-linux", settings) else {
        return;
    };
    let params = sorted(&config["boot.kernelParams"]);
    assert!(params.iter().any(|p| p == "init_on_alloc=1"), "{params:?}");
    assert!(!params.iter().any(|p| p == "slab_nomerge"), "{params:?}");
    // The rest is nixpkgs' own (kernel.nix).
    assert!(params.iter().any(|p| p == "loglevel=4"), "{params:?}");
    assert_eq!(config["boot.blacklistedKernelModules"], json!(["dccp"]));
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
}

#[test]
fn manifest_lists_the_branch() {
    let Some(config) = eval("manifest", "x86_64-linux", json!({})) else {
        return;
    };
    let text = config["environment.etc"]["domi-nix/features.json"]["text"]
        .as_str()
        .expect("manifest text");
    let manifest: Value = serde_json::from_str(text).expect("manifest is JSON");
    assert_eq!(manifest["features"]["hardening"]["category"], "security");
}
