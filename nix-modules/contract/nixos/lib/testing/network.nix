# nixpkgs: nixos/lib/testing/network.nix
# What the NixOS test framework's network module adds to each node, given the
# node's name (nixpkgs: via `virtualisation.test.nodeName`).
name: {lib, ...}: {
  _file = toString ./network.nix;
  config.networking.hostName = lib.mkDefault name;
}
