# NixOS VM test of the packages branch (`checks.<system>.packages`): the
# workspace's programs, built from this checkout through the overlay, run.
{
  name = "domi-nix-packages";

  nodes.machine = {pkgs, ...}: {
    environment.systemPackages = [pkgs.domi-nix.domi-nix-shell pkgs.domi-nix.domi-nix-status];
  };

  testScript = ''
    machine.wait_for_unit("multi-user.target")

    with subtest("every program of the overlay runs"):
        machine.succeed("domi-nix-shell --help")
        version = machine.succeed("domi-nix-status --version")
        assert "domi-nix-status" in version, version

    with subtest("the programs come from the overlay"):
        out = machine.succeed("readlink -f $(command -v domi-nix-status)")
        assert "domi-nix-status" in out, out
  '';
}
