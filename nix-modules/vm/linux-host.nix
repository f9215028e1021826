# VM adapter for Linux hosts: `config.system.build.vm` runs the guest in QEMU,
# with KVM when /dev/kvm is usable and TCG emulation otherwise. Its disk image
# is nixpkgs' default (`./<name>.qcow2`, created on first start), which the
# start script's `NIX_DISK_IMAGE` overrides: `cargo xtask vm` keeps it under
# target/dominix/vms/, or in a temporary directory with `--ephemeral`.
{lib, ...}: {
  virtualisation.vmVariant = {
    domi-nix.trunk.defaultLogin.enable = true;
    virtualisation = {
      memorySize = lib.mkDefault 2048;
      cores = lib.mkDefault 2;
      graphics = lib.mkDefault false;
    };
  };
}
