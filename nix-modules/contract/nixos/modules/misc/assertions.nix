# nixpkgs: nixos/modules/misc/assertions.nix
{lib, ...}: let
  inherit (lib) mkOption types;
in {
  options = {
    assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [];
      description = "Conditions (`{ assertion; message; }`) that must hold for the configuration to evaluate.";
    };

    warnings = mkOption {
      type = types.listOf types.str;
      internal = true;
      default = [];
      description = "Messages printed as warnings while the configuration is evaluated.";
    };
  };
}
