# nixpkgs: nixos/modules/misc/version.nix
{
  config,
  lib,
  options,
  ...
}: let
  inherit (lib) mkOption types;
  cfg = config.system.nixos;
in {
  options.system = {
    nixos = {
      release = mkOption {
        readOnly = true;
        type = types.str;
        default = lib.trivial.release;
        description = "The NixOS release, e.g. `25.11`.";
      };

      versionSuffix = mkOption {
        internal = true;
        type = types.str;
        default = lib.trivial.versionSuffix;
        description = "The NixOS version suffix, e.g. `.20260120.3ceaaa8`.";
      };

      version = mkOption {
        internal = true;
        type = types.str;
        description = "The full NixOS version: release and suffix.";
      };

      distroName = mkOption {
        type = types.str;
        default = "NixOS";
        description = "Human-readable name of the operating system (os-release NAME).";
      };

      distroId = mkOption {
        type = types.str;
        default = "nixos";
        description = "Machine-readable id of the operating system (os-release ID).";
      };

      variant_id = mkOption {
        type = types.nullOr (types.strMatching "^[a-z0-9._-]+$");
        default = null;
        description = "Lower-case id of the variant or edition of the system (os-release VARIANT_ID).";
      };

      variantName = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Human-readable name of the variant or edition of the system (os-release VARIANT).";
      };
    };

    stateVersion = mkOption {
      type = types.str;
      # Like nixpkgs: a warning when nothing but the option default sets it.
      apply = v:
        lib.warnIf (options.system.stateVersion.highestPrio == (lib.mkOptionDefault {}).priority)
        "system.stateVersion is not set, defaulting to ${v}."
        v;
      default = cfg.release;
      description = "Release of the first NixOS installed on the machine; keeps stateful data formats compatible.";
    };
  };

  config = {
    system.nixos.version = lib.mkDefault (cfg.release + cfg.versionSuffix);

    assertions = [
      {
        assertion = builtins.match "[0-9]{2}\\.[0-9]{2}" config.system.stateVersion != null;
        message = "system.stateVersion must be of the form YY.MM, e.g. 25.11.";
      }
    ];
  };
}
