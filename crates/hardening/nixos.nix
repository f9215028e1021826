# domi-nix hardening: a maintained hardening set for the kernel, sysctls,
# logins, core dumps and the Nix daemon, in two levels -- nixpkgs removed its
# `hardened` profile and `linux_hardened` kernel in 2026. README.md compares
# every setting with the last nixpkgs profile, nix-mineral and the KSPP /
# kernel-hardening-checker recommendations, and says why what is left out
# is left out.
#
# Every value is set with `mkOverride 900`: stronger than nixpkgs' own
# `mkDefault`s (1000), weaker than any plain definition (100), so a host
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
  inherit (lib) mkIf mkMerge mkOption optionalAttrs types;

  strict = cfg.level == "strict";
  # vsyscalls, page-table isolation, 32-bit compatibility and the mmap
  # randomisation range are x86_64's; an aarch64 kernel hands unknown
  # parameters to init instead, and rejects a `vm.mmap_rnd_bits` above its
  # maximum (which depends on the page size and address bits).
  x86 = pkgs.stdenv.hostPlatform.isx86_64;
  # A domi-nix default: overridable by any plain definition.
  dflt = lib.mkOverride 900;

  sysctl =
    {
      # Kernel information leaks.
      "kernel.kptr_restrict" = 2;
      "kernel.dmesg_restrict" = 1;
      "kernel.perf_event_paranoid" = 3;
      # BPF.
      "kernel.unprivileged_bpf_disabled" = 1;
      "net.core.bpf_jit_harden" = 2;
      # No replacing the running kernel (kexec_load and kexec_file_load).
      "kernel.kexec_load_disabled" = 1;
      # io_uring: 1 = only root (CAP_SYS_ADMIN), 2 = nobody.
      "kernel.io_uring_disabled" =
        if strict
        then 2
        else 1;
      # No line-discipline modules loaded for unprivileged users, no input
      # injected into another terminal, no kernel-mode userfaultfd.
      "dev.tty.ldisc_autoload" = 0;
      "dev.tty.legacy_tiocsti" = 0;
      "vm.unprivileged_userfaultfd" = 0;
      # Address-space layout randomisation, held at the kernel's full setting.
      "kernel.randomize_va_space" = 2;
      "vm.mmap_rnd_compat_bits" = 16;
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
      # A kernel that oopsed 100 times panics instead of running on.
      "kernel.oops_limit" = 100;
      # File system link and dump protections.
      "fs.protected_hardlinks" = 1;
      "fs.protected_symlinks" = 1;
      "fs.protected_fifos" = 2;
      "fs.protected_regular" = 2;
      "fs.suid_dumpable" = 0;
      # Network: no redirects or source routing, reverse-path filtering, SYN
      # cookies, no answers to broadcasts or bogus errors, RFC 1337.
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
      "net.ipv4.conf.default.accept_source_route" = 0;
      "net.ipv6.conf.all.accept_source_route" = 0;
      "net.ipv6.conf.default.accept_source_route" = 0;
      "net.ipv4.tcp_syncookies" = 1;
      "net.ipv4.tcp_rfc1337" = 1;
      "net.ipv4.icmp_echo_ignore_broadcasts" = 1;
      "net.ipv4.icmp_ignore_bogus_error_responses" = 1;
      "net.ipv4.conf.all.log_martians" =
        if strict
        then 1
        else 0;
      "net.ipv4.conf.default.log_martians" =
        if strict
        then 1
        else 0;
    }
    // optionalAttrs x86 {
      # x86_64's maximum randomisation, and no mappings below 64 KiB.
      "vm.mmap_rnd_bits" = 32;
      "vm.mmap_min_addr" = 65536;
    }
    // optionalAttrs strict {
      # A kernel that warned 100 times panics too (noisy drivers warn).
      "kernel.warn_limit" = 100;
    };
