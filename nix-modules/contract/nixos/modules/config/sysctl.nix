# nixpkgs: nixos/modules/config/sysctl.nix
{lib, ...}: let
  inherit (lib) mkOption types;

  # A single sysctl value: a string, integer or boolean, or null to leave the
  # parameter out. Like nixpkgs, a value wrapped in a priority override
  # (`mkForce`, `mkDefault`, ...) is accepted as well.
  sysctlValue = lib.mkOptionType {
    name = "sysctl option value";
    check = value: let
      plain = x: x == null || lib.isBool x || lib.isInt x || lib.isString x;
    in
      plain value || ((value._type or null) == "override" && plain value.content);
    merge = loc: defs: lib.mergeOneOption loc (lib.filterOverrides defs);
  };

  # Socket buffer ceilings: several modules may ask for one, the largest wins.
  largestUnsigned =
    types.ints.unsigned
    // {
      merge = _loc: defs: lib.foldl' (acc: def: lib.max acc def.value) 0 defs;
    };
in {
  options.boot.kernel.sysctl = mkOption {
    type = types.submodule {
      freeformType = types.attrsOf sysctlValue;
      options = {
        "net.core.rmem_max" = mkOption {
          type = types.nullOr largestUnsigned;
          default = null;
          description = "Largest socket receive buffer, in bytes; when several definitions exist the highest one is used.";
        };
        "net.core.wmem_max" = mkOption {
          type = types.nullOr largestUnsigned;
          default = null;
          description = "Largest socket send buffer, in bytes; when several definitions exist the highest one is used.";
        };
      };
    };
    default = {};
    description = "Kernel runtime parameters written to sysctl.d, by quoted name (e.g. \"vm.swappiness\"); null leaves one out.";
  };

  config.boot.kernel.sysctl = {
    "kernel.kptr_restrict" = lib.mkDefault 1;
    "vm.max_map_count" = lib.mkDefault 1048576;
    "fs.inotify.max_user_instances" = lib.mkDefault 524288;
    "fs.inotify.max_user_watches" = lib.mkDefault 524288;
  };
}
