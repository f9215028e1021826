# The top level of domi-nix: a flake-parts module. flake.nix hands it to
# `mkFlake`; the offline evaluator (nix-modules/eval) hands it the same inputs
# resolved from flake.lock. Nothing here lists features: every crate with
# domi-nix metadata is discovered and its fragment imported.
{lib, ...}: let
  catalog = import ./lib/catalog.nix {inherit lib;};

  # `dominix.modules.<class>.<name>`: where fragments put their modules. A
  # top-level option, not one under `flake`, so nothing but what
  # nix-modules/trunk publishes (`nixosModules.*`) becomes a flake output, and
  # `nix flake check` sees no unknown output.
  modulesOption = {
    moduleLocation,
    options,
    ...
  }: let
    inherit (lib) mapAttrs mkOption types;

    # Definitions of fragments that nothing reads are errors, named here so
    # that every consumer of `dominix.modules` meets them.
    problems = import ./lib/fragment-checks.nix {
      inherit lib options catalog;
      root = ../.;
    };
    checked = value:
      if problems == []
      then value
      else throw "domi-nix: ${lib.concatStringsSep "\n  " ([""] ++ problems)}";
    inherit (lib.strings) escapeNixIdentifier;

    # Every published module carries its class (so a NixOS module imported
    # into another class fails with a clear error) and a `_file` naming where
    # it was declared. A function rather than an attribute set, so a
    # submodule that only accepts `config` shorthand takes it as a module too.
    # `generic` modules have no class and are passed through as they are.
    located = class: name: module:
      if class == "generic"
      then module
      else
        {...}: {
          _class = class;
          _file = "${toString moduleLocation}#dominix.modules.${escapeNixIdentifier class}.${escapeNixIdentifier name}";
          imports = [module];
        };
  in {
    options.dominix.modules = mkOption {
      type = types.lazyAttrsOf (types.lazyAttrsOf types.deferredModule);
      default = {};
      description = ''
        The modules of the trunk and of every branch, by class (`nixos`, …)
        and name. Definitions of one name merge into one module: a branch's
        fragment gives its NixOS module, the top level adds its catalog
        identity. `generic` holds modules that declare no class.
      '';
      apply = value: mapAttrs (class: mapAttrs (located class)) (checked value);
    };

    options.dominix.packages = mkOption {
      type = types.lazyAttrsOf types.path;
      default = {};
      example = lib.literalExpression "{ domi-nix-shell = ./package.nix; }";
      description = ''
        The workspace's programs, by name: each the `callPackage` file of the
        branch that owns the program. The `packages` branch turns them into
        the overlay `pkgs.domi-nix.<name>` and the flake outputs
        `overlays.default` and `packages.<system>.<name>`.
      '';
    };
  };
in {
  imports =
    [
      modulesOption
      ./trunk/flake-module.nix
      ./systems.nix
      ./dev.nix
    ]
    # The branches: each crate's fragment contributes
    # dominix.modules.nixos.<name> (and, where it has them, packages and checks).
    ++ catalog.fragments;

  systems = ["x86_64-linux" "aarch64-linux" "aarch64-darwin" "x86_64-darwin"];

  _module.args.dominixCatalog = catalog;
}