in {
  options.domi-nix.hardening = {
    level = mkOption {
      type = types.enum ["baseline" "strict"];
      default = "baseline";
      example = "strict";
      description = ''
        How far to go. `baseline` is safe for any machine, desktops, laptops
        and VMs included. `strict` adds settings that can break debugging
        tools, hardware or hibernation: no module loading after boot, no
        kernel replacement, memory zeroed on free, no vsyscalls or 32-bit
        emulation, no SysRq, ptrace and io_uring for admins or nobody, core
        dumps not even processed, the Nix daemon for `wheel` only.
      '';
    };

    kernelParams = mkOption {
      type = types.listOf types.str;
      default =
        ["slab_nomerge" "init_on_alloc=1" "page_alloc.shuffle=1" "randomize_kstack_offset=on"]
        ++ [
          "proc_mem.force_override=${
            if strict
            then "never"
            else "ptrace"
          }"
        ]
        ++ lib.optionals strict (
          ["init_on_free=1" "debugfs=off" "bdev_allow_write_mounted=0" "iommu.strict=1" "efi=disable_early_pci_dma"]
          ++ lib.optionals x86 ["vsyscall=none" "vdso32=0" "ia32_emulation=0"]
        );
      defaultText = lib.literalMD "allocator hardening and `proc_mem.force_override=ptrace`; at `strict`, also memory zeroed on free, no debugfs, no writes to mounted block devices, strict IOMMU, no early PCI DMA, `proc_mem.force_override=never` and (x86_64 only) no vsyscalls, 32-bit vDSO or 32-bit emulation";
      example = ["slab_nomerge" "init_on_alloc=1"];
      description = ''
        Kernel command-line parameters the branch adds. Set this list to drop
        one (`boot.kernelParams` only ever appends).
      '';
    };

    blacklistedKernelModules = mkOption {
      type = types.listOf types.str;
      default =
        [
          # Rare network protocols.
          "dccp"
          "sctp"
          "rds"
          "tipc"
          "n-hdlc"
          "ax25"
          "netrom"
          "rose"
          "x25"
          "decnet"
          "econet"
          "af_802154"
          "ipx"
          "appletalk"
          "psnap"
          "p8022"
          "p8023"
          "atm"
          # A video test driver nobody loads on purpose.
          "vivid"
        ]
        ++ lib.optionals strict [
          # Rare file systems.
          "cramfs"
          "freevxfs"
          "jffs2"
          "hfs"
          "hfsplus"
          "udf"
          "adfs"
          "affs"
          "bfs"
          "befs"
          "efs"
          "exofs"
          "hpfs"
          "jfs"
          "minix"
          "nilfs2"
          "omfs"
          "qnx4"
          "qnx6"
          "sysv"
          "ufs"
          # FireWire (DMA from the bus) and CAN.
          "firewire-core"
          "firewire-ohci"
          "firewire-sbp2"
          "firewire-net"
          "can"
        ];
      defaultText = lib.literalMD "rare network protocols and a test driver; at `strict`, rare file systems, FireWire and CAN too";
      description = ''
        Kernel modules that are never loaded automatically (rarely used,
        often vulnerable). An explicit `modprobe` still loads them; at
        `strict`, nothing loads once the system has booted.
      '';
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      boot.kernel.sysctl = lib.mapAttrs (_: dflt) sysctl;

      boot.kernelParams = cfg.kernelParams;

      boot.blacklistedKernelModules = cfg.blacklistedKernelModules;
      boot.tmp.cleanOnBoot = dflt true;
      # The boot menu's editor boots anyone into `init=/bin/sh`.
      boot.loader.systemd-boot.editor = dflt false;

      # Crashes are still logged (with a backtrace) but never stored.
      systemd.coredump.extraConfig = dflt "Storage=none";

      security.sudo.execWheelOnly = dflt true;
      networking.firewall.enable = dflt true;
    }
    (mkIf strict {
      # No hibernation and no kexec (nixpkgs adds `nohibernate`).
      security.protectKernelImage = dflt true;
      security.lockKernelModules = dflt true;
      # Crashes are not even processed.
      systemd.coredump.extraConfig = dflt "ProcessSizeMax=0";
      # Only admins talk to the Nix daemon (root and trusted users always may).
      nix.settings.allowed-users = dflt ["@wheel"];
    })
    (mkIf (strict && x86) {
      # nixpkgs' security/misc.nix turns this into `pti=on`, with no platform check.
      security.forcePageTableIsolation = dflt true;
    })
  ]);
}
