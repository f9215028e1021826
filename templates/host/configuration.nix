# Your host's own configuration. Replace the file system and boot loader with
# those of your machine (nixos-generate-config writes them).
{
  nixpkgs.hostPlatform = "x86_64-linux";

  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
  boot.loader.grub.device = "/dev/sda";

  domi-nix.trunk.hostName = "my-host";
  domi-nix.hardening.level = "baseline";

  system.stateVersion = "25.11";
}
