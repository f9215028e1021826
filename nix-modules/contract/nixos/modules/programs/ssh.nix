# nixpkgs: nixos/modules/programs/ssh.nix
# Only the package, which `services.openssh.package` defaults to. (It also
# writes /etc/ssh/ssh_config and decides `setXAuthLocation`; neither is
# modelled.)
{
  lib,
  pkgs,
  ...
}: {
  options.programs.ssh.package = lib.mkPackageOption pkgs "openssh" {};
}
