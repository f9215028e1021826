# nixpkgs: nixos/modules/config/nix.nix
# `nix.settings` (nix.conf): its declared keys, and the ones this module sets
# (nix-daemon.nix and nix-remote-build.nix set others).
{
  config,
  lib,
  pkgs,
  ...
}: let
  inherit (lib) mkIf mkOption types;
  cfg = config.nix;

  semanticConfType = let
    confAtom =
      types.nullOr (types.oneOf [types.bool types.int types.float types.str types.path types.package])
      // {description = "Nix config atom (null, bool, int, float, str, path or package)";};
  in
    types.attrsOf (types.either confAtom (types.listOf confAtom));

  # nixpkgs adds gccarch-* features where the platform names a gcc.arch.
  defaultSystemFeatures =
    ["nixos-test" "benchmark" "big-parallel" "kvm"]
    ++ lib.optionals (pkgs.stdenv.hostPlatform ? gcc.arch) ["gccarch-${pkgs.stdenv.hostPlatform.gcc.arch}"];

  list = default: description:
    mkOption {
      type = types.listOf types.str;
      inherit default description;
    };
in {
  options.nix = {
    settings = mkOption {
      type = types.submodule {
        freeformType = semanticConfType;
        options = {
          max-jobs = mkOption {
            type = types.either types.int (types.enum ["auto"]);
            default = "auto";
            description = "How many builds run at once.";
          };
          auto-optimise-store = mkOption {
            type = types.bool;
            default = false;
            description = "Whether identical store files are hard-linked.";
          };
          cores = mkOption {
            type = types.int;
            default = 0;
            description = "CPU cores one build may use (0: all).";
          };
          sandbox = mkOption {
            type = types.either types.bool (types.enum ["relaxed"]);
            default = true;
            description = "Whether builds run in a sandbox.";
          };
          extra-sandbox-paths = list [] "Paths the build sandbox also sees.";
          substituters = mkOption {
            type = types.listOf types.str;
            description = "Binary caches to substitute from.";
          };
          trusted-substituters = list [] "Binary caches unprivileged users may name.";
          require-sigs = mkOption {
            type = types.bool;
            default = true;
            description = "Whether substituted paths must be signed by a trusted key.";
          };
          trusted-public-keys = mkOption {
            type = types.listOf types.str;
            description = "Keys whose signatures are trusted.";
          };
          trusted-users = mkOption {
            type = types.listOf types.str;
            description = "Users (and @groups) with full control of the Nix daemon.";
          };
          system-features = list defaultSystemFeatures "What this machine's builds may require.";
          allowed-users = list ["*"] "Users (and @groups) allowed to talk to the Nix daemon; trusted users always are.";
        };
      };
      default = {};
      description = "Settings written to /etc/nix/nix.conf.";
    };
  };

  config.nix.settings = mkIf cfg.enable {
    trusted-public-keys = ["cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="];
    trusted-users = ["root"];
    substituters = lib.mkAfter ["https://cache.nixos.org/"];
    system-features = defaultSystemFeatures;
  };
}
