# nixpkgs: nixos/modules/security/lock-kernel-modules.nix
{lib, ...}: {
  options.security.lockKernelModules = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Whether to forbid loading kernel modules once the system has finished booting.";
  };
}
