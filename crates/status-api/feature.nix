# The status-api branch (dendritic fragment): the NixOS module
# `dominix.modules.nixos.status-api`, the program `domi-nix-status` (to the
# `packages` branch's overlay) and the VM test `checks.<system>.status-api`.
{config, ...}: {
  dominix.modules.nixos.status-api = ./nixos.nix;

  dominix.packages.domi-nix-status = ./package.nix;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "status-api";
      test = ./vm-test.nix;
    };
  };
}
