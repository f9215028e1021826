# nixpkgs: nixos/modules/security/pam.nix
{lib, ...}: {
  options.users.motd = lib.mkOption {
    type = lib.types.lines;
    default = "";
    description = "Message of the day shown at login.";
  };
}
