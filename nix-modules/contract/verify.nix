# Checks the NixOS contract against a real nixpkgs source tree.
#
#   nix-instantiate --eval --strict --json nix-modules/contract/verify.nix \
#     --arg nixpkgs <path to a nixpkgs checkout or flake input>
#
# Evaluates the real NixOS option declarations (eval-config with no modules)
# and the real package set, and reports, for every contract entry, what
# nixpkgs declares -- in the same JSON shape as `describe` in default.nix:
#
#   { schema; source = "nixpkgs"; nixpkgsVersion;
#     options.<dotted.path> = { exists; declaredIn = [ nixpkgs-relative files ];
#                               type; typeName;
#                               subOptions.<name> = type description; };
#     pkgs.<dotted.attr.path> = { exists; }; }
#
# Only the sub-options the contract itself declares are reported (missing
# ones are simply absent). Comparing the two documents is the job of the
# `dominix-contract` crate (`cargo xtask contract verify`).
#
# Written for Nix 2.8: only long-standing builtins and nixpkgs' own lib.
{
  nixpkgs,
  system ? "x86_64-linux",
}: let
  # A flake input is an attribute set with `outPath`; a checkout is a path.
  src =
    if builtins.isAttrs nixpkgs
    then nixpkgs.outPath
    else nixpkgs;

  lib = import (src + "/lib");

  contract = import ./. {inherit lib;};
  subOptionsOf = import ./sub-options.nix {inherit lib;};

  nixos = import (src + "/nixos/lib/eval-config.nix") {
    inherit system;
    modules = [];
  };

  realPkgs = import src {
    inherit system;
    config = {};
    overlays = [];
  };

  # Declaration files come back as absolute paths; report them relative to
  # the nixpkgs root (e.g. "nixos/modules/config/sysctl.nix").
  root = toString src + "/";
  relative = file: let
    path = toString file;
    underModules = builtins.match ".*/(nixos/modules/.*)" path;
  in
    if lib.hasPrefix root path
    then lib.removePrefix root path
    else if underModules != null
    then builtins.head underModules
    else path;

  missing = {
    exists = false;
    declaredIn = [];
    type = null;
    typeName = null;
    subOptions = {};
  };

  describeOption = path: wanted: let
    found = lib.attrByPath (lib.splitString "." path) null nixos.options;
  in
    if !(lib.isOption found)
    then missing
    else let
      subOptions = lib.filterAttrs (name: _: wanted ? ${name}) (subOptionsOf found.type);
    in {
      exists = true;
      declaredIn = lib.unique (map relative (found.declarations or []));
      type = found.type.description;
      typeName = found.type.name;
      subOptions = lib.mapAttrs (_: opt: opt.type.description) subOptions;
    };

  describePackage = path: {
    exists = lib.hasAttrByPath (lib.splitString "." path) realPkgs;
  };
in {
  schema = 1;
  source = "nixpkgs";
  nixpkgsVersion = lib.version or null;
  options = lib.mapAttrs (path: entry: describeOption path entry.subOptions) contract.describe.options;
  pkgs = lib.mapAttrs (path: _: describePackage path) contract.describe.pkgs;
  # The contract described with this nixpkgs' own lib, so that both sides of
  # the comparison render type descriptions with the same lib version.
  contract = contract.describe;
}
