# nixpkgs: nixos/modules/tasks/network-interfaces.nix
{
  config,
  lib,
  ...
}: {
  options.networking.hostName = lib.mkOption {
    type = lib.types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
    default = config.system.nixos.distroId;
    description = "Host name: a single DNS label (no domain part), or empty to take it from DHCP.";
  };

  options.networking.enableIPv6 = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Whether IPv6 is on (sshd listens on both families when it is).";
  };

  # With no interfaces configured (nixpkgs' default).
  config.boot.kernel.sysctl = {
    "net.ipv4.conf.all.forwarding" = lib.mkDefault false;
    "net.ipv6.conf.all.disable_ipv6" = lib.mkDefault (!config.networking.enableIPv6);
    "net.ipv6.conf.default.disable_ipv6" = lib.mkDefault (!config.networking.enableIPv6);
    "net.ipv4.ping_group_range" = lib.mkDefault "0 2147483647";
    "net.ipv6.conf.default.use_tempaddr" = "2";
  };
}
