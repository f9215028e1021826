# nixpkgs: nixos/modules/virtualisation/qemu-vm.nix
# Imported by the VM variant and by every NixOS test node; absent from a
# plain system.
{
  lib,
  pkgs,
  ...
}: let
  inherit (lib) mkOption types;
in {
  options.virtualisation = {
    memorySize = mkOption {
      type = types.ints.positive;
      default = 1024;
      description = "Memory of the VM, in MiB.";
    };

    cores = mkOption {
      type = types.ints.positive;
      default = 1;
      description = "Number of virtual CPUs of the VM.";
    };

    graphics = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the VM has a graphical display; without one its console is the terminal.";
    };

    diskImage = mkOption {
      type = types.nullOr types.str;
      # nixpkgs: "./${config.system.name}.qcow2".
      default = "./nixos.qcow2";
      description = "Path of the VM's disk image on the host, or null for a disk in a temporary directory.";
    };

    host.pkgs = mkOption {
      type = types.pkgs;
      # nixpkgs: the guest's own pkgs.
      default = pkgs;
      description = "Packages of the host that runs the VM: QEMU and the start script come from here.";
    };
  };
}
