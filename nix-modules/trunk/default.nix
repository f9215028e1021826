# The trunk: the central, minimal domi-nix configuration. Only what makes a
# machine look like domi-nix (identity, banner, manifest, a VM login) and the
# one import point for branches, the manifest. No services live here.
{
  config,
  lib,
  ...
}: let
  cfg = config.domi-nix.trunk;
  inherit (lib) mkDefault mkIf mkOption types;
in {
  imports = [./manifest.nix];

  options.domi-nix.trunk = {
    hostName = mkOption {
      type = types.str;
      default = "domi-nix";
      example = "domi-nix-lab";
      description = ''
        Host name of the machine. Set with a priority below `lib.mkDefault`,
        so any other definition of `networking.hostName` wins.
      '';
    };

    banner = mkOption {
      type = types.lines;
      default = ''
        Welcome to domi-nix.
        Attached features are listed in /etc/domi-nix/features.json.
      '';
      description = "Message of the day shown after login.";
    };

    defaultLogin = {
      enable = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Whether to create a login user with a well-known password and log it
          in automatically on the console. Meant for throw-away VMs only: the
          VM adapters enable it, real hosts must not.
        '';
      };
      user = mkOption {
        type = types.str;
        default = "domi";
        description = "Name of the default login user.";
      };
      initialPassword = mkOption {
        type = types.str;
        default = "domi-nix";
        description = "Initial password of the default login user (visible in the Nix store).";
      };
    };
  };

  config = {
    # Weaker than mkDefault: the NixOS test framework names each node with
    # `mkDefault <node name>`, and two mkDefaults of a string conflict.
    networking.hostName = lib.mkOverride 1100 cfg.hostName;

    # os-release: keep ID=nixos (tools rely on it), brand the rest.
    system.nixos.distroName = mkDefault "domi-nix";
    system.nixos.variant_id = mkDefault "domi-nix";
    system.nixos.variantName = mkDefault "domi-nix trunk";
    # Weaker than mkDefault, so that a host's own mkDefault wins without a
    # conflict (older test frameworks set it with `mkDefault`, 25.11's
    # test-instrumentation.nix with `mkOverride 1200`, which this beats).
    # Stronger than the option default, so nixpkgs' "stateVersion is not
    # set" warning (highestPrio == 1500) stays quiet.
    system.stateVersion = lib.mkOverride 1100 "25.11";

    # No greeting line of our own: getty.nix sets one with mkDefault
    # ("Welcome to <distroName> <label>"), which the distroName above brands.
    users.motd = mkDefault cfg.banner;

    users.users = mkIf cfg.defaultLogin.enable {
      ${cfg.defaultLogin.user} = {
        isNormalUser = true;
        description = "domi-nix VM login";
        extraGroups = ["wheel"];
        inherit (cfg.defaultLogin) initialPassword;
      };
    };
    services.getty.autologinUser = mkIf cfg.defaultLogin.enable (mkDefault cfg.defaultLogin.user);
    # A `lines` option keeps only its highest-priority definitions, and
    # getty.nix defines it at normal priority ("Run 'nixos-help'…"): ours is
    # normal priority too, so both lines show.
    services.getty.helpLine = mkIf cfg.defaultLogin.enable ''
      domi-nix VM: log in as `${cfg.defaultLogin.user}` with password `${cfg.defaultLogin.initialPassword}`.
    '';
  };
}
