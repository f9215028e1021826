# nixpkgs: nixos/modules/config/nsswitch.nix
# The NSS modules' library path: sshd's services get it as LD_LIBRARY_PATH.
# (The assertion that nscd is then enabled is not modelled: nscd is on by
# default.)
{lib, ...}: {
  options.system.nssModules = lib.mkOption {
    type = lib.types.listOf lib.types.path;
    internal = true;
    default = [];
    apply = list: {
      inherit list;
      path = lib.makeLibraryPath list;
    };
    description = "Packages whose lib/ holds NSS modules; `.path` is their library search path.";
  };
}
