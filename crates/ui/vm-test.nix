# NixOS VM test of the ui branch (`checks.<system>.ui`).
{
  name = "domi-nix-ui";

  nodes.machine = {};

  testScript = ''
    import json

    machine.wait_for_unit("multi-user.target")

    with subtest("the shell reports this host and the attached branches"):
        report = json.loads(machine.succeed("domi-nix-shell --json"))
        # The test framework names the host after the node.
        assert report["host"] == "machine", report
        assert "ui" in report["features"], report

    with subtest("the banner is printed at login"):
        out = machine.succeed("su - root -c 'script -qc \"bash -l -c true\" /dev/null'")
        assert "domi-nix" in out, out
  '';
}
