# nixpkgs: nixos/modules/security/default.nix
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkIf mkOption types;
  cfg = config.security;
in {
  options.security.lsm = mkOption {
    type = types.uniq (types.listOf types.str);
    default = [];
    description = "Linux security modules to enable, in order (the `lsm=` kernel parameter).";
  };

  config = {
    security.lsm = ["landlock" "yama" "bpf"];

    boot.kernelParams = mkIf (cfg.lsm != []) ["lsm=${lib.concatStringsSep "," cfg.lsm}"];

    assertions = [
      {
        assertion = builtins.all (p: !(lib.hasPrefix "security=" p)) config.boot.kernelParams;
        message = "security= must not be in boot.kernelParams; use security.lsm.";
      }
    ];
  };
}
