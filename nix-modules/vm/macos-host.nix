# VM adapter for macOS hosts (Apple Silicon included): the guest is the Linux
# system of the same CPU; QEMU and its start script come from the macOS host's
# packages (`virtualisation.host.pkgs`), so the VM starts with HVF.
# Building the guest needs a Linux builder (nix-darwin's `nix.linux-builder`).
{hostPkgs}: {lib, ...}: {
  imports = [./linux-host.nix];
  virtualisation.vmVariant.virtualisation.host.pkgs = lib.mkDefault hostPkgs;
}
