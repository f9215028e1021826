# nixpkgs: nixos/modules/system/etc/etc.nix
{
  lib,
  pkgs,
  ...
}: let
  inherit (lib) mkOption types;

  etcFile = types.submodule ({
    name,
    config,
    options,
    ...
  }: {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether this file is put into /etc at all.";
      };
      target = mkOption {
        type = types.str;
        description = "Where the file goes, relative to /etc; the attribute name unless set.";
      };
      text = mkOption {
        type = types.nullOr types.lines;
        default = null;
        description = "Contents of the file, when given inline.";
      };
      source = mkOption {
        type = types.path;
        description = "The file to link (or copy) into /etc.";
      };
      mode = mkOption {
        type = types.str;
        default = "symlink";
        description = "`symlink` to link the file; any other value copies it with that octal mode.";
      };
      uid = mkOption {
        type = types.int;
        default = 0;
        description = "Owner id of a copied file.";
      };
      gid = mkOption {
        type = types.int;
        default = 0;
        description = "Group id of a copied file.";
      };
      user = mkOption {
        type = types.str;
        default = "+${toString config.uid}";
        description = "Owner name of a copied file; takes precedence over `uid`.";
      };
      group = mkOption {
        type = types.str;
        default = "+${toString config.gid}";
        description = "Group name of a copied file; takes precedence over `gid`.";
      };
    };
    config = {
      target = lib.mkDefault name;
      # nixpkgs writes `text` out with pkgs.writeText; offline that is a
      # store-path-shaped stub, so nothing is built.
      source = lib.mkIf (config.text != null) (
        lib.mkDerivedConfig options.text
        (pkgs.writeText "etc-${lib.replaceStrings ["/"] ["-"] name}")
      );
    };
  });
in {
  options.environment.etc = mkOption {
    type = types.attrsOf etcFile;
    default = {};
    description = "Files placed in /etc, by path relative to /etc.";
  };
}
