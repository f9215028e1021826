# The sandboxing branch (dendritic fragment): contributes the NixOS module
# `dominix.modules.nixos.sandboxing` and its VM test `checks.<system>.sandboxing`.
{config, ...}: {
  dominix.modules.nixos.sandboxing = ./nixos.nix;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "sandboxing";
      test = ./vm-test.nix;
    };
  };
}
