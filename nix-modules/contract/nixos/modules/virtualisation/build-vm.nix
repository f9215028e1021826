# nixpkgs: nixos/modules/virtualisation/build-vm.nix
# nixpkgs declares `virtualisation.vmVariant` as the whole configuration
# extended with qemu-vm.nix; definitions of it apply only inside the VM. The
# contract keeps them as a deferred module: the `vm` context (contexts.nix)
# evaluates the configuration again with qemu-vm.nix and these definitions.
{lib, ...}: {
  options.virtualisation.vmVariant = lib.mkOption {
    # nixpkgs' type is the submodule type of the extended configuration; the
    # contract evaluates that configuration itself (module-list.nix), so it
    # only collects the definitions here, under nixpkgs' type name.
    type =
      lib.types.deferredModule
      // {
        name = "submodule";
        description = "submodule";
      };
    default = {};
    description = "Configuration that applies only to the VM built by `system.build.vm`.";
  };
}
