# The packages branch (dendritic fragment): the workspace's programs -- every
# `dominix.packages.<name>` a branch's fragment names, each its own
# `package.nix` -- as the overlay `pkgs.domi-nix.<name>`, the flake outputs
# `overlays.default` and `packages.<system>.<name>`, and the NixOS module
# `dominix.modules.nixos.packages` that applies the overlay.
{
  config,
  lib,
  ...
}: let
  programs = config.dominix.packages;
  overlay = final: _prev: {
    domi-nix = lib.mapAttrs (_: file: final.callPackage file {}) programs;
  };
in {
  dominix.modules.nixos.packages = import ./nixos.nix overlay;

  flake.overlays.default = overlay;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    packages = lib.mapAttrs (_: file: pkgs.callPackage file {}) programs;

    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "packages";
      test = ./vm-test.nix;
    };
  };
}
