# nixpkgs: nixos/modules/config/locale.nix
# Only what every service gets: the time zone database.
{pkgs, ...}: {
  config.systemd.globalEnvironment.TZDIR = "${pkgs.tzdata}/share/zoneinfo";
}
