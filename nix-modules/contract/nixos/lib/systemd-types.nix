# nixpkgs: nixos/lib/systemd-types.nix
# The element type of `systemd.services`: the service options, the [Unit]
# directives made of them, and the default service configuration.
{
  lib,
  systemdLib,
  unitOptions,
}: {
  services = lib.types.attrsOf (lib.types.submodule [
    unitOptions.stage2ServiceOptions
    systemdLib.unitConfig
    systemdLib.stage2ServiceConfig
  ]);
}
