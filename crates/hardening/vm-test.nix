# NixOS VM test of the hardening branch (`checks.<system>.hardening`): boots a
# trunk with hardening at the default level and at `strict`, and checks on
# the running kernel what each level sets and what must now fail.
let
  node = level: {pkgs, ...}: {
    domi-nix.hardening.level = level;
    # kexec and a raw io_uring_setup(2) call, to see them refused.
    environment.systemPackages = [pkgs.kexec-tools pkgs.perl];
  };
in {
  name = "domi-nix-hardening";

  nodes = {
    baseline = node "baseline";
    strict = node "strict";
  };

  testScript = ''
    import json

    # io_uring_setup(2) is system call 425 on x86_64 and aarch64 alike.
    io_uring = "perl -e 'exit(syscall(425, 8, \"\\0\" x 120) < 0 ? 1 : 0)'"

    start_all()
    for m in [baseline, strict]:
        m.wait_for_unit("multi-user.target")

    def sysctl(m, key):
        return m.succeed(f"sysctl -n {key}").strip()

    with subtest("sysctls are applied"):
        both = {
            "kernel.kptr_restrict": "2",
            "kernel.dmesg_restrict": "1",
            "kernel.unprivileged_bpf_disabled": "1",
            "kernel.kexec_load_disabled": "1",
            "dev.tty.ldisc_autoload": "0",
            "dev.tty.legacy_tiocsti": "0",
            "vm.unprivileged_userfaultfd": "0",
            "kernel.randomize_va_space": "2",
            "fs.suid_dumpable": "0",
            "fs.protected_fifos": "2",
            "net.ipv4.tcp_syncookies": "1",
            "net.ipv4.conf.all.accept_redirects": "0",
        }
        for m in [baseline, strict]:
            for key, want in both.items():
                assert sysctl(m, key) == want, f"{m.name}: {key}"
        for key, (base, strict_value) in {
            "kernel.yama.ptrace_scope": ("1", "2"),
            "kernel.sysrq": ("4", "0"),
            "kernel.io_uring_disabled": ("1", "2"),
        }.items():
            assert sysctl(baseline, key) == base, key
            assert sysctl(strict, key) == strict_value, key

    with subtest("kernel command line and module blacklist"):
        baseline.succeed("grep -q slab_nomerge /proc/cmdline")
        baseline.fail("grep -q nohibernate /proc/cmdline")
        strict.succeed("grep -q init_on_free=1 /proc/cmdline")
        strict.succeed("grep -q nohibernate /proc/cmdline")
        baseline.succeed("grep -qx 'blacklist dccp' /etc/modprobe.d/nixos.conf")
        strict.succeed("grep -qx 'blacklist hfsplus' /etc/modprobe.d/nixos.conf")

    with subtest("what must fail now fails"):
        for m in [baseline, strict]:
            # No replacing the running kernel.
            m.fail("kexec -l /run/current-system/kernel --initrd=/run/current-system/initrd --reuse-cmdline")
            # io_uring refused to an unprivileged user.
            m.fail(f"su -s /bin/sh nobody -c {json.dumps(io_uring)}")
        # Root keeps io_uring at baseline, not at strict.
        baseline.succeed(io_uring)
        strict.fail(io_uring)

    with subtest("core dumps are logged, not stored"):
        for m in [baseline, strict]:
            m.succeed("grep -qx 'Storage=none' /etc/systemd/coredump.conf")
        baseline.succeed("sh -c 'sleep 60 & kill -SEGV $!; wait' || true")
        baseline.wait_until_succeeds("coredumpctl --no-pager list | grep -q sleep")
        baseline.succeed("test -z \"$(ls -A /var/lib/systemd/coredump)\"")
        strict.succeed("grep -qx 'ProcessSizeMax=0' /etc/systemd/coredump.conf")

    with subtest("strict refuses what baseline allows"):
        # security.lockKernelModules: module loading is switched off once booted.
        strict.wait_for_unit("disable-kernel-module-loading.service")
        strict.succeed("test $(cat /proc/sys/kernel/modules_disabled) = 1")
        strict.fail("modprobe dccp")
        baseline.succeed("test $(cat /proc/sys/kernel/modules_disabled) = 0")
        # Only wheel talks to the Nix daemon.
        strict.succeed("grep -q '^allowed-users = @wheel$' /etc/nix/nix.conf")
        baseline.succeed("grep -q '^allowed-users = \\*$' /etc/nix/nix.conf")

    with subtest("the manifest lists the branch"):
        manifest = json.loads(baseline.succeed("cat /etc/domi-nix/features.json"))
        assert "hardening" in manifest["features"], manifest
  '';
}
