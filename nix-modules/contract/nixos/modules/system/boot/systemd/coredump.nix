# nixpkgs: nixos/modules/system/boot/systemd/coredump.nix
# (When enabled it also installs systemd's coredump units, sysctl.d files
# and the systemd-coredump user; only /etc/systemd/coredump.conf is modelled.)
{
  config,
  lib,
  ...
}: let
  inherit (lib) mkIf mkMerge mkOption types;
  cfg = config.systemd.coredump;
in {
  options.systemd.coredump = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether systemd-coredump processes core dumps (else the kernel writes them as `core` files).";
    };

    extraConfig = mkOption {
      type = types.lines;
      default = "";
      example = "Storage=none";
      description = "Lines of the [Coredump] section of /etc/systemd/coredump.conf.";
    };
  };

  config = mkMerge [
    (mkIf cfg.enable {
      environment.etc."systemd/coredump.conf".text = ''
        [Coredump]
        ${cfg.extraConfig}
      '';
    })
    (mkIf (!cfg.enable) {
      boot.kernel.sysctl."kernel.core_pattern" = lib.mkDefault "core";
    })
  ];
}
