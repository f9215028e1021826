# nixpkgs: nixos/modules/services/networking/ssh/sshd.nix (nixos-25.11)
#
# The `services.openssh` options domi-nix sets or reads, or that the
# definitions below read, with nixpkgs' types and defaults (the per-user
# `openssh.authorizedKeys` options it adds to `users.users` are declared
# with the user submodule, in config/users-groups.nix); and what it defines
# once enabled: the sshd, sshd@ and sshd-keygen services, the
# firewall ports, the privilege-separation user, /etc/ssh/…, its own part of
# `authorizedKeysFiles` and `extraConfig`, and its assertions.
#
# Not modelled, with why:
# - `moduliFile` and `sftpServerExecutable` have no default (nixpkgs defines
#   them with mkDefault once enabled), and the offline evaluator forces every
#   contract option: their values are written where they are used;
# - `authorizedPrincipals` and `AuthorizedPrincipalsFile`'s definition
#   (principals are not modelled, so that definition never applies), the
#   Kerberos/GSSAPI and X11 assertions (their packages and
#   `programs.ssh.setXAuthLocation` are not modelled; the XAuthLocation line of
#   `extraConfig` is left out for the same reason), the systemd socket of
#   `startWhenNeeded`, the tmpfiles rules provisioning root's key from a
#   credential, `users.groups.sshd`, `security.pam.services.sshd` and the
#   build-time `sshd -t` check of `system.checks`.
# - 25.11 is reconstructed from the versions before and after it: whether
#   sshd.service is `Type = "notify-reload"` (nixpkgs #427620, opened July
#   2025) and whether `listenAddresses.*.port` is `nullOr int` or
#   `nullOr port` are for `cargo xtask contract verify` to confirm.
{
  config,
  lib,
  pkgs,
  ...
}: let
  inherit (lib) mkOption types;
  cfg = config.services.openssh;

  # sshd_config(5) wants `yes`/`no` and one `Key value` per line; the
  # algorithm lists are comma-separated, the user and file lists spaces.
  settingsFormat = let
    mkValueString = v:
      if lib.isInt v
      then toString v
      else if lib.isString v
      then v
      else if v == true
      then "yes"
      else if v == false
      then "no"
      else throw "unsupported type ${builtins.typeOf v}: ${lib.generators.toPretty {} v}";
    base = pkgs.formats.keyValue {
      mkKeyValue = lib.generators.mkKeyValueDefault {inherit mkValueString;} " ";
    };
    commaSeparated = ["Ciphers" "KexAlgorithms" "Macs"];
    spaceSeparated = ["AuthorizedKeysFile" "AllowGroups" "AllowUsers" "DenyGroups" "DenyUsers"];
  in {
    inherit (base) type;
    generate = name: value:
      base.generate name (lib.mapAttrs (key: val:
        if lib.isList val
        then
          (
            if lib.elem key commaSeparated
            then lib.concatStringsSep "," val
            else if lib.elem key spaceSeparated
            then lib.concatStringsSep " " val
            else throw "list value for unknown key ${key}: ${lib.generators.toPretty {} val}"
          )
        else val)
      value);
  };

  # The final sshd_config: the settings (sorted by key), then extraConfig.
  # sshd keeps the first value it reads of most keywords, so `settings` wins
  # over anything `extraConfig` repeats.
  configFile = settingsFormat.generate "sshd.conf-settings" (lib.filterAttrs (_: v: v != null) cfg.settings);
  sshconf = pkgs.runCommand "sshd.conf-final" {} ''
    cat ${configFile} - >$out <<EOL
    ${cfg.extraConfig}
    EOL
  '';

  sshd = lib.getExe' cfg.package "sshd";
  moduliFile = "${cfg.package}/etc/ssh/moduli";
  sftpServerExecutable = "${cfg.package}/libexec/sftp-server";

  usersWithKeys = lib.filter (u: u.openssh.authorizedKeys.keys != [] || u.openssh.authorizedKeys.keyFiles != []) (lib.attrValues config.users.users);

  authKeysFiles = lib.listToAttrs (map (u:
    lib.nameValuePair "ssh/authorized_keys.d/${u.name}" {
      mode = "0444";
      source = pkgs.writeText "${u.name}-authorized_keys" ''
        ${lib.concatStringsSep "\n" u.openssh.authorizedKeys.keys}
        ${lib.concatMapStrings (f: builtins.readFile f + "\n") u.openssh.authorizedKeys.keyFiles}
      '';
    })
  usersWithKeys);

  nullOrBool = default: description:
    mkOption {
      type = types.nullOr types.bool;
      inherit default description;
    };
  algorithms = default: description:
    mkOption {
      type = types.nullOr (types.listOf types.str);
      inherit default description;
    };
  users = description:
    mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      inherit description;
    };
