# Entry point of the NixOS contract: the part of NixOS that domi-nix modules
# are evaluated against offline (see README.md).
#
#   evaluate { context; system; node; modules; declarationsOnly; specialArgs; }
#            -- lib.evalModules of the contract's modules for `context`
#               ("system", "vm" or "test"), `pkgs` stubs for `system`, and
#               `modules`; with `declarationsOnly`, nixpkgs' own definitions
#               are left out (options only).
#   report   -- ./report.nix, with contract files named as in nixpkgs
#   relative -- a contract file's nixpkgs-relative path (other paths as given)
#   options  -- the dotted paths of every contract option
#   keyed    -- options whose definitions are also compared per attribute
#   describe -- the contract as JSON, in the shape verify.nix reports for
#               real nixpkgs (declarations, and the winning definitions of
#               every option in each context)
{lib}: let
  moduleList = import ./module-list.nix;
  subOptionsOf = import ./sub-options.nix {inherit lib;};

  contractRoot = toString ./. + "/";

  # nixpkgs-relative: the contract tree mirrors nixpkgs' layout.
  relative = file: let
    path = toString file;
  in
    if lib.hasPrefix contractRoot path
    then lib.removePrefix contractRoot path
    else path;

  reportLib = import ./report.nix {inherit lib relative;};

  pkgsFor = system: import ./pkgs.nix {inherit lib system;};

  # A contract module without its `config`: its options, nothing it defines.
  withoutDefinitions = module: let
    fn =
      if builtins.isFunction module
      then module
      else import module;
    file =
      if builtins.isFunction module
      then null
      else toString module;
    strip = result:
      {options = result.options or {};}
      // lib.optionalAttrs (result ? _file) {inherit (result) _file;};
  in
    {imports = [(lib.setFunctionArgs (args: strip (fn args)) (lib.functionArgs fn))];}
    // lib.optionalAttrs (file != null) {
      _file = file;
      key = "${file}#declarations";
    };

  contractModules = {
    context,
    node,
    declarationsOnly,
  }: let
    modules =
      if context == "test"
      then moduleList.test node
      else moduleList.${context} or (throw "contract: unknown context `${context}`. Fix: use system, vm or test.");
  in
    if declarationsOnly
    then map withoutDefinitions modules
    else modules;

  evaluate = {
    context,
    system ? "x86_64-linux",
    node ? "machine",
    modules ? [],
    declarationsOnly ? false,
    specialArgs ? {},
  }: let
    evalWith = ctx: extra:
      lib.evalModules {
        class = "nixos";
        inherit specialArgs;
        modules =
          contractModules {
            context = ctx;
            inherit node declarationsOnly;
          }
          ++ [
            # nixpkgs.nix: the packages, with `nixpkgs.overlays` applied.
            ({config, ...}: {
              _module.args.pkgs =
                lib.fix (final:
                  lib.foldl' (prev: overlay: prev // overlay final prev) (pkgsFor system) config.nixpkgs.overlays);
            })
          ]
          ++ modules
          ++ extra;
      };
  in
    if context == "vm"
    then
      # Like build-vm.nix: the whole configuration again, with qemu-vm.nix
      # and the definitions of `virtualisation.vmVariant`.
      evalWith "vm" [(evalWith "system" []).config.virtualisation.vmVariant]
    else evalWith context [];

  # Options are declared alike in every context; the test context has them all.
  everything = evaluate {context = "test";};

  options = map (opt: lib.showOption opt.loc) (lib.collect lib.isOption (removeAttrs everything.options ["_module"]));

  keyed = {
    # Every sysctl nixpkgs sets must be modelled.
    "boot.kernel.sysctl" = "complete";
    # Every variable every service gets must be modelled: each is a line of
    # every unit file `cargo xtask audit` renders.
    "systemd.globalEnvironment" = "complete";
    # Only the entries the contract models are compared.
    "environment.etc" = "partial";
    "users.users" = "partial";
    "systemd.services" = "partial";
    "nix.settings" = "partial";
  };

  optionAt = evaluation: path: lib.attrByPath (lib.splitString "." path) null evaluation.options;

  # The winning definitions of `path` in an evaluation, or null where the
  # option does not exist in that context.
  definitionsIn = evaluation: path: let
    opt = optionAt evaluation path;
  in
    if lib.isOption opt
    then
      reportLib.option {
        inherit opt;
        keyed = keyed ? ${path};
      }
    else null;

  contexts = {
    system = evaluate {context = "system";};
    vm = evaluate {context = "vm";};
    test = evaluate {context = "test";};
  };
in {
  inherit evaluate relative options keyed definitionsIn pkgsFor;
  report = reportLib;

  describe = {
    schema = 2;
    source = "contract";
    options = lib.genAttrs options (path: let
      opt = optionAt everything path;
    in {
      exists = true;
      declaredIn = map relative opt.declarations;
      type = opt.type.description;
      typeName = opt.type.name;
      subOptions = lib.mapAttrs (_: sub: sub.type.description) (subOptionsOf opt.type);
      keyed = keyed.${path} or null;
      definitions = lib.mapAttrs (_: evaluation: definitionsIn evaluation path) contexts;
    });
    pkgs = lib.genAttrs (pkgsFor "x86_64-linux")._contract.paths (_: {exists = true;});
  };
}
