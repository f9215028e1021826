# nixpkgs: nixos/lib/testing/nixos-test-base.nix
# The base of every NixOS test node (it imports qemu-vm.nix and
# test-instrumentation.nix, listed separately in module-list.nix).
{lib, ...}: {
  config = {
    # No manual in test VMs (so getty.nix shows no "Run 'nixos-help'" line).
    documentation.nixos.enable = false;
    # A constant label, so a new nixpkgs revision does not rebuild every test.
    system.nixos.versionSuffix = lib.mkForce "test";
    system.nixos.label = lib.mkForce "test";
  };
}
