# Publishes the trunk and, for every discovered branch, the catalog entry that
# travels with its NixOS module. `flake.modules` merges definitions, so a
# branch's own fragment and this entry end up in one module.
{
  config,
  dominixCatalog,
  lib,
  ...
}: {
  flake.modules.nixos =
    {trunk = ./default.nix;}
    // lib.mapAttrs (_: import ./feature-identity.nix) dominixCatalog.features;

  flake.nixosModules = config.flake.modules.nixos;
}
