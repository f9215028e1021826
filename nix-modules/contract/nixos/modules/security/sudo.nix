# nixpkgs: nixos/modules/security/sudo.nix
{lib, ...}: let
  inherit (lib) mkOption types;
in {
  options.security.sudo = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the sudo command is installed.";
    };

    execWheelOnly = mkOption {
      type = types.bool;
      default = false;
      description = "Whether only members of the wheel group may execute the sudo binary at all.";
    };
  };
}