in {
  options.services.openssh = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to run the OpenSSH daemon.";
    };

    package = mkOption {
      type = types.package;
      default = config.programs.ssh.package;
      defaultText = lib.literalExpression "programs.ssh.package";
      description = "The OpenSSH package sshd runs from.";
    };

    startWhenNeeded = mkOption {
      type = types.bool;
      default = false;
      description = "Whether sshd is socket-activated, one `sshd@` instance per connection, instead of running all the time.";
    };

    allowSFTP = mkOption {
      type = types.bool;
      default = true;
      description = "Whether sshd offers the SFTP subsystem.";
    };

    sftpFlags = mkOption {
      type = types.listOf types.str;
      default = [];
      description = "Command-line flags of sftp-server.";
    };

    ports = mkOption {
      type = types.listOf types.port;
      default = [22];
      description = "The ports sshd listens on.";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = true;
      description = "Whether `ports` are opened in the firewall.";
    };

    listenAddresses = mkOption {
      type = types.listOf (types.submodule {
        options = {
          addr = mkOption {
            type = types.nullOr types.str;
            default = null;
            description = "Host name or address to listen on.";
          };
          port = mkOption {
            type = types.nullOr types.int;
            default = null;
            description = "Port to listen on there; null for every one of `ports`.";
          };
        };
      });
      default = [];
      description = "Addresses (and ports) sshd listens on (`ListenAddress`); none means every address. Their ports are not opened in the firewall.";
    };

    hostKeys = mkOption {
      type = types.listOf types.attrs;
      default = [
        {
          type = "rsa";
          bits = 4096;
          path = "/etc/ssh/ssh_host_rsa_key";
        }
        {
          type = "ed25519";
          path = "/etc/ssh/ssh_host_ed25519_key";
        }
      ];
      description = "Host keys (`type`, `path`, optional `bits`, `comment`, `openSSHFormat`), generated by sshd-keygen.service when missing.";
    };

    banner = mkOption {
      type = types.nullOr types.lines;
      default = null;
      description = "Text shown to a client before authentication.";
    };

    authorizedKeysFiles = mkOption {
      type = types.listOf types.str;
      default = [];
      description = "Files sshd reads authorized keys from (`AuthorizedKeysFile`, with its %-tokens).";
    };

    authorizedKeysInHomedir = mkOption {
      type = types.bool;
      default = true;
      description = "Whether ~/.ssh/authorized_keys is read; otherwise only /etc/ssh/authorized_keys.d/<user>, written from the configuration.";
    };

    authorizedKeysCommand = mkOption {
      type = types.str;
      default = "none";
      description = "A program that prints a user's authorized keys (`AuthorizedKeysCommand`).";
    };

    authorizedKeysCommandUser = mkOption {
      type = types.str;
      default = "nobody";
      description = "The account `authorizedKeysCommand` runs as.";
    };

    settings = mkOption {
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          AuthorizedPrincipalsFile = mkOption {
            type = types.nullOr types.str;
            default = "none";
            description = "File of principal names accepted for certificate authentication.";
          };
          LogLevel = mkOption {
            type = types.nullOr (types.enum ["QUIET" "FATAL" "ERROR" "INFO" "VERBOSE" "DEBUG" "DEBUG1" "DEBUG2" "DEBUG3"]);
            default = "INFO";
            description = "How much sshd logs.";
          };
          UsePAM =
            lib.mkEnableOption "PAM authentication"
            // {
              default = true;
              type = types.nullOr types.bool;
            };
          UseDns = nullOrBool false "Whether sshd looks up the client's host name.";
          X11Forwarding = nullOrBool false "Whether X11 connections are forwarded.";
          PasswordAuthentication = nullOrBool true "Whether password authentication is allowed.";
          PermitRootLogin = mkOption {
            type = types.nullOr (types.enum ["yes" "without-password" "prohibit-password" "forced-commands-only" "no"]);
            default = "prohibit-password";
            description = "Whether and how root may log in.";
          };
          KbdInteractiveAuthentication = nullOrBool true "Whether keyboard-interactive authentication is allowed.";
          GatewayPorts = mkOption {
            type = types.nullOr types.str;
            default = "no";
            description = "Whether remote hosts may connect to ports forwarded for the client.";
          };
          KexAlgorithms = algorithms [
            "mlkem768x25519-sha256"
            "sntrup761x25519-sha512"
            "sntrup761x25519-sha512@openssh.com"
            "curve25519-sha256"
            "curve25519-sha256@libssh.org"
            "diffie-hellman-group-exchange-sha256"
          ] "Key exchange algorithms, in order of preference.";
          Macs = algorithms [
            "hmac-sha2-512-etm@openssh.com"
            "hmac-sha2-256-etm@openssh.com"
            "umac-128-etm@openssh.com"
          ] "Message authentication codes, in order of preference.";
          StrictModes = nullOrBool true "Whether sshd checks the modes and owners of the user's files before a login.";
          Ciphers = algorithms [
            "chacha20-poly1305@openssh.com"
            "aes256-gcm@openssh.com"
            "aes128-gcm@openssh.com"
            "aes256-ctr"
            "aes192-ctr"
            "aes128-ctr"
          ] "Ciphers, in order of preference.";
          AllowUsers = users "If set, only these users may log in.";
          DenyUsers = users "If set, these users may not log in.";
          AllowGroups = users "If set, only members of these groups may log in.";
          DenyGroups = users "If set, members of these groups may not log in.";
          PrintMotd =
            lib.mkEnableOption "printing /etc/motd when a user logs in interactively"
            // {
              type = types.nullOr types.bool;
            };
        };
      };
      default = {};
      description = "sshd_config(5) settings: the declared keys, and any other keyword as a string, number or boolean.";
    };

    extraConfig = mkOption {
      type = types.lines;
      default = "";
      description = "Lines appended to sshd_config, after `settings`.";
    };
  };

  config = lib.mkIf cfg.enable {
    users.users.sshd = {
      isSystemUser = true;
      group = "sshd";
      description = "SSH privilege separation user";
    };

    environment.etc =
      authKeysFiles
      // {
        "ssh/moduli".source = moduliFile;
        "ssh/sshd_config".source = sshconf;
      };

    systemd.services = {
      "sshd@" = {
        description = "SSH per-connection Daemon";
        after = ["network.target" "sshd-keygen.service"];
        wants = ["sshd-keygen.service"];
        stopIfChanged = false;
        path = [cfg.package];
        environment.LD_LIBRARY_PATH = config.system.nssModules.path;
        serviceConfig = {
          ExecStart = lib.concatStringsSep " " ["-${sshd}" "-i" "-D" "-f /etc/ssh/sshd_config"];
          KillMode = "process";
          StandardInput = "socket";
          StandardError = "journal";
        };
      };

      sshd = lib.mkIf (!cfg.startWhenNeeded) {
        description = "SSH Daemon";
        wantedBy = ["multi-user.target"];
        after = ["network.target" "sshd-keygen.service"];
        wants = ["sshd-keygen.service"];
        stopIfChanged = false;
        path = [cfg.package];
        environment.LD_LIBRARY_PATH = config.system.nssModules.path;
        restartTriggers = [config.environment.etc."ssh/sshd_config".source];
        serviceConfig = {
          Type = "notify-reload";
          Restart = "always";
          ExecStart = lib.concatStringsSep " " [sshd "-D" "-f" "/etc/ssh/sshd_config"];
          KillMode = "process";
        };
      };

      sshd-keygen = {
        description = "SSH Host Keys Generation";
        unitConfig.ConditionFileNotEmpty = map (k: "|!${k.path}") cfg.hostKeys;
        serviceConfig.Type = "oneshot";
        path = [cfg.package];
        script =
          lib.concatMapStrings (k: ''
            if ! [ -s "${k.path}" ]; then
                if ! [ -h "${k.path}" ]; then
                    rm -f "${k.path}"
                fi
                mkdir -p "$(dirname '${k.path}')"
                chmod 0755 "$(dirname '${k.path}')"
                ssh-keygen \
                  -t "${k.type}" \
                  ${lib.optionalString (k ? bits) "-b ${toString k.bits}"} \
                  ${lib.optionalString (k ? comment) "-C '${k.comment}'"} \
                  ${lib.optionalString (k ? openSSHFormat && k.openSSHFormat) "-o"} \
                  -f "${k.path}" \
                  -N ""
            fi
          '')
          cfg.hostKeys;
      };
    };

    networking.firewall.allowedTCPPorts = lib.optionals cfg.openFirewall cfg.ports;

    # Merged with the lists other modules give (nixpkgs #10155, #41745).
    services.openssh.authorizedKeysFiles =
      lib.optional cfg.authorizedKeysInHomedir "%h/.ssh/authorized_keys"
      ++ ["/etc/ssh/authorized_keys.d/%u"];

    # First in the merged `lines`, so it opens the extraConfig part of the file.
    services.openssh.extraConfig = lib.mkOrder 0 ''
      Banner ${
        if cfg.banner == null
        then "none"
        else pkgs.writeText "ssh_banner" cfg.banner
      }

      AddressFamily ${
        if config.networking.enableIPv6
        then "any"
        else "inet"
      }
      ${lib.concatMapStrings (port: ''
          Port ${toString port}
        '')
        cfg.ports}

      ${lib.concatMapStrings ({
          port,
          addr,
          ...
        }: ''
          ListenAddress ${addr}${lib.optionalString (port != null) (":" + toString port)}
        '')
        cfg.listenAddresses}

      ${lib.optionalString cfg.allowSFTP ''
        Subsystem sftp ${sftpServerExecutable} ${lib.concatStringsSep " " cfg.sftpFlags}
      ''}
      AuthorizedKeysFile ${toString cfg.authorizedKeysFiles}
      ${lib.optionalString (cfg.authorizedKeysCommand != "none") ''
        AuthorizedKeysCommand ${cfg.authorizedKeysCommand}
        AuthorizedKeysCommandUser ${cfg.authorizedKeysCommandUser}
      ''}

      ${lib.concatMapStrings (k: ''
          HostKey ${k.path}
        '')
        cfg.hostKeys}
    '';

    assertions =
      [
        (let
          duplicates = lib.filter (l: lib.length l > 1) (lib.attrValues (lib.groupBy lib.toLower (lib.attrNames cfg.settings)));
        in {
          assertion = duplicates == [];
          message = "Duplicate sshd config key; does your capitalization match the option's? Duplicate keys: ${lib.concatMapStringsSep ", " (d: "(${lib.concatStringsSep ", " d})") duplicates}";
        })
      ]
      ++ map ({addr, ...}: {
        assertion = addr != null;
        message = "addr must be specified in each listenAddresses entry";
      })
      cfg.listenAddresses;
  };
}
