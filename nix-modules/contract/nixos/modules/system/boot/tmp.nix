# nixpkgs: nixos/modules/system/boot/tmp.nix
{lib, ...}: {
  options.boot.tmp.cleanOnBoot = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Whether /tmp is emptied at every boot.";
  };
}
