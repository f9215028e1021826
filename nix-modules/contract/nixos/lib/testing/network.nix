# nixpkgs: nixos/lib/testing/network.nix
# What the NixOS test framework's network module adds to each node, given the
# node's name (nixpkgs: via `virtualisation.test.nodeName`).
name: {lib, ...}: {
  _file = toString ./network.nix;
  config = {
    networking.hostName = lib.mkDefault name;
    # network.nix gives every node the interface eth1; network-interfaces.nix
    # turns it into these sysctls (at normal priority).
    boot.kernel.sysctl = {
      "net.ipv4.conf.eth1.proxy_arp" = false;
      "net.ipv6.conf.eth1.use_tempaddr" = "2";
    };
  };
}
