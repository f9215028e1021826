# domi-nix remote-access: OpenSSH by key only.
#
#   domi-nix.remote-access.users.domi = [ "ssh-ed25519 AAAA… domi@laptop" ];
#
# No root login, no password or keyboard-interactive authentication (a key
# is the only way in), post-quantum hybrid key exchange first, AEAD ciphers
# and encrypt-then-MAC codes only, one ed25519 host key, keys only from the
# configuration. sshd runs under the `sandboxing` profile, relaxed by the
# exceptions below, each with its reason: an SSH session's processes are
# sshd's children and inherit its sandbox, so what would cripple an
# administrator's session, sudo included, cannot be kept.
#
# Priorities: the four promises (`promises` below) are plain definitions,
# so a host that defines one of them differently gets NixOS' "conflicting
# definition values" naming both files, and only `lib.mkForce` relaxes
# them. Everything else is `lib.mkOverride 900`: stronger than nixpkgs'
# defaults and `mkDefault`s (1000), weaker than a host's plain definition.
#
# `domi-nix.<branch>.enable` is not declared here: the branch's identity
# module (nix-modules/trunk/feature-identity.nix) declares it, true once the
# branch is imported, and `flake.nixosModules.<branch>` carries both.
{
  config,
  lib,
  options,
  ...
}: let
  cfg = config.domi-nix.remote-access;
  inherit (lib) concatLists filter mapAttrs mapAttrsToList mkIf mkOption types;

  # A domi-nix default: overridable by any plain definition.
  dflt = lib.mkOverride 900;

  # What the branch promises: only a key logs in, and never as root.
  promises = {
    PermitRootLogin = "no";
    PasswordAuthentication = false;
    KbdInteractiveAuthentication = false;
    AuthenticationMethods = "publickey";
  };

  # sshd_config(5) settings a host may tune with a plain definition.
  tunables = {
    # Post-quantum hybrids first (OpenSSH 9.9 and later), then X25519 for
    # clients without them; no finite-field Diffie-Hellman, no NIST curves.
    KexAlgorithms = [
      "mlkem768x25519-sha256"
      "sntrup761x25519-sha512"
      "sntrup761x25519-sha512@openssh.com"
      "curve25519-sha256"
      "curve25519-sha256@libssh.org"
    ];
    # Authenticated encryption only (no CTR modes).
    Ciphers = [
      "chacha20-poly1305@openssh.com"
      "aes256-gcm@openssh.com"
      "aes128-gcm@openssh.com"
    ];
    # Encrypt-then-MAC only, 128-bit tags and up.
    Macs = [
      "hmac-sha2-512-etm@openssh.com"
      "hmac-sha2-256-etm@openssh.com"
      "umac-128-etm@openssh.com"
    ];
    # No RSA key (a user's or a host's) shorter than 3072 bits.
    RequiredRSASize = 3072;
    # Three keys tried per connection, thirty seconds to authenticate.
    MaxAuthTries = 3;
    LoginGraceTime = 30;
    # Logs the fingerprint of the key each login used.
    LogLevel = "VERBOSE";
    X11Forwarding = false;
  };

  # The unit sshd runs as: one daemon, or one instance per connection.
  unit =
    if config.services.openssh.startWhenNeeded
    then "sshd@"
    else "sshd";

  # The sandboxing profile's directives sshd does not keep, with the value it
  # gets instead (null: systemd's own default) and why. A session inherits
  # sshd's sandbox, and sshd is the administrator's way into the machine.
  # Kept: AmbientCapabilities, SystemCallArchitectures, LockPersonality,
  # RestrictRealtime, RemoveIPC.
  exceptions = {
    DynamicUser = {
      value = false;
      reason = "sshd authenticates users and starts their sessions as them, so it runs as root";
    };
    PrivateUsers = {
      value = false;
      reason = "sshd switches to the user who logged in, which a user namespace without the host's users cannot";
    };
    CapabilityBoundingSet = {
      value = null;
      reason = "sshd needs root's capabilities to switch users, and root's session (through sudo) needs all of them";
    };
    NoNewPrivileges = {
      value = false;
      reason = "sudo and su are set-user-ID programs: with no new privileges, no session could become root";
    };
    RestrictSUIDSGID = {
      value = false;
      reason = "an administrator's session may create set-user-ID files (restoring a backup, NixOS' security wrappers)";
    };
    SystemCallFilter = {
      value = null;
      reason = "sshd chroots its pre-authentication process (@privileged), and sessions run any program, mount(8) and reboot(8) included";
    };
    MemoryDenyWriteExecute = {
      value = false;
      reason = "sessions run programs with JIT compilers (Node.js, the JVM, LuaJIT), which need writable and executable memory";
    };
    RestrictAddressFamilies = {
      value = null;
      reason = "sessions run any program: ip(8) and ss(8) need AF_NETLINK, tcpdump AF_PACKET";
    };
    RestrictNamespaces = {
      value = false;
      reason = "sessions start containers, unshare(1) and, as root, nix build's sandbox, which create namespaces";
    };
    IPAddressDeny = {
      value = null;
      reason = "sshd serves the network, not only the loopback";
    };
    IPAddressAllow = {
      value = null;
      reason = "nothing is denied (IPAddressDeny), so nothing needs allowing";
    };
    # Each of these gives sshd a mount namespace of its own, which its
    # sessions share: a file system an administrator mounts over SSH would
    # exist only for SSH sessions, not for the services that need it.
    PrivateMounts = {
      value = false;
      reason = "a mount namespace of sshd's own: mounts made in a session would not reach the rest of the system";
    };
    ProtectSystem = {
      value = false;
      reason = "an administrator's session writes /etc, /var, /nix/var and /boot (nixos-rebuild, package managers, editors)";
    };
    ProtectHome = {
      value = false;
      reason = "users' sessions live in their home directories";
    };
    PrivateTmp = {
      value = false;
      reason = "sessions would get a /tmp of their own, not the machine's one, in a mount namespace of sshd's own";
    };
    PrivateDevices = {
      value = false;
      reason = "an administrator's session needs the real /dev: disks, consoles, /dev/kvm";
    };
    ProtectKernelTunables = {
      value = false;
      reason = "an administrator's session sets sysctls and writes /sys";
    };
    ProtectKernelModules = {
      value = false;
      reason = "an administrator's session loads kernel modules (modprobe)";
    };
    ProtectKernelLogs = {
      value = false;
      reason = "an administrator's session reads the kernel log (dmesg)";
    };
    ProtectControlGroups = {
      value = false;
      reason = "an administrator's session runs container tools, which write /sys/fs/cgroup";
    };
    ProtectProc = {
      value = "default";
      reason = "`invisible` mounts a /proc of sshd's own, in a mount namespace of its own";
    };
    ProcSubset = {
      value = "all";
      reason = "sessions need all of /proc: free, uptime, top and ps read /proc/meminfo, /proc/stat and /proc/uptime";
    };
    ProtectHostname = {
      value = false;
      reason = "a UTS namespace of sshd's own: sessions would keep the host name sshd started with after `hostnamectl set-hostname`";
    };
    ProtectClock = {
      value = false;
      reason = "it implies DeviceAllow=char-rtc, which closes every other device (terminals included) to sessions, and takes CAP_SYS_TIME from root's";
    };
    DevicePolicy = {
      value = "auto";
      reason = "sessions need terminals (/dev/ptmx, /dev/pts), which `closed` does not allow, and administrators need disks";
    };
    UMask = {
      value = "0022";
      reason = "sessions inherit it: with 0077, files an administrator creates (in /etc, say) would be unreadable to the services that read them";
    };
  };

  # An authorized_keys line: optional options, a key type, base64 and an
  # optional comment.
  isPublicKey = key: builtins.match "(.+ )?(sk-)?(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521))(-cert-v01)?(@openssh[.]com)? AAAA[0-9A-Za-z+/]+=*( .*)?" key != null;

  shorten = s:
    if builtins.stringLength s > 40
    then "${builtins.substring 0 40 s}…"
    else s;

  checksOf = name: keys: let
    option = "domi-nix.remote-access.users.${name}";
    account = config.users.users.${name};
  in
    [
      {
        assertion = name != "root";
        message = "domi-nix: ${option}: root never logs in over SSH (PermitRootLogin is \"no\"). Fix: remove `root` from domi-nix.remote-access.users; log in as a member of `wheel` and use sudo.";
      }
      {
        assertion = keys != [];
        message = "domi-nix: ${option} has no keys, so `${name}` could never log in. Fix: add the line of the user's public key file (e.g. ~/.ssh/id_ed25519.pub), or remove the entry.";
      }
      {
        assertion = name == "root" || account.isNormalUser || account.isSystemUser;
        message = "domi-nix: ${option}: there is no account `${name}` (users.users.${name} is neither a normal nor a system user). Fix: declare it (`users.users.${name}.isNormalUser = true;`), or correct the name.";
      }
    ]
    ++ map (key: {
      assertion = false;
      message = "domi-nix: ${option}: `${shorten key}` is not an OpenSSH public key. Fix: paste the whole line of the public key file (`ssh-ed25519 AAAA… comment`), not a fingerprint, a path or a private key.";
    }) (filter (key: !isPublicKey key) keys);
