# nixpkgs: nixos/modules/system/boot/kernel.nix
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkOption types;

  # One kernel command-line word; spaces are only allowed inside double quotes.
  kernelParam =
    types.strMatching ''([^"[:space:]]|"[^"]*")+''
    // {
      name = "kernelParam";
      description = "string, with spaces inside double quotes";
    };
in {
  options.boot = {
    kernelParams = mkOption {
      type = types.listOf kernelParam;
      default = [];
      description = "Extra words for the kernel command line.";
    };

    consoleLogLevel = mkOption {
      type = types.int;
      default = 4;
      description = "The kernel's console log level (the `loglevel=` parameter and `kernel.printk`).";
    };
  };

  config = {
    boot.kernelParams = ["loglevel=${toString config.boot.consoleLogLevel}"];
    boot.kernel.sysctl."kernel.printk" = lib.mkDefault config.boot.consoleLogLevel;
  };
}
