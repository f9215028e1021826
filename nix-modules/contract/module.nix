# The NixOS contract as a module: declares every entry of options.nix as a
# real option (same type, default and description), so that `lib.evalModules`
# checks domi-nix modules the way NixOS would. `pkgs` is not set here; the
# caller provides it (usually `(import ./. {inherit lib;}).pkgs`).
{lib, ...}: let
  entries = import ./options.nix {inherit lib;};

  declare = path: entry:
    lib.setAttrByPath (lib.splitString "." path) (lib.mkOption ({
        inherit (entry) type default description;
      }
      // lib.optionalAttrs (entry ? apply) {inherit (entry) apply;}));

  # Merge the per-entry trees; a path that is a prefix of another is a bug
  # in options.nix and is reported instead of silently overwritten.
  merge = lhs: rhs:
    lib.recursiveUpdateUntil (
      loc: l: r: let
        isOption = v: lib.isOption v;
      in
        if isOption l || isOption r
        then throw "contract: option path `${lib.concatStringsSep "." loc}` clashes with another entry in options.nix"
        else !(lib.isAttrs l && lib.isAttrs r)
    )
    lhs
    rhs;
in {
  _file = "nix-modules/contract/module.nix";
  _class = "nixos";

  options = lib.foldl' merge {} (lib.mapAttrsToList declare entries);
}
