# nixpkgs: nixos/modules/services/networking/ssh/sshd.nix
# (It also adds `openssh.authorizedKeys.keys` to every `users.users.<name>`;
# that sub-option lives with the user submodule in config/users-groups.nix.)
{lib, ...}: {
  options.services.openssh.enable = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Whether to run the OpenSSH daemon.";
  };
}
