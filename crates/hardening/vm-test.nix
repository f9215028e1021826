# NixOS VM test of the hardening branch (`checks.<system>.hardening`): boots a
# trunk with hardening at the default level and at `strict`.
{
  name = "domi-nix-hardening";

  nodes = {
    baseline = {};
    strict = {domi-nix.hardening.level = "strict";};
  };

  testScript = ''
    import json

    start_all()
    for m in [baseline, strict]:
        m.wait_for_unit("multi-user.target")

    with subtest("sysctls are applied"):
        for m in [baseline, strict]:
            m.succeed("test $(sysctl -n kernel.kptr_restrict) = 2")
            m.succeed("test $(sysctl -n kernel.dmesg_restrict) = 1")
            m.succeed("test $(sysctl -n net.ipv4.tcp_syncookies) = 1")
        baseline.succeed("test $(sysctl -n kernel.yama.ptrace_scope) = 1")
        strict.succeed("test $(sysctl -n kernel.yama.ptrace_scope) = 2")

    with subtest("kernel command line and module blacklist"):
        baseline.succeed("grep -q slab_nomerge /proc/cmdline")
        strict.succeed("grep -q init_on_free=1 /proc/cmdline")
        baseline.succeed("grep -qx 'blacklist dccp' /etc/modprobe.d/nixos.conf")

    with subtest("strict refuses what baseline allows"):
        baseline.succeed("test $(sysctl -n kernel.sysrq) = 4")
        strict.succeed("test $(sysctl -n kernel.sysrq) = 0")
        # security.lockKernelModules: module loading is switched off once booted.
        strict.wait_for_unit("disable-kernel-module-loading.service")
        strict.succeed("test $(cat /proc/sys/kernel/modules_disabled) = 1")
        strict.fail("modprobe dccp")
        baseline.succeed("test $(cat /proc/sys/kernel/modules_disabled) = 0")

    with subtest("the manifest lists the branch"):
        manifest = json.loads(baseline.succeed("cat /etc/domi-nix/features.json"))
        assert "hardening" in manifest["features"], manifest
  '';
}
