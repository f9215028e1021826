# nixpkgs: nixos/modules/security/misc.nix
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkIf mkMerge mkOption types;
  cfg = config.security;
in {
  options.security = {
    protectKernelImage = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to stop the running kernel from being replaced (no kexec, no hibernation).";
    };

    forcePageTableIsolation = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to turn on kernel page table isolation even on CPUs that report being unaffected by Meltdown.";
    };
  };

  config = mkMerge [
    (mkIf cfg.forcePageTableIsolation {
      boot.kernelParams = ["pti=on"];
    })
    (mkIf cfg.protectKernelImage {
      boot.kernelParams = ["nohibernate"];
      boot.kernel.sysctl."kernel.kexec_load_disabled" = lib.mkDefault true;
    })
  ];
}
