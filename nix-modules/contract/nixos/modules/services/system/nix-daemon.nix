# nixpkgs: nixos/modules/services/system/nix-daemon.nix
# `nix.enable`, and the setting this module adds to nix.conf (nixpkgs: for
# Nix ≥ 2.3, which every supported Nix is).
{
  config,
  lib,
  ...
}: {
  options.nix.enable = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Whether Nix (its daemon, nix.conf) is on the system.";
  };

  config.nix.settings = lib.mkIf config.nix.enable {
    sandbox-fallback = false;
  };
}
