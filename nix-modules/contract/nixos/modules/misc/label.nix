# nixpkgs: nixos/modules/misc/label.nix
# Read by getty.nix (the greeting line).
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkOption types;
  cfg = config.system.nixos;
in {
  options.system.nixos = {
    label = mkOption {
      type = types.strMatching "[a-zA-Z0-9:_\\.-]*";
      description = "Label of the system generation shown in the boot menu.";
    };

    tags = mkOption {
      type = types.listOf types.str;
      default = [];
      description = "Tags that become part of the label.";
    };
  };

  config.system.nixos.label = lib.mkDefault (lib.concatStringsSep "-" ((lib.sort (x: y: x < y) cfg.tags) ++ [cfg.version]));
}
