# nixpkgs: nixos/modules/config/nix-remote-build.nix
# Without distributed builds (nixpkgs: `nix.distributedBuilds`, false by
# default), nix.conf names no builders.
{
  config,
  lib,
  ...
}: {
  config.nix.settings = lib.mkIf config.nix.enable {
    builders = null;
  };
}
