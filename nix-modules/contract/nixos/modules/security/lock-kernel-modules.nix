# nixpkgs: nixos/modules/security/lock-kernel-modules.nix
# (It also adds the file systems' modules to `boot.kernelModules`, which
# the contract does not declare.)
{
  config,
  lib,
  ...
}: {
  options.security.lockKernelModules = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Whether to forbid loading kernel modules once the system has finished booting.";
  };

  config = lib.mkIf config.security.lockKernelModules {
    systemd.services.disable-kernel-module-loading = {
      description = "Disable kernel module loading";
      wants = ["systemd-udevd.service"];
      wantedBy = [config.systemd.defaultUnit];
      after = ["firewall.service" "systemd-modules-load.service" config.systemd.defaultUnit];
      unitConfig.ConditionPathIsReadWrite = "/proc/sys/kernel";
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        TimeoutSec = 180;
      };
      script = ''
        ${config.systemd.package}/bin/udevadm settle
        echo -n 1 >/proc/sys/kernel/modules_disabled
      '';
    };
  };
}
