# Checks the NixOS contract against a real nixpkgs source tree.
#
#   nix-instantiate --eval --strict --json nix-modules/contract/verify.nix \
#     --arg nixpkgs <path to a nixpkgs checkout or flake input>
#
# Reports, for every contract option, what nixpkgs declares and defines -- in
# the same JSON shape (schema 2) as `describe` in default.nix:
#
#   { schema = 2; source = "nixpkgs"; nixpkgsVersion;
#     options.<dotted.path> = {
#       exists; declaredIn = [ nixpkgs-relative files ]; type; typeName;
#       subOptions.<name> = type description;
#       keyed = the contract's "complete" | "partial" | null;
#       definitions.<system|vm|test> = report.nix's report, or null where
#         the option does not exist in that context; };
#     pkgs.<dotted.attr.path> = { exists; };
#     contract = the contract's `describe`, evaluated with this nixpkgs' lib; }
#
# The contexts, as nixpkgs builds them:
#   system -- nixos/lib/eval-config.nix with no modules;
#   vm     -- system extended with qemu-vm.nix and the definitions of
#             `virtualisation.vmVariant` (as build-vm.nix does);
#   test   -- node `machine` of a NixOS test (nixos/lib `evalTest`, with
#             `node.pkgs` like `pkgs.testers.runNixOSTest`).
# The definitions are computed by the contract's own report.nix, so both
# documents come from the same code. Only the sub-options the contract itself
# declares are reported (missing ones are simply absent). Comparing the two
# documents is the job of the `dominix-contract` crate
# (`cargo xtask contract verify`).
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

  # Files come back as absolute paths; report them relative to the nixpkgs
  # root (e.g. "nixos/modules/config/sysctl.nix"), like the contract does.
  root = toString src + "/";
  relative = file: let
    path = toString file;
    underNixos = builtins.match ".*/(nixos/(modules|lib)/.*)" path;
  in
    if lib.hasPrefix root path
    then lib.removePrefix root path
    else if underNixos != null
    then builtins.head underNixos
    else path;

  report = import ./report.nix {inherit lib relative;};

  realPkgs = import src {
    inherit system;
    config = {};
    overlays = [];
  };

  systemEval = import (src + "/nixos/lib/eval-config.nix") {
    inherit system;
    modules = [];
  };

  # build-vm.nix: the configuration again, with qemu-vm.nix and whatever is
  # defined in `virtualisation.vmVariant` (keeping each definition's file).
  vmEval = systemEval.extendModules {
    modules =
      [(src + "/nixos/modules/virtualisation/qemu-vm.nix")]
      ++ map (def: {
        _file = def.file;
        imports = [def.value];
      })
      (systemEval.options.virtualisation.vmVariant.definitionsWithLocations or []);
  };

  # Node `machine` of a NixOS test. A node's configuration comes back without
  # its options, so evaluate it again the way its submodule type merges it:
  # the type's modules, the node's name, and the test's definitions of it.
  testEval = let
    test = (import (src + "/nixos/lib") {}).evalTest ({...}: {
      name = "contract";
      hostPkgs = realPkgs;
      node.pkgs = realPkgs;
      # As domi-nix's VM tests run (nix-modules/systems.nix, mkFeatureChecks).
      node.pkgsReadOnly = false;
      nodes.machine = {};
      testScript = "";
    });
    nodes = test.options.nodes;
    nodeType = nodes.type.nestedTypes.elemType;
  in
    lib.evalModules {
      inherit (nodeType.functor.payload) specialArgs;
      class = nodeType.functor.payload.class or null;
      prefix = ["nodes" "machine"];
      modules =
        nodeType.getSubModules
        ++ [{_module.args.name = "machine";}]
        ++ lib.concatMap (def:
          lib.optional (def.value ? machine) {
            _file = def.file;
            imports = [def.value.machine];
          })
        nodes.definitionsWithLocations;
    };

  contexts = {
    system = systemEval;
    vm = vmEval;
    test = testEval;
  };

  optionAt = evaluation: path: lib.attrByPath (lib.splitString "." path) null evaluation.options;

  # report.nix guards every value; this guards the rest (a definition whose
  # `mkIf` condition throws, say): such a context reports an error.
  unevaluable = {
    priority = null;
    definitions = [];
    error = "<error>";
  };
  definitionsIn = keyed: evaluation: path: let
    opt = optionAt evaluation path;
    result = report.option {inherit opt keyed;};
    attempt = builtins.tryEval (builtins.deepSeq result result);
  in
    if !(lib.isOption opt)
    then null
    else if attempt.success
    then attempt.value
    else unevaluable;

  missing = {
    exists = false;
    declaredIn = [];
    type = null;
    typeName = null;
    subOptions = {};
  };

  describeOption = path: wanted: let
    # Declarations are the same in every context that has them; vm-only
    # options (qemu-vm.nix) are found in the vm evaluation, test-only ones in
    # the test node.
    declared = lib.findFirst lib.isOption null (map (evaluation: optionAt evaluation path) [systemEval vmEval testEval]);
    declarations =
      if !(lib.isOption declared)
      then missing
      else {
        exists = true;
        declaredIn = lib.unique (map relative (declared.declarations or []));
        type = declared.type.description;
        typeName = declared.type.name;
        subOptions =
          lib.mapAttrs (_: opt: opt.type.description)
          (lib.filterAttrs (name: _: wanted.subOptions ? ${name}) (subOptionsOf declared.type));
      };
  in
    declarations
    // {
      inherit (wanted) keyed;
      definitions = lib.mapAttrs (_: evaluation: definitionsIn (wanted.keyed != null) evaluation path) contexts;
    };

  describePackage = path: {
    exists = lib.hasAttrByPath (lib.splitString "." path) realPkgs;
  };
in {
  schema = 2;
  source = "nixpkgs";
  nixpkgsVersion = lib.version or null;
  options = lib.mapAttrs describeOption contract.describe.options;
  pkgs = lib.mapAttrs (path: _: describePackage path) contract.describe.pkgs;
  # The contract described with this nixpkgs' own lib, so that both sides of
  # the comparison render type descriptions with the same lib version.
  contract = contract.describe;
}
