# domi-nix ui: the domi-nix shell, a banner with the host, its addresses and
# the attached branches, shown at every interactive login.
#
# `domi-nix.<branch>.enable` is not declared here: the branch's identity
# module (nix-modules/trunk/feature-identity.nix) declares it, true once the
# branch is imported, and `flake.nixosModules.<branch>` carries both.
{
  config,
  lib,
  pkgs,
  ...
}: let
  cfg = config.domi-nix.ui;
  inherit (lib) mkIf mkOption types;
in {
  options.domi-nix.ui = {
    package = lib.mkPackageOption pkgs ["domi-nix" "domi-nix-shell"] {};

    showOnLogin = mkOption {
      type = types.bool;
      default = true;
      description = "Whether interactive login shells print the domi-nix shell banner.";
    };
  };

  config = mkIf cfg.enable {
    environment.systemPackages = [cfg.package];

    environment.loginShellInit = mkIf cfg.showOnLogin ''
      if [ -t 1 ]; then
        ${lib.getExe' cfg.package "domi-nix-shell"} || true
      fi
    '';
  };
}
