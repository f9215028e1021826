# domi-nix hardening: a maintained hardening set for the kernel, sysctls and
# logins, in two levels. Every value is set with `mkOverride 900`: stronger
# than nixpkgs' own `mkDefault`s, weaker than any plain definition, so a host
# overrides any single value by simply setting it.
#
# `domi-nix.<branch>.enable` is not declared here: the branch's identity
# module (nix-modules/trunk/feature-identity.nix) declares it, true once the
# branch is imported, and `flake.nixosModules.<branch>` carries both.
{
  config,
  lib,
  pkgs,
  ...
}: let
  cfg = config.domi-nix.hardening;
  inherit (lib) mkIf mkMerge mkOption types;

  strict = cfg.level == "strict";
  # vsyscalls and page-table isolation (`pti=`) exist on x86_64 only; an
  # aarch64 kernel hands unknown parameters to init instead.
  x86 = pkgs.stdenv.hostPlatform.isx86_64;
  # A domi-nix default: overridable by any plain definition.
  dflt = lib.mkOverride 900;

  sysctl = {
    # Kernel information leaks.
    "kernel.kptr_restrict" = 2;
    "kernel.dmesg_restrict" = 1;
    "kernel.perf_event_paranoid" = 2;
    # BPF.
    "kernel.unprivileged_bpf_disabled" = 1;
    "net.core.bpf_jit_harden" = 2;
    # Process isolation: 1 = only descendants may be traced, 2 = only admins.
    "kernel.yama.ptrace_scope" =
      if strict
      then 2
      else 1;
    # Magic SysRq: 4 = only the secure attention key, 0 = none.
    "kernel.sysrq" =
      if strict
      then 0
      else 4;
    # File system link and dump protections.
    "fs.protected_hardlinks" = 1;
    "fs.protected_symlinks" = 1;
    "fs.protected_fifos" = 2;
    "fs.protected_regular" = 2;
    "fs.suid_dumpable" = 0;
    # Network: no redirects or source routing, reverse-path filtering, SYN cookies.
    "net.ipv4.conf.all.rp_filter" = 1;
    "net.ipv4.conf.default.rp_filter" = 1;
    "net.ipv4.conf.all.accept_redirects" = 0;
    "net.ipv4.conf.default.accept_redirects" = 0;
    "net.ipv4.conf.all.secure_redirects" = 0;
    "net.ipv4.conf.default.secure_redirects" = 0;
    "net.ipv4.conf.all.send_redirects" = 0;
    "net.ipv4.conf.default.send_redirects" = 0;
    "net.ipv6.conf.all.accept_redirects" = 0;
    "net.ipv6.conf.default.accept_redirects" = 0;
    "net.ipv4.conf.all.accept_source_route" = 0;
    "net.ipv6.conf.all.accept_source_route" = 0;
    "net.ipv4.tcp_syncookies" = 1;
    "net.ipv4.icmp_echo_ignore_broadcasts" = 1;
    "net.ipv4.conf.all.log_martians" =
      if strict
      then 1
      else 0;
  };
in {
  options.domi-nix.hardening = {
    level = mkOption {
      type = types.enum ["baseline" "strict"];
      default = "baseline";
      example = "strict";
      description = ''
        How far to go. `baseline` is safe for any machine, desktops and VMs
        included. `strict` adds settings that can break debugging tools or
        hardware: no module loading after boot, memory zeroed on free, no
        vsyscalls, no SysRq, ptrace for admins only.
      '';
    };

    kernelParams = mkOption {
      type = types.listOf types.str;
      default =
        ["slab_nomerge" "init_on_alloc=1" "page_alloc.shuffle=1" "randomize_kstack_offset=on"]
        ++ lib.optionals strict (["init_on_free=1" "debugfs=off"] ++ lib.optional x86 "vsyscall=none");
      defaultText = lib.literalMD "allocator hardening; at `strict`, also `init_on_free=1`, `debugfs=off` and (x86_64 only) `vsyscall=none`";
      example = ["slab_nomerge" "init_on_alloc=1"];
      description = ''
        Kernel command-line parameters the branch adds. Set this list to drop
        one (`boot.kernelParams` only ever appends).
      '';
    };

    blacklistedKernelModules = mkOption {
      type = types.listOf types.str;
      default =
        ["dccp" "sctp" "rds" "tipc"]
        ++ lib.optionals strict ["cramfs" "freevxfs" "jffs2" "hfs" "hfsplus" "udf" "firewire-core"];
      defaultText = lib.literalMD "rare network protocols; at `strict`, rare file systems and FireWire too";
      description = "Kernel modules that are never loaded automatically (rarely used, often vulnerable).";
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      boot.kernel.sysctl = lib.mapAttrs (_: dflt) sysctl;

      boot.kernelParams = cfg.kernelParams;

      boot.blacklistedKernelModules = cfg.blacklistedKernelModules;
      boot.tmp.cleanOnBoot = dflt true;

      security.protectKernelImage = dflt true;
      security.sudo.execWheelOnly = dflt true;
      networking.firewall.enable = dflt true;
    }
    (mkIf strict {
      security.lockKernelModules = dflt true;
    })
    (mkIf (strict && x86) {
      # nixpkgs' security/misc.nix turns this into `pti=on`, with no platform check.
      security.forcePageTableIsolation = dflt true;
    })
  ]);
}
