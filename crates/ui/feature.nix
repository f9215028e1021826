# The ui branch (dendritic fragment): the domi-nix shell. Contributes the NixOS
# module `dominix.modules.nixos.ui`, the package `domi-nix-shell` and the VM
# test `checks.<system>.ui`.
{config, ...}: {
  dominix.modules.nixos.ui = ./nixos.nix;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    packages.domi-nix-shell = pkgs.callPackage ./package.nix {};

    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "ui";
      test = ./vm-test.nix;
    };
  };
}
