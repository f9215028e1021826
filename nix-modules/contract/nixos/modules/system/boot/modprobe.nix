# nixpkgs: nixos/modules/system/boot/modprobe.nix
{lib, ...}: {
  options.boot.blacklistedKernelModules = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = [];
    example = ["cirrusfb" "i2c_piix4"];
    description = "Kernel modules that must not be loaded automatically.";
  };
}
