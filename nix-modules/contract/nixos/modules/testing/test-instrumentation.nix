# nixpkgs: nixos/modules/testing/test-instrumentation.nix
# Imported by every NixOS test node (through nixos/lib/testing/nixos-test-base.nix).
{
  lib,
  pkgs,
  ...
}: let
  serialDevice =
    if pkgs.stdenv.hostPlatform.isAarch
    then "ttyAMA0"
    else "ttyS0";
in {
  config = {
    # Tests do not come from nixos-generate-config, which would set it.
    # (Older nixpkgs used mkDefault; 25.11 uses a priority below it.)
    system.stateVersion = lib.mkOverride 1200 lib.trivial.release;

    # Passwordless root: an empty hash, in a file.
    users.users.root.hashedPasswordFile = lib.mkOverride 150 "${pkgs.writeText "hashed-password.root" ""}";

    boot.kernelParams = [
      "console=${serialDevice}"
      "console=tty0"
      "panic=1"
      "boot.panic_on_fail"
      "clocksource=acpi_pm"
    ];

    boot.consoleLogLevel = 7;

    boot.kernel.sysctl = {
      "kernel.hung_task_timeout_secs" = 600;
      "vm.panic_on_oom" = lib.mkDefault 2;
    };

    environment.systemPackages = [pkgs.xwininfo];

    # The serial console is the test driver's log and its virtio console
    # the backdoor: no login prompt on either.
    systemd.services."serial-getty@${serialDevice}".enable = false;
    systemd.services."serial-getty@hvc0".enable = false;
  };
}
