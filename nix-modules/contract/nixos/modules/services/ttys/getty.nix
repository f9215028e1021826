# nixpkgs: nixos/modules/services/ttys/getty.nix
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkOption types;
in {
  options.services.getty = {
    autologinUser = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Account logged in automatically on the console, or null for a normal login prompt.";
    };

    # No declared default: the module's `config` sets one with mkDefault.
    greetingLine = mkOption {
      type = types.str;
      description = "Welcome line agetty prints above the login prompt.";
    };

    helpLine = mkOption {
      type = types.lines;
      default = "";
      description = "Help text agetty prints below the welcome line.";
    };
  };

  config.services.getty = {
    greetingLine = lib.mkDefault ''<<< Welcome to ${config.system.nixos.distroName} ${config.system.nixos.label} (\m) - \l >>>'';
    helpLine = lib.mkIf (config.documentation.nixos.enable && config.documentation.doc.enable) "\nRun 'nixos-help' for the NixOS manual.";
  };
}
