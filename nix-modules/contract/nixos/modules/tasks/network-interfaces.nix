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

  # With no interfaces configured and IPv6 on (nixpkgs' defaults).
  config.boot.kernel.sysctl = {
    "net.ipv4.conf.all.forwarding" = lib.mkDefault false;
    "net.ipv6.conf.all.disable_ipv6" = lib.mkDefault false;
    "net.ipv6.conf.default.disable_ipv6" = lib.mkDefault false;
    "net.ipv4.ping_group_range" = lib.mkDefault "0 2147483647";
    "net.ipv6.conf.default.use_tempaddr" = "2";
  };
}
