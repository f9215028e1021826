# nixpkgs: nixos/modules/system/boot/loader/systemd-boot/systemd-boot.nix
{lib, ...}: {
  options.boot.loader.systemd-boot.editor = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Whether the boot menu lets anyone edit the kernel command line (and so boot with init=/bin/sh).";
  };
}
