# nixpkgs: nixos/modules/services/networking/firewall.nix (nixos-25.11)
# The options of the firewall that branches open ports with, and what this
# module defines when the firewall is on. (The rules themselves are the
# backend's, firewall-iptables.nix or firewall-nftables.nix: every
# `allInterfaces.<name>.allowedTCPPorts` port is accepted on that interface,
# `default` meaning all of them, and the loopback and `trustedInterfaces`
# are accepted whole.)
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkOption types;
  cfg = config.networking.firewall;

  canonicalizePortList = ports: lib.unique (builtins.sort builtins.lessThan ports);

  # The ports of the whole machine, and of each interface.
  commonOptions = {
    allowedTCPPorts = mkOption {
      type = types.listOf types.port;
      default = [];
      apply = canonicalizePortList;
      description = "TCP ports on which incoming connections are accepted (sorted, without duplicates).";
    };
    allowedTCPPortRanges = mkOption {
      type = types.listOf (types.attrsOf types.port);
      default = [];
      description = "Ranges (`{ from; to; }`) of TCP ports on which incoming connections are accepted.";
    };
    allowedUDPPorts = mkOption {
      type = types.listOf types.port;
      default = [];
      apply = canonicalizePortList;
      description = "UDP ports open to incoming packets (sorted, without duplicates).";
    };
    allowedUDPPortRanges = mkOption {
      type = types.listOf (types.attrsOf types.port);
      default = [];
      description = "Ranges (`{ from; to; }`) of UDP ports open to incoming packets.";
    };
  };
in {
  options.networking.firewall =
    {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether the stateful firewall that drops unrequested inbound connections is on.";
      };

      allowPing = mkOption {
        type = types.bool;
        default = true;
        description = "Whether incoming ICMPv4 echo requests are answered (ICMPv6 ones always are).";
      };

      logRefusedConnections = mkOption {
        type = types.bool;
        # 26.05 turns this off by default.
        default = true;
        description = "Whether refused incoming connections are logged (in the kernel log).";
      };

      trustedInterfaces = mkOption {
        type = types.listOf types.str;
        default = [];
        description = "Interfaces whose incoming traffic is accepted whole.";
      };

      interfaces = mkOption {
        type = types.attrsOf (types.submodule [{options = commonOptions;}]);
        default = {};
        description = "Ports open on one interface only, by interface name.";
      };
    }
    // commonOptions;

  config = lib.mkIf cfg.enable {
    networking.firewall.trustedInterfaces = ["lo"];
  };
}
