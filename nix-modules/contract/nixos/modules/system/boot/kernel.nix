# nixpkgs: nixos/modules/system/boot/kernel.nix
{lib, ...}: let
  inherit (lib) mkOption types;

  # One kernel command-line word; spaces are only allowed inside double quotes.
  kernelParam =
    types.strMatching ''([^"[:space:]]|"[^"]*")+''
    // {
      name = "kernelParam";
      description = "string, with spaces inside double quotes";
    };
in {
  options.boot.kernelParams = mkOption {
    type = types.listOf kernelParam;
    default = [];
    description = "Extra words for the kernel command line.";
  };

  config = {
    boot.kernelParams = ["loglevel=4"];
    # nixpkgs: config.boot.consoleLogLevel, 4 unless set.
    boot.kernel.sysctl."kernel.printk" = lib.mkDefault 4;
  };
}
