# The remote-access branch (dendritic fragment): contributes the NixOS module
# `dominix.modules.nixos.remote-access` and its VM test
# `checks.<system>.remote-access`.
{config, ...}: {
  dominix.modules.nixos.remote-access = ./nixos.nix;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "remote-access";
      test = ./vm-test.nix;
    };
  };
}
