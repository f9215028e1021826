# nixpkgs: nixos/modules/misc/documentation.nix
# Read by getty.nix (the help line under the login prompt).
{lib, ...}: let
  inherit (lib) mkOption types;
in {
  options.documentation = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether documentation of packages is installed.";
    };

    doc.enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether documentation distributed in packages' `/share/doc` is installed.";
    };

    nixos.enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the NixOS manual and `nixos-help` are installed.";
    };
  };
}
