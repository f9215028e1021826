# nixpkgs: nixos/modules/system/boot/systemd.nix
# `systemd.services` (its element type from nixos/lib/systemd-types.nix),
# the environment every service gets, the sysctl this module sets and
# systemd's NSS modules.
{
  config,
  lib,
  pkgs,
  ...
}: let
  inherit (lib) mkOption types;
  systemdLib = import ../../../lib/systemd-lib.nix {inherit config lib pkgs;};
  unitOptions = import ../../../lib/systemd-unit-options.nix {inherit lib systemdLib;};
  systemdTypes = import ../../../lib/systemd-types.nix {inherit lib systemdLib unitOptions;};
in {
  options.systemd = {
    package = lib.mkPackageOption pkgs "systemd" {};

    enableStrictShellChecks = lib.mkEnableOption "shellcheck and strict shell options for every service script";

    services = mkOption {
      type = systemdTypes.services;
      default = {};
      description = "System services, by name (without `.service`).";
    };

    globalEnvironment = mkOption {
      type = types.attrsOf (types.nullOr (types.oneOf [types.str types.path types.package]));
      default = {};
      description = "Environment variables of every service (a service's own `environment` wins).";
    };

    defaultUnit = mkOption {
      type = types.str;
      default = "multi-user.target";
      description = "The unit the system boots into.";
    };
  };

  config = {
    # What nixpkgs refuses and warns about in any service.
    assertions = lib.concatLists (lib.mapAttrsToList (name: service: [
        {
          assertion = !(lib.elem "network-interfaces.target" (service.after ++ service.wants));
          message = "${name}.service is ordered after or wants network-interfaces.target, which does not exist; use network.target, or network-online.target with wants.";
        }
      ])
      config.systemd.services);

    warnings = lib.concatLists (lib.mapAttrsToList (name: service: let
      type = service.serviceConfig.Type or "";
      restart = service.serviceConfig.Restart or "no";
      online = "network-online.target";
    in
      lib.optional (type == "oneshot" && lib.elem restart ["always" "on-success"])
      "Service '${name}.service' with 'Type=oneshot' cannot have 'Restart=always' or 'Restart=on-success'"
      ++ lib.optional (service.serviceConfig ? StartLimitInterval)
      "Service '${name}.service' sets 'StartLimitInterval' in [Service], which systemd ignores; use 'startLimitIntervalSec'"
      ++ lib.optional (service.reloadIfChanged && service.reloadTriggers != [])
      "Service '${name}.service' has both 'reloadIfChanged' and 'reloadTriggers': reloadIfChanged makes every change a reload"
      ++ lib.optional (lib.elem online service.after && !(lib.elem online (service.wants ++ service.requires ++ service.bindsTo)))
      "${name}.service is ordered after '${online}' but doesn't depend on it")
    config.systemd.services);

    boot.kernel.sysctl = lib.mkIf pkgs.stdenv.hostPlatform.is64bit {
      "kernel.pid_max" = lib.mkDefault 4194304;
    };

    # systemd's own NSS modules (myhostname, mymachines, systemd).
    system.nssModules = [config.systemd.package.out];
  };
}
