# domi-nix status-api: `domi-nix-status`, the machine's health, attached
# branches and Prometheus metrics over HTTP, sandboxed by the `sandboxing`
# branch's profile (`cargo xtask audit` holds it to 1.5).
#
# `domi-nix.<branch>.enable` is not declared here: the branch's identity
# module (nix-modules/trunk/feature-identity.nix) declares it, true once the
# branch is imported, and `flake.nixosModules.<branch>` carries both.
{
  config,
  lib,
  pkgs,
  ...
}: let
  cfg = config.domi-nix.status-api;
  inherit (lib) mkIf mkOption types;

  # An IPv6 address is written in brackets before its port.
  listen =
    if lib.hasInfix ":" cfg.address
    then "[${cfg.address}]:${toString cfg.port}"
    else "${cfg.address}:${toString cfg.port}";
  loopback = lib.hasPrefix "127." cfg.address || cfg.address == "::1";
in {
  options.domi-nix.status-api = {
    package = lib.mkPackageOption pkgs ["domi-nix" "domi-nix-status"] {};

    address = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = ''
        The IP address to listen on (no host names): `0.0.0.0` or `::` for
        every interface. The sandbox lets the service answer only loopback
        unless the address is another one.
      '';
    };

    port = mkOption {
      type = types.port;
      default = 9180;
      description = "The TCP port to listen on.";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to open `port` in the firewall (`networking.firewall.allowedTCPPorts`).";
    };

    maxConnections = mkOption {
      type = types.ints.between 1 1000000;
      default = 512;
      description = "Connections served at once; more are answered 503 and closed.";
    };
  };

  config = mkIf cfg.enable {
    systemd.services.domi-nix-status = {
      description = "domi-nix status API";
      wantedBy = ["multi-user.target"];
      after = ["network.target"];
      serviceConfig = {
        ExecStart = lib.escapeShellArgs [
          (lib.getExe cfg.package)
          "--listen"
          listen
          "--manifest"
          "/etc/domi-nix/features.json"
          "--max-connections"
          (toString cfg.maxConnections)
        ];
        Restart = "on-failure";
        # Enough descriptors for every connection, set as soft and hard
        # limit, so the service has no limit to raise.
        LimitNOFILE = cfg.maxConnections + 64;
      };
    };

    domi-nix.sandboxing.services.domi-nix-status.exceptions = mkIf (!loopback) {
      IPAddressAllow = {
        value = "any";
        reason = "answers clients on ${cfg.address}, beyond loopback";
      };
    };

    networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall [cfg.port];

    domi-nix.features.status-api.services = ["domi-nix-status.service"];
  };
}
