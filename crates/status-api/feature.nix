# The status-api branch (dendritic fragment): contributes the NixOS module
# `dominix.modules.nixos.status-api`. A placeholder until the service module,
# its package and its VM test land.
{...}: {
  dominix.modules.nixos.status-api = ./nixos.nix;
}
