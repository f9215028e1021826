# The ui branch (dendritic fragment): the domi-nix shell. Contributes the NixOS
# module `dominix.modules.nixos.ui`, the program `domi-nix-shell` (to the
# `packages` branch's overlay) and the VM test `checks.<system>.ui`.
{config, ...}: {
  dominix.modules.nixos.ui = ./nixos.nix;

  # The program, built by the `packages` branch as pkgs.domi-nix.domi-nix-shell.
  dominix.packages.domi-nix-shell = ./package.nix;

  perSystem = {
    pkgs,
    system,
    ...
  }: {
    checks = config.flake.lib.mkFeatureChecks {
      inherit pkgs system;
      feature = "ui";
      test = ./vm-test.nix;
    };
  };
}
