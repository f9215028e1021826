# nixpkgs: nixos/modules/config/users-groups.nix
# (`openssh.authorizedKeys.{keys,keyFiles}` are declared here, though
# nixpkgs adds them to the same submodule from
# nixos/modules/services/networking/ssh/sshd.nix: the contract declares
# each option in one file.)
{
  lib,
  pkgs,
  ...
}: let
  inherit (lib) mkOption types;

  userAccount = types.submodule ({
    name,
    config,
    ...
  }: {
    options = {
      name = mkOption {
        type = types.passwdEntry types.str;
        description = "Login name; the attribute name unless set.";
      };
      description = mkOption {
        type = types.passwdEntry types.str;
        default = "";
        description = "The GECOS field, usually the person's full name.";
      };
      isNormalUser = mkOption {
        type = types.bool;
        default = false;
        description = "A login account for a person: gets a home under /home, the `users` group and a created home directory.";
      };
      isSystemUser = mkOption {
        type = types.bool;
        default = false;
        description = "An account for a service: gets a uid below 1000 when none is given.";
      };
      extraGroups = mkOption {
        type = types.listOf types.str;
        default = [];
        description = "Supplementary groups of the account.";
      };
      initialPassword = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Clear-text password set when the account is first created (world-readable in the store).";
      };
      hashedPasswordFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Path of a file, read at activation, holding the account's password hash.";
      };
      home = mkOption {
        type = types.passwdEntry types.path;
        default = "/var/empty";
        description = "Home directory of the account.";
      };
      createHome = mkOption {
        type = types.bool;
        default = false;
        description = "Whether to create the home directory and give it to the account.";
      };
      shell = mkOption {
        type = types.nullOr (types.either types.shellPackage (types.passwdEntry types.path));
        default = pkgs.shadow;
        description = "Login shell: a shell package or an absolute path.";
      };
      group = mkOption {
        type = types.str;
        default = "";
        description = "Primary group of the account.";
      };
      openssh.authorizedKeys.keys = mkOption {
        type = types.listOf types.singleLineStr;
        default = [];
        description = "OpenSSH public keys, one per line, allowed to log in as this account (written to /etc/ssh/authorized_keys.d/<name>).";
      };
      openssh.authorizedKeys.keyFiles = mkOption {
        type = types.listOf types.path;
        default = [];
        description = "Files of OpenSSH public keys, read at build time, allowed to log in as this account.";
      };
    };
    config = lib.mkMerge [
      {name = lib.mkDefault name;}
      (lib.mkIf config.isNormalUser {
        createHome = lib.mkDefault true;
        group = lib.mkDefault "users";
        # nixpkgs: "${config.users.defaultUserHome}/${name}", /home by default.
        home = lib.mkDefault "/home/${config.name}";
        isSystemUser = lib.mkDefault false;
        # nixpkgs: useDefaultShell, then users.defaultUserShell, which
        # programs/bash sets (mkDefault) to pkgs.bashInteractive.
        shell = lib.mkDefault pkgs.bashInteractive;
      })
    ];
  });
in {
  options.users.users = mkOption {
    type = types.attrsOf userAccount;
    default = {};
    description = "User accounts, by login name.";
  };

  config.users.users = {
    root = {
      description = "System administrator";
      home = "/root";
      # nixpkgs: mkDefault config.users.defaultUserShell, which programs/bash
      # sets (mkDefault) to pkgs.bashInteractive.
      shell = lib.mkDefault pkgs.bashInteractive;
      group = "root";
    };
    nobody = {
      description = "Unprivileged account (don't use!)";
      isSystemUser = true;
      group = "nogroup";
    };
  };
}
