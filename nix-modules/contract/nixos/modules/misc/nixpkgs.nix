# nixpkgs: nixos/modules/misc/nixpkgs.nix
# `nixpkgs.overlays`. nixpkgs' module also makes `pkgs` (`_module.args.pkgs`)
# with the overlays applied; offline, contract/default.nix applies them to
# the package stubs the same way (a module of its own, kept when only the
# declarations are evaluated).
#
# Test nodes: domi-nix's VM tests set `node.pkgsReadOnly = false`
# (nix-modules/systems.nix `mkFeatureChecks`), so a node's nixpkgs options
# are this module's, not nixpkgs' read-only.nix, and overlays apply there too.
{lib, ...}: let
  overlayType = lib.mkOptionType {
    name = "nixpkgs-overlay";
    description = "nixpkgs overlay";
    check = lib.isFunction;
    merge = lib.mergeOneOption;
  };
in {
  options.nixpkgs.overlays = lib.mkOption {
    type = lib.types.listOf overlayType;
    default = [];
    description = "Functions `final: prev: { … }` applied to the package set, in order.";
  };
}