in {
  options.domi-nix.remote-access = {
    users = mkOption {
      type = types.attrsOf (types.listOf types.singleLineStr);
      default = {};
      example = lib.literalExpression ''
        {
          domi = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… domi@laptop" ];
        }
      '';
      description = ''
        Who may log in, and with which keys: account name → its OpenSSH
        public keys (each the whole line of a `.pub` file). Each account must
        exist (`users.users.<name>`); `root` cannot be named (it never logs
        in over SSH). The keys are added to
        `users.users.<name>.openssh.authorizedKeys.keys`, which is the only
        place sshd reads keys from: `~/.ssh/authorized_keys` is not read.
      '';
    };

    port = mkOption {
      type = types.port;
      default = 22;
      example = 2222;
      description = "The TCP port sshd listens on (1 to 65535).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = true;
      example = false;
      description = ''
        Whether `port` is opened in the firewall, on every interface. On by
        default, as in nixpkgs' own sshd: remote access is the branch's
        purpose, and attaching it to a host reached over SSH must not close
        the port the host is reached by. Set it to false to open the port
        yourself, e.g. on one interface only
        (`networking.firewall.interfaces.<name>.allowedTCPPorts`).
      '';
    };
  };

  config = mkIf cfg.enable {
    services.openssh = {
      enable = true;
      ports = dflt [cfg.port];
      openFirewall = dflt cfg.openFirewall;
      # One host key, ed25519: no RSA or NIST-curve host key to audit.
      hostKeys = dflt [
        {
          type = "ed25519";
          path = "/etc/ssh/ssh_host_ed25519_key";
        }
      ];
      # Keys come from the configuration only (/etc/ssh/authorized_keys.d).
      authorizedKeysInHomedir = dflt false;
      settings = promises // mapAttrs (_: dflt) tunables;
    };

    users.users = mapAttrs (_: keys: {openssh.authorizedKeys.keys = keys;}) cfg.users;

    # Without the sandboxing branch (a hand-written `imports` that misses
    # it), the manifest's assertion names the missing branch.
    domi-nix =
      lib.optionalAttrs (options.domi-nix ? sandboxing) {
        sandboxing.services.${unit}.exceptions = exceptions;
      }
      // {
        # What the domi-nix shell shows the state of.
        features.remote-access.services = [
          (
            if config.services.openssh.startWhenNeeded
            then "sshd.socket"
            else "sshd.service"
          )
        ];
      };

    assertions =
      [
        {
          assertion = cfg.port != 0;
          message = "domi-nix: domi-nix.remote-access.port is 0, which no client can connect to. Fix: choose a port from 1 to 65535 (22 is SSH's).";
        }
      ]
      ++ concatLists (mapAttrsToList checksOf cfg.users);
  };
}
