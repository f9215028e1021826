# The top level of domi-nix: a flake-parts module. flake.nix hands it to
# `mkFlake`; the offline evaluator (nix-modules/eval) hands it the same inputs
# resolved from flake.lock. Nothing here lists features: every crate with
# domi-nix metadata is discovered and its fragment imported.
{
  inputs,
  lib,
  ...
}: let
  catalog = import ./lib/catalog.nix {inherit lib;};
in {
  imports =
    [
      inputs.flake-parts.flakeModules.modules
      ./trunk/flake-module.nix
      ./systems.nix
      ./dev.nix
    ]
    # The branches: each crate's fragment contributes flake.modules.nixos.<name>
    # (and, where it has them, packages and checks).
    ++ catalog.fragments;

  systems = ["x86_64-linux" "aarch64-linux" "aarch64-darwin" "x86_64-darwin"];

  _module.args.dominixCatalog = catalog;
}
