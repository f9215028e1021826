# VM adapter for Linux hosts: `config.system.build.vm` runs the guest in QEMU,
# with KVM when /dev/kvm is usable and TCG emulation otherwise.
{lib, ...}: {
  virtualisation.vmVariant = {
    domi-nix.trunk.defaultLogin.enable = true;
    virtualisation = {
      memorySize = lib.mkDefault 2048;
      cores = lib.mkDefault 2;
      graphics = lib.mkDefault false;
      diskImage = lib.mkDefault null;
    };
  };
}
