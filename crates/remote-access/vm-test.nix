# NixOS VM test of the remote-access branch (`checks.<system>.remote-access`):
# a server with the branch and a client without it, on the test network
# (each reaches the other by its node name). From the client: a key logs in
# and its session can become root with sudo; a password and root are
# refused; ssh-audit finds no weak algorithm. On the server: sshd keeps the
# directives the branch keeps, and systemd's own analyzer gives it the band
# `cargo xtask audit` gives it offline.
let
  # The band `cargo xtask audit` gives sshd offline
  # (crates/remote-access/tests/audit.rs checks that the two agree).
  band = "UNSAFE";

  # TEST ONLY: a key pair made for this test and published with it, like
  # nixpkgs' snakeoil keys. Anyone can read the private half: never let it
  # log in anywhere else.
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
  name = "domi-nix-remote-access";

  nodes = {
    server = {
      # The trunk's VM login: `domi`, in wheel, password `domi-nix` -- a
      # real password, which SSH must refuse anyway.
      domi-nix.trunk.defaultLogin.enable = true;
      domi-nix.remote-access.users.domi = [testPublicKey];
      # Root gets the key too, through nixpkgs' own option: the branch must
      # refuse root even with a key that would log in.
      users.users.root.openssh.authorizedKeys.keys = [testPublicKey];
    };

    client = {pkgs, ...}: {
      domi-nix.remote-access.enable = false;
      environment.systemPackages = [pkgs.openssh pkgs.sshpass pkgs.ssh-audit];
      environment.etc."domi-nix-test/id_ed25519" = {
        mode = "0600";
        text = testPrivateKey;
      };
    };
  };

  # OpenSSH's PerSourcePenalties (on by default) shut out a source address
  # once its failed connections add up to 15 s (5 s per failed
  # authentication, 1 s per connection that never authenticates): every
  # login that must succeed comes first, and the refusals and ssh-audit's
  # handful of connections stay below that.
  testScript = ''
    import json

    # Host keys are learnt on first use, into root's ~/.ssh/known_hosts.
    common = "-o StrictHostKeyChecking=accept-new -o ConnectTimeout=10"
    ssh = f"ssh {common} -o BatchMode=yes -o IdentitiesOnly=yes -i /etc/domi-nix-test/id_ed25519"

    start_all()
    server.wait_for_unit("sshd.service")
    server.wait_for_open_port(22)
    client.wait_for_unit("multi-user.target")

    with subtest("a key logs in, through the firewall"):
        client.wait_until_succeeds(f"{ssh} domi@server true", timeout=60)
        assert client.succeed(f"{ssh} domi@server id -un").strip() == "domi"
        # The host key is ed25519.
        client.succeed("ssh-keygen -F server | grep -q ' ssh-ed25519 '")

    with subtest("the session is an administrator's, not a sandboxed one"):
        become_root = "echo domi-nix | sudo -S -p \"\" "
        assert client.succeed(f"{ssh} domi@server '{become_root} id -u'").strip() == "0"
        client.succeed(f"{ssh} domi@server '{become_root} touch /etc/remote-access-probe'")
        server.succeed("rm /etc/remote-access-probe")
        # Its home (ProtectHome), all of /proc (ProcSubset), the kernel log
        # (ProtectKernelLogs).
        client.succeed(f"{ssh} domi@server 'test -w $HOME'")
        client.succeed(f"{ssh} domi@server free")
        client.succeed(f"{ssh} domi@server '{become_root} dmesg >/dev/null'")
        # A terminal (DevicePolicy, ProtectClock) and the machine's own
        # mount namespace (every Protect*/Private* that would make one).
        assert client.succeed(f"{ssh} -tt domi@server tty").strip().startswith("/dev/pts/")
        session_ns = client.succeed(f"{ssh} domi@server readlink /proc/self/ns/mnt").strip()
        assert session_ns == server.succeed("readlink /proc/1/ns/mnt").strip(), session_ns
        status = client.succeed(f"{ssh} domi@server cat /proc/self/status")
        assert "NoNewPrivs:\t0" in status, status
        # The kept directives (a system call filter) reach the session too.
        assert "Seccomp:\t2" in status, status

    with subtest("sshd keeps what the branch keeps of the profile"):
        shown = server.succeed(
            "systemctl show sshd.service -p SystemCallArchitectures -p LockPersonality"
            " -p RestrictRealtime -p RemoveIPC -p AmbientCapabilities -p DynamicUser"
            " -p NoNewPrivileges -p ProtectSystem -p UMask"
        ).splitlines()
        for line in [
            "SystemCallArchitectures=native",
            "LockPersonality=yes",
            "RestrictRealtime=yes",
            "RemoveIPC=yes",
            "AmbientCapabilities=",
            "DynamicUser=no",
            "NoNewPrivileges=no",
            "ProtectSystem=no",
            "UMask=0022",
        ]:
            assert line in shown, f"{line} not in {shown}"

    with subtest("a password is refused, the right one included"):
        out = client.fail(
            f"sshpass -p domi-nix ssh {common} -v -o PubkeyAuthentication=no"
            " -o PreferredAuthentications=password,keyboard-interactive domi@server true 2>&1"
        )
        # Neither passwords nor keyboard-interactive are even offered.
        offered = [
            line.split(": ", 1)[1].strip()
            for line in out.splitlines()
            if "Authentications that can continue:" in line
        ]
        assert offered and all(o == "publickey" for o in offered), out
        assert "Permission denied (publickey)" in out, out

    with subtest("root is refused, even with a key it has"):
        out = client.fail(f"{ssh} root@server true 2>&1")
        assert "Permission denied (publickey)" in out, out
        server.wait_until_succeeds("journalctl --no-pager -u sshd.service | grep -q 'ROOT LOGIN REFUSED'")

    with subtest("ssh-audit finds no weak algorithm"):
        # Exit 0: no failure and no warning.
        report = json.loads(client.succeed("ssh-audit --skip-rate-test -j server"))

        def names(items):
            return [i["algorithm"] if isinstance(i, dict) else i for i in items]

        markers = ("ext-info-", "kex-strict-")
        kex = [k for k in names(report["kex"]) if not k.startswith(markers)]
        assert kex == [
            "mlkem768x25519-sha256",
            "sntrup761x25519-sha512",
            "sntrup761x25519-sha512@openssh.com",
            "curve25519-sha256",
            "curve25519-sha256@libssh.org",
        ], kex
        assert names(report["key"]) == ["ssh-ed25519"], report["key"]
        assert names(report["enc"]) == [
            "chacha20-poly1305@openssh.com",
            "aes256-gcm@openssh.com",
            "aes128-gcm@openssh.com",
        ], report["enc"]
        assert names(report["mac"]) == [
            "hmac-sha2-512-etm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
            "umac-128-etm@openssh.com",
        ], report["mac"]

    with subtest("systemd's analyzer on the server gives the audited band"):
        overall = server.succeed("systemd-analyze security sshd.service | tail -n 1")
        assert "Overall exposure level for sshd.service" in overall, overall
        assert " ${band} " in overall, overall
  '';
}
