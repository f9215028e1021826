# nixpkgs: nixos/modules/config/system-path.nix
{
  lib,
  pkgs,
  ...
}: {
  options.environment.systemPackages = lib.mkOption {
    type = lib.types.listOf lib.types.package;
    default = [];
    description = "Packages installed into the system profile, available to every user.";
  };

  # The core and default packages of every system (a representative few:
  # the list merges, so only its priority matters to other definitions).
  config.environment.systemPackages = [pkgs.coreutils pkgs.bashInteractive];
}
