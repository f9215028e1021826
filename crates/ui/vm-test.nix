# NixOS VM test of the ui branch (`checks.<system>.ui`): the banner at a login
# on the console, on the serial console and, on a second machine with
# remote-access attached, over SSH; and the shell's subcommands.
let
  password = "correct horse";

  # TEST ONLY: the published key pair of remote-access's VM test, like
  # nixpkgs' snakeoil keys. Never let it log in anywhere else.
  testPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfqdDeY/SiXim46zChrM8XKegcVBWeul3pAsUhRVodX domi-nix remote-access VM test key (test only)";
  testPrivateKey = ''
    -----BEGIN OPENSSH PRIVATE KEY-----
    b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
    QyNTUxOQAAACAX6nQ3mP0ol4puOswoazPFynoHFQVnrpd6QLFIUVaHVwAAALh7TlZ9e05W
    fQAAAAtzc2gtZWQyNTUxOQAAACAX6nQ3mP0ol4puOswoazPFynoHFQVnrpd6QLFIUVaHVw
    AAAEBc5/BZ6Isypyybpu5PjOwg0XkeXP/Ae+jiTmE6nUQXDBfqdDeY/SiXim46zChrM8XK
    egcVBWeul3pAsUhRVodXAAAALmRvbWktbml4IHJlbW90ZS1hY2Nlc3MgVk0gdGVzdCBrZX
    kgKHRlc3Qgb25seSkBAgMEBQYH
    -----END OPENSSH PRIVATE KEY-----
  '';
in {
  name = "domi-nix-ui";

  nodes = {
    machine = {
      lib,
      pkgs,
      ...
    }: {
      users.users.alice = {
        isNormalUser = true;
        initialPassword = password;
      };
      # The test framework keeps the serial console for its log; a login
      # prompt there lets the test log in on it too.
      systemd.services."serial-getty@${
        if pkgs.stdenv.hostPlatform.isAarch
        then "ttyAMA0"
        else "ttyS0"
      }".enable =
        lib.mkForce true;
      environment.systemPackages = [pkgs.openssh];
      environment.etc."domi-nix-test/id_ed25519" = {
        mode = "0600";
        text = testPrivateKey;
      };
    };

    # A machine reached over SSH: the same branches and remote-access.
    remote = {branches, ...}: {
      imports = [branches.remote-access branches.sandboxing];
      domi-nix.trunk.defaultLogin.enable = true;
      domi-nix.remote-access.users.domi = [testPublicKey];
    };
  };

  testScript = ''
    import json

    start_all()
    machine.wait_for_unit("multi-user.target")

    with subtest("the shell reports the host, its addresses and the attached branches"):
        report = json.loads(machine.succeed("domi-nix-shell --json"))
        # The test framework names the host after the node.
        assert report["host"] == "machine", report
        assert {"ui", "packages"} <= set(report["features"]), report
        assert any(a["interface"] == "eth1" for a in report["addresses"]), report
        features = json.loads(machine.succeed("domi-nix-shell features --json"))
        assert set(features) == set(report["features"]), features
        assert json.loads(machine.succeed("domi-nix-shell status --json")) == [], "ui runs no service"

    with subtest("the banner greets a login on the console"):
        machine.wait_for_unit("getty@tty1.service")
        machine.wait_until_tty_matches("1", "login: ")
        machine.send_chars("alice\n")
        machine.wait_until_tty_matches("1", "Password: ")
        machine.send_chars("${password}\n")
        machine.wait_until_tty_matches("1", "domi-nix on machine")
        machine.wait_until_tty_matches("1", "attached branches")

    with subtest("and on the serial console"):
        serial = "ttyAMA0" if machine.succeed("uname -m").strip() == "aarch64" else "ttyS0"
        machine.wait_for_unit(f"serial-getty@{serial}.service")
        machine.send_console("\n")
        machine.wait_for_console_text("login:")
        machine.send_console("alice\n")
        machine.wait_for_console_text("Password:")
        machine.send_console("${password}\n")
        machine.wait_for_console_text("domi-nix on machine")
        machine.wait_for_console_text("packages")

    with subtest("and over SSH where remote-access is attached"):
        remote.wait_for_unit("sshd.service")
        ssh = "ssh -i /etc/domi-nix-test/id_ed25519 -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10"
        # An interactive login shell (a command given to ssh would run without one).
        banner = machine.succeed(f"echo exit | {ssh} -tt domi@remote")
        assert "domi-nix on remote" in banner, banner
        assert "remote-access" in banner, banner
        status = json.loads(machine.succeed(f"{ssh} domi@remote domi-nix-shell status --json"))
        sshd = [s for s in status if s["unit"] == "sshd.service"]
        assert sshd and sshd[0]["active"] == "active", status
  '';
}
