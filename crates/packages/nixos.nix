# domi-nix packages: puts the workspace's programs into `pkgs` as
# `pkgs.domi-nix.<program>` (the overlay of feature.nix), for every branch
# and for the host's own modules.
#
# `domi-nix.<branch>.enable` is not declared here: the branch's identity
# module (nix-modules/trunk/feature-identity.nix) declares it, true once the
# branch is imported, and `flake.nixosModules.<branch>` carries both.
overlay: {
  config,
  lib,
  pkgs,
  ...
}: let
  cfg = config.domi-nix.packages;
in {
  options.domi-nix.packages.programs = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = builtins.attrNames (pkgs.domi-nix or {});
    defaultText = lib.literalExpression "builtins.attrNames pkgs.domi-nix";
    readOnly = true;
    description = "The programs `pkgs.domi-nix` holds (read-only).";
  };

  config = lib.mkIf cfg.enable {
    # A list: the host's own overlays are kept, this one is added.
    nixpkgs.overlays = [overlay];
  };
}
