# The manifest of attached branches: filled in by every branch, checked here
# (`requires` and `conflicts` become NixOS assertions, so a hand-written
# `imports` list is checked as strictly as `cargo xtask compose`), and written
# to /etc/domi-nix/features.json for the shell and the status API to read.
{
  config,
  lib,
  ...
}: let
  inherit (lib) concatLists mapAttrs mapAttrsToList mkOption types;

  attached = config.domi-nix.features;
  isAttached = name: attached ? ${name};

  importFix = name: "add `domi-nix.nixosModules.${name}` to `imports` (or compose with `cargo xtask compose`, which resolves requires)";

  checksOf = name: feature:
    map (dep: {
      assertion = isAttached dep;
      message = "domi-nix: feature `${name}` requires feature `${dep}`, which is not attached. Fix: ${importFix dep}.";
    })
    feature.requires
    ++ map (other: {
      assertion = !(isAttached other);
      message = "domi-nix: features `${name}` and `${other}` conflict and are both attached. Fix: detach one of them (remove it from `imports`, or set `domi-nix.${other}.enable = false`).";
    })
    feature.conflicts;
in {
  options.domi-nix.features = mkOption {
    type = types.attrsOf (types.submodule {
      options = {
        category = mkOption {
          type = types.enum ["services" "security" "ui" "packages" "features"];
          description = "The catalog category of the branch.";
        };
        summary = mkOption {
          type = types.str;
          description = "One line saying what the branch does.";
        };
        requires = mkOption {
          type = types.listOf types.str;
          default = [];
          description = "Branches that must be attached too.";
        };
        conflicts = mkOption {
          type = types.listOf types.str;
          default = [];
          description = "Branches that must not be attached at the same time.";
        };
        services = mkOption {
          type = types.listOf types.str;
          default = [];
          example = ["domi-nix-status.service"];
          description = "The systemd units the branch runs (the domi-nix shell shows their state); set by the branch's module.";
        };
      };
    });
    default = {};
    description = ''
      The attached domi-nix branches, keyed by name. Each branch's module adds
      its own entry, taken from `[package.metadata.dominix]` in its crate's
      Cargo.toml; do not set this by hand.
    '';
  };

  config = {
    assertions = concatLists (mapAttrsToList checksOf attached);

    environment.etc."domi-nix/features.json".text = builtins.toJSON {
      version = 1;
      features = mapAttrs (_: f: {inherit (f) category summary requires conflicts services;}) attached;
    };
  };
}
