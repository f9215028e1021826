# nixpkgs: nixos/modules/system/boot/systemd.nix
{
  lib,
  pkgs,
  ...
}: {
  config.boot.kernel.sysctl = lib.mkIf pkgs.stdenv.hostPlatform.is64bit {
    "kernel.pid_max" = lib.mkDefault 4194304;
  };
}
