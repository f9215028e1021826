{
  description = "My NixOS host, with domi-nix branches attached";

  inputs = {
    # Point this at the domi-nix repository you use.
    domi-nix.url = "github:domi-nix/domi-nix";
    nixpkgs.follows = "domi-nix/nixpkgs";
  };

  outputs = {
    domi-nix,
    nixpkgs,
    ...
  }: {
    nixosConfigurations.my-host = nixpkgs.lib.nixosSystem {
      modules = [
        ./configuration.nix
        # The domi-nix trunk and the branches you want: attach or detach here.
        domi-nix.nixosModules.trunk
        domi-nix.nixosModules.hardening
        domi-nix.nixosModules.ui
      ];
    };
  };
}
