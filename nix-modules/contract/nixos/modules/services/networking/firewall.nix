# nixpkgs: nixos/modules/services/networking/firewall.nix
{lib, ...}: {
  options.networking.firewall.enable = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Whether the stateful firewall that drops unrequested inbound connections is on.";
  };
}
