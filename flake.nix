{
  description = "domi-nix: a NixOS system as one small trunk and independent feature branches";

  inputs = {
    # NixOS release branch; the system, VM and VM-test tiers evaluate against it.
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    # nixpkgs' `lib` alone: enough for flake-parts and for offline module evaluation.
    nixpkgs-lib.url = "github:nix-community/nixpkgs.lib";
    flake-parts = {
      url = "github:hercules-ci/flake-parts";
      inputs.nixpkgs-lib.follows = "nixpkgs-lib";
    };
  };

  # The whole top level lives in nix-modules/flake-module.nix so that the
  # offline evaluator (nix-modules/eval) goes through exactly the same code.
  outputs = inputs: inputs.flake-parts.lib.mkFlake {inherit inputs;} ./nix-modules/flake-module.nix;
}
