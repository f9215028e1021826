# nixpkgs: nixos/modules/config/shells-environment.nix
{lib, ...}: let
  inherit (lib) mkOption types;
in {
  options.environment = {
    loginShellInit = mkOption {
      type = types.lines;
      default = "";
      description = "Shell-independent (POSIX sh) code run when a login shell starts.";
    };

    interactiveShellInit = mkOption {
      type = types.lines;
      default = "";
      description = "Shell-independent (POSIX sh) code run when an interactive shell starts.";
    };
  };
}
