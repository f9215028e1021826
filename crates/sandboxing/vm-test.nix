# NixOS VM test of the sandboxing branch (`checks.<system>.sandboxing`): a
# probe service under the profile, checked from the inside (what it may
# write), by systemd (the directives it applies) and by systemd's own
# analyzer on the booted machine.
let
  # The band `cargo xtask audit` gives the probe offline
  # (crates/sandboxing/tests/audit.rs checks that the two agree).
  band = "SAFE";
in {
  name = "domi-nix-sandboxing";

  nodes.machine = {pkgs, ...}: {
    systemd.services.probe = {
      description = "sandboxing probe";
      wantedBy = ["multi-user.target"];
      path = [pkgs.coreutils];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        RuntimeDirectory = "probe";
        RuntimeDirectoryPreserve = true;
      };
      script = ''
        try() { if "$@" 2>/dev/null; then echo allowed; else echo denied; fi; }
        {
          echo "uid=$(id -u)"
          echo "etc=$(try touch /etc/probe)"
          echo "usr=$(try touch /usr/probe)"
          echo "home=$(try ls /home)"
          echo "run=$(try touch /run/probe/written)"
          echo "tmp=$(try touch /tmp/probe)"
        } > /run/probe/result
      '';
    };

    domi-nix.sandboxing.services.probe = {};
  };

  testScript = ''
    machine.wait_for_unit("probe.service")

    with subtest("systemd applies the profile"):
        shown = machine.succeed(
            "systemctl show probe.service -p DynamicUser -p ProtectSystem -p ProtectHome"
            " -p PrivateUsers -p NoNewPrivileges -p CapabilityBoundingSet -p PrivateDevices"
            " -p ProtectKernelTunables -p MemoryDenyWriteExecute -p UMask"
        ).splitlines()
        for line in [
            "DynamicUser=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateUsers=yes",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=",
            "PrivateDevices=yes",
            "ProtectKernelTunables=yes",
            "MemoryDenyWriteExecute=yes",
            "UMask=0077",
        ]:
            assert line in shown, f"{line} not in {shown}"

    with subtest("the probe writes only where the profile lets it"):
        result = dict(
            line.split("=", 1) for line in machine.succeed("cat /run/probe/result").split()
        )
        assert result["etc"] == "denied", result
        assert result["usr"] == "denied", result
        assert result["home"] == "denied", result
        assert result["run"] == "allowed", result
        assert result["tmp"] == "allowed", result
        # systemd allocates dynamic users from 61184 to 65519.
        assert 61184 <= int(result["uid"]) <= 65519, result

    with subtest("systemd's analyzer on the machine gives the audited band"):
        overall = machine.succeed("systemd-analyze security probe.service | tail -n 1")
        assert "Overall exposure level for probe.service" in overall, overall
        assert " ${band} " in overall, overall
  '';
}
