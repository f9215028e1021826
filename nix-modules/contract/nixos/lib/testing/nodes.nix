# nixpkgs: nixos/lib/testing/nodes.nix
# What the NixOS test framework sets on every node.
{pkgs, ...}: {
  config.virtualisation.host.pkgs = pkgs;
}
