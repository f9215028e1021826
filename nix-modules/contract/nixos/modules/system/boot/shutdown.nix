# nixpkgs: nixos/modules/system/boot/shutdown.nix
{pkgs, ...}: {
  config.boot.kernel.sysctl."kernel.poweroff_cmd" = "${pkgs.systemd}/sbin/poweroff";
}
