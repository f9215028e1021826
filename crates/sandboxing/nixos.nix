# domi-nix sandboxing: any systemd service -- domi-nix's or nixpkgs' -- put
# under one strict profile by name:
#
#   domi-nix.sandboxing.services.my-service = {};
#
# The profile's directives are defined with priority 40, stronger than
# `lib.mkForce` (50): they win over every definition the unit has, nixpkgs'
# included, and a definition that would still replace one (stronger than 40,
# or a `mkForce` of the whole `serviceConfig`) fails evaluation, so a unit is
# relaxed only through a named exception that says why:
#
#   domi-nix.sandboxing.services.my-service.exceptions.PrivateUsers = {
#     value = false;
#     reason = "maps the host's user names in its logs";
#   };
#
# (`value = null` leaves the directive to the unit's own definitions.)
# `cargo xtask audit` scores every sandboxed unit with systemd's own
# analyzer and checks that systemd finds each directive kept.
#
# `domi-nix.<branch>.enable` is not declared here: the branch's identity
# module (nix-modules/trunk/feature-identity.nix) declares it, true once the
# branch is imported, and `flake.nixosModules.<branch>` carries both.
{
  config,
  lib,
  ...
}: let
  cfg = config.domi-nix.sandboxing;
  inherit (lib) concatLists filterAttrs mapAttrs mapAttrsToList mkIf mkOption types;

  # Stronger than lib.mkForce (50), the strongest priority modules use for
  # a directive; anything stronger fails an assertion below.
  priority = 40;

  # The profile, as systemd.exec(5) and systemd.resource-control(5) spell it.
  profile = {
    # A user allocated for the unit's lifetime (implies a private /tmp,
    # IPC and SUID/SGID restrictions).
    DynamicUser = true;
    # The file system: read-only /usr, /boot, /etc; no /home, /root, /run/user.
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    PrivateMounts = true;
    # No other users, no privileges.
    PrivateUsers = true;
    NoNewPrivileges = true;
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    # Local and Internet sockets only; no namespaces of its own.
    RestrictAddressFamilies = ["AF_UNIX" "AF_INET" "AF_INET6"];
    RestrictNamespaces = true;
    # System calls: a service's usual set, without privileged or resource-changing ones.
    SystemCallArchitectures = "native";
    SystemCallFilter = ["@system-service" "~@privileged @resources"];
    MemoryDenyWriteExecute = true;
    LockPersonality = true;
    # The kernel and the host.
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    ProcSubset = "pid";
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    RemoveIPC = true;
    UMask = "0077";
    # Loopback only, and no device nodes but the pseudo devices.
    IPAddressDeny = "any";
    IPAddressAllow = "localhost";
    DevicePolicy = "closed";
  };

  # How a directive's value reads in a unit file.
  show = value:
    if builtins.isBool value
    then lib.boolToString value
    else if builtins.isList value
    then lib.concatMapStringsSep " " show value
    else toString value;

  # What the profile's directives hold (nixpkgs' `unitOption` accepts these
  # and more): a switch, a word, or a list of words.
  directiveValue = let
    atom = types.oneOf [types.bool types.str];
  in
    types.oneOf [atom (types.listOf atom)];

  exceptionOption = unit: directive: default:
    mkOption {
      type = types.nullOr (types.submodule {
        options = {
          value = mkOption {
            type = types.nullOr directiveValue;
            example = false;
            description = ''
              The value `${unit}.service` gets for `${directive}` instead of
              the profile's; `null` leaves `${directive}` to the unit's own
              definitions.
            '';
          };
          reason = mkOption {
            type = types.str;
            default = "";
            example = "needs to read the host's user database";
            description = "Why `${unit}.service` needs `${directive}` relaxed. Required: an exception without one fails evaluation.";
          };
        };
      });
      default = null;
      description = "Relaxes `${directive}` (the profile sets `${directive}=${show default}`) for `${unit}.service`.";
    };

  serviceType = types.submodule ({name, ...}: {
    options.exceptions = mkOption {
      type = types.submodule {
        options = mapAttrs (exceptionOption name) profile;
      };
      default = {};
      example = lib.literalExpression ''
        {
          PrivateUsers = {
            value = false;
            reason = "maps the host's user names in its logs";
          };
        }
      '';
      description = ''
        The profile's directives `${name}.service` does not get as they are,
        each with the value it gets instead and the reason. Only the
        profile's directives can be named here.
      '';
    };
  });

  # The directives a sandboxed unit gets: the profile, with its exceptions.
  directivesOf = service: let
    excepted = filterAttrs (_: exception: exception != null) service.exceptions;
  in
    filterAttrs (_: value: value != null) (profile // mapAttrs (_: exception: exception.value) excepted);

  checksOf = unit: service: let
    option = "domi-nix.sandboxing.services.${unit}";
    defined = config.systemd.services.${unit};
    directives = directivesOf service;
    # systemd names a dynamic user after the unit unless `User=` says
    # otherwise, and keeps a static account of that name if there is one.
    user = toString (defined.serviceConfig.User or unit);
    static = lib.any (account: account.name == user) (builtins.attrValues config.users.users);
    excepted = filterAttrs (_: exception: exception != null) service.exceptions;
    # A definition stronger than the profile's on the whole `serviceConfig`
    # or the whole unit (`lib.mkForce { … }`) drops every directive at once.
    replaced = builtins.attrNames (filterAttrs (directive: value: (defined.serviceConfig.${directive} or null) != value) directives);
  in
    [
      {
        assertion = defined.script != "" || defined.serviceConfig ? ExecStart;
        message = "domi-nix: ${option}: no systemd service `${unit}` is defined (it has neither `script` nor `serviceConfig.ExecStart`). Fix: name a service some module defines (`systemd.services.<name>`, without `.service`), enable the module that defines it, or remove the entry. A unit that only systemd or a package ships cannot be sandboxed here: a drop-in would add to its list directives instead of replacing them.";
      }
      {
        assertion = !((directives.DynamicUser or false) && static);
        message = "domi-nix: ${option}: `${unit}` runs as `${user}`, a static account of users.users, which `DynamicUser` would silently keep. Fix: add `exceptions.DynamicUser = { value = false; reason = \"…\"; };` to ${option}, or let the unit run as a user no account has.";
      }
      {
        assertion = replaced == [];
        message = "domi-nix: ${option}: ${lib.concatMapStringsSep ", " (d: "`${d}`") replaced} of `${unit}` is not the profile's: a definition stronger than the profile (lib.mkForce on the whole `serviceConfig` or on `systemd.services.${unit}`) replaced it. Fix: define single directives instead, or name the relaxation in ${option}.exceptions.";
      }
    ]
    ++ mapAttrsToList (directive: exception: {
      assertion = lib.trim exception.reason != "";
      message = "domi-nix: ${option}.exceptions.${directive} has no reason. Fix: say why `${unit}` needs `${directive}` relaxed: `reason = \"…\";`.";
    })
    excepted;
in {
  options.domi-nix.sandboxing = {
    services = mkOption {
      type = types.attrsOf serviceType;
      default = {};
      example = lib.literalExpression ''
        {
          domi-nix-status = {};
          sshd.exceptions.DynamicUser = {
            value = false;
            reason = "authenticates users and starts their sessions as root";
          };
        }
      '';
      description = ''
        Systemd services (by the name under `systemd.services`, without
        `.service`) put under the sandboxing profile. Each must be defined by
        some module; its own definitions of the profile's directives are
        overridden, except where `exceptions` says otherwise.
      '';
    };

    profile = mkOption {
      type = types.attrsOf directiveValue;
      default = profile;
      readOnly = true;
      description = "The sandboxing profile every unit of `services` gets (read-only; relax it per unit with `exceptions`).";
    };
  };

  config = mkIf cfg.enable {
    systemd.services =
      mapAttrs (_: service: {
        serviceConfig = mapAttrs (_: lib.mkOverride priority) (directivesOf service);
      })
      cfg.services;

    assertions = concatLists (mapAttrsToList checksOf cfg.services);
  };
}
