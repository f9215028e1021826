# Entry point of the NixOS contract.
#
#   module   -- NixOS-class module declaring every contract option
#   pkgs     -- derivation-shaped stubs for the pkgs attributes modules use
#   options  -- the raw entries of options.nix
#   describe -- JSON-able description of the contract, in the same shape as
#               verify.nix reports for a real nixpkgs:
#                 { schema; source;
#                   options.<dotted.path> = { exists; declaredIn = [ file ];
#                                             type; typeName;
#                                             subOptions.<name> = type description; };
#                   pkgs.<dotted.attr.path> = { exists; }; }
{lib}: let
  options = import ./options.nix {inherit lib;};
  pkgs = import ./pkgs.nix {inherit lib;};
  subOptions = import ./sub-options.nix {inherit lib;};
in {
  module = ./module.nix;
  inherit options pkgs;

  describe = {
    schema = 1;
    source = "contract";
    options =
      lib.mapAttrs (_path: entry: {
        exists = true;
        declaredIn = [entry.declaredIn];
        type = entry.type.description;
        typeName = entry.type.name;
        subOptions = lib.mapAttrs (_: opt: opt.type.description) (subOptions entry.type);
      })
      options;
    pkgs = lib.genAttrs pkgs._contract.paths (_: {exists = true;});
  };
}
