# Publishes the trunk and, for every discovered branch, the catalog entry that
# travels with its NixOS module. `dominix.modules` merges definitions, so a
# branch's own fragment and this entry end up in one module, published as
# `nixosModules.<name>`.
{
  config,
  dominixCatalog,
  lib,
  ...
}: {
  dominix.modules.nixos =
    {trunk = ./default.nix;}
    // lib.mapAttrs (_: import ./feature-identity.nix) dominixCatalog.features;

  flake.nixosModules = config.dominix.modules.nixos;
}
