# nixpkgs: nixos/lib/systemd-unit-options.nix
# The sub-options of `systemd.services.<name>`, with nixpkgs' types and
# defaults, and the job scripts `serviceOptions` turns into `Exec*`
# directives.
#
# Left out: `startLimitBurst` and `startLimitIntervalSec` (nixpkgs declares
# them without a default, and the offline evaluator forces every value: an
# option without one cannot be forced), and the other unit kinds' options.
{
  lib,
  systemdLib,
}: let
  inherit (lib) mkIf mkMerge mkOption types;
  inherit (systemdLib) checkService makeJobScript unitNameType unitOption;

  units = description:
    mkOption {
      type = types.listOf unitNameType;
      default = [];
      inherit description;
    };
in rec {
  sharedOptions = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the unit is installed; a disabled unit is masked (linked to /dev/null).";
    };
    name = mkOption {
      type = types.str;
      description = "The unit's file name, e.g. `sshd.service`.";
    };
    overrideStrategy = mkOption {
      type = types.enum ["asDropinIfExists" "asDropin"];
      default = "asDropinIfExists";
      description = "Whether the unit becomes a drop-in of a unit systemd or a package already ships.";
    };
    requiredBy = units "Units that require this one (symlinks in their .requires directories).";
    upheldBy = units "Units that uphold this one (symlinks in their .upholds directories).";
    wantedBy = units "Units that want this one (symlinks in their .wants directories, and `WantedBy=`).";
    aliases = units "Other names of the unit (symlinks).";
  };

  commonUnitOptions = {
    options =
      sharedOptions
      // {
        description = mkOption {
          type = types.singleLineStr;
          default = "";
          description = "The unit's `Description=`.";
        };
        documentation = mkOption {
          type = types.listOf types.str;
          default = [];
          description = "The unit's `Documentation=` URIs.";
        };
        requires = units "`Requires=` dependencies.";
        wants = units "`Wants=` dependencies.";
        upholds = units "`Upholds=` dependencies.";
        after = units "`After=` ordering.";
        before = units "`Before=` ordering.";
        bindsTo = units "`BindsTo=` dependencies.";
        partOf = units "`PartOf=` dependencies.";
        conflicts = units "`Conflicts=` units.";
        requisite = units "`Requisite=` dependencies.";
        unitConfig = mkOption {
          type = types.attrsOf unitOption;
          default = {};
          description = "Directives of the [Unit] section.";
        };
        onFailure = units "Units activated when this one fails.";
        onSuccess = units "Units activated when this one succeeds.";
      };
  };

  stage2CommonUnitOptions = {
    imports = [commonUnitOptions];
    options = {
      restartTriggers = mkOption {
        type = types.listOf types.unspecified;
        default = [];
        description = "Values whose change restarts the unit on a configuration switch.";
      };
      reloadTriggers = mkOption {
        type = types.listOf unitOption;
        default = [];
        description = "Values whose change reloads the unit on a configuration switch.";
      };
    };
  };

  serviceOptions = {
    name,
    config,
    ...
  }: {
    options = {
      environment = mkOption {
        type = types.attrsOf (types.nullOr (types.oneOf [types.str types.path types.package]));
        default = {};
        description = "Environment variables of the service's processes; null removes a global one.";
      };
      path = mkOption {
        type = types.listOf (types.oneOf [types.package types.str]);
        default = [];
        description = "Packages whose bin/ and sbin/ make up the service's PATH.";
      };
      serviceConfig = mkOption {
        type = types.addCheck (types.attrsOf unitOption) checkService;
        default = {};
        description = "Directives of the [Service] section.";
      };
      enableStrictShellChecks = mkOption {
        type = types.bool;
        description = "Whether the service's scripts are checked with shellcheck and run with errexit, nounset and pipefail.";
      };
      script = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run as the service's `ExecStart=`.";
      };
      scriptArgs = mkOption {
        type = types.str;
        default = "";
        description = "Arguments of `script`.";
      };
      preStart = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run before `script` (`ExecStartPre=`).";
      };
      postStart = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run after the service started (`ExecStartPost=`).";
      };
      reload = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands that reload the service (`ExecReload=`).";
      };
      preStop = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands that stop the service (`ExecStop=`).";
      };
      postStop = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run after the service stopped (`ExecStopPost=`).";
      };
      jobScripts = mkOption {
        type = types.coercedTo types.path lib.singleton (types.listOf types.path);
        default = [];
        internal = true;
        description = "The scripts made of the options above.";
      };
    };

    config = let
      script = suffix: text:
        makeJobScript {
          name = "${name}-${suffix}";
          inherit text;
          inherit (config) enableStrictShellChecks;
        };
    in
      mkMerge [
        (mkIf (config.preStart != "") rec {
          jobScripts = script "pre-start" config.preStart;
          serviceConfig.ExecStartPre = [jobScripts];
        })
        (mkIf (config.script != "") rec {
          jobScripts = script "start" config.script;
          serviceConfig.ExecStart = jobScripts + " " + config.scriptArgs;
        })
        (mkIf (config.postStart != "") rec {
          jobScripts = script "post-start" config.postStart;
          serviceConfig.ExecStartPost = [jobScripts];
        })
        (mkIf (config.reload != "") rec {
          jobScripts = script "reload" config.reload;
          serviceConfig.ExecReload = jobScripts;
        })
        (mkIf (config.preStop != "") rec {
          jobScripts = script "pre-stop" config.preStop;
          serviceConfig.ExecStop = jobScripts;
        })
        (mkIf (config.postStop != "") rec {
          jobScripts = script "post-stop" config.postStop;
          serviceConfig.ExecStopPost = jobScripts;
        })
      ];
  };

  stage2ServiceOptions = {
    imports = [stage2CommonUnitOptions serviceOptions];
    options = {
      restartIfChanged = mkOption {
        type = types.bool;
        default = true;
        description = "Whether a configuration switch restarts the service when its unit changed.";
      };
      reloadIfChanged = mkOption {
        type = types.bool;
        default = false;
        description = "Whether a configuration switch reloads, rather than restarts, the changed service.";
      };
      stopIfChanged = mkOption {
        type = types.bool;
        default = true;
        description = "Whether a changed service is stopped before the switch and started after it.";
      };
      notSocketActivated = mkOption {
        type = types.bool;
        default = false;
        description = "Whether a configuration switch restarts the service even when its socket is active.";
      };
      startAt = mkOption {
        type = types.either types.str (types.listOf types.str);
        default = [];
        apply = v:
          if lib.isList v
          then v
          else [v];
        description = "Calendar events that start the service (a timer).";
      };
    };
  };
}
