# Just enough of a machine for `nixos-rebuild build` of a trunk that has no
# hardware configuration yet: a root file system by label and GRUB without a
# device. A real host replaces this with its hardware-configuration.nix.
{lib, ...}: {
  fileSystems."/" = lib.mkDefault {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
  boot.loader.grub.device = lib.mkDefault "nodev";
}
