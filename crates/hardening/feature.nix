# The hardening branch (dendritic fragment): contributes the NixOS module
# `dominix.modules.nixos.hardening` and its VM test `checks.<system>.hardening`.
{config, ...}: {
  dominix.modules.nixos.hardening = ./nixos.nix;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "hardening";
      test = ./vm-test.nix;
    };
  };
}
