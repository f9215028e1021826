# nixpkgs: nixos/lib/systemd-lib.nix
# The parts that shape a service before it becomes a unit file: the value
# type of unit directives, the unit name type, the directive checks, job
# scripts, and the config modules every service gets (`unitConfig`,
# `serviceConfig`, `stage2ServiceConfig`). The unit text itself
# (`serviceToUnit`, `attrsToSection`) is rendered by `cargo xtask audit`
# (tooling/dominix-audit/src/unit.rs), which follows this file's layout.
{
  config,
  lib,
  pkgs,
}: let
  inherit (lib) any concatMap concatStringsSep elem isList makeBinPath makeSearchPathOutput mkAfter mkIf mkOptionType optional optionalAttrs replaceStrings toList types;

  nixosConfig = config;
in rec {
  shellEscape = replaceStrings ["\\"] ["\\\\"];

  # A type for options that take a unit name.
  unitNameType = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)";

  # A directive's value: any value; definitions holding a list are
  # concatenated (each definition made a list), the others must be equal.
  unitOption = mkOptionType {
    name = "systemd option";
    merge = loc: defs:
      if any (def: isList def.value) defs
      then concatMap (def: toList def.value) defs
      else lib.mergeEqualOption loc defs;
  };

  assertValueOneOf = name: values: group: attr:
    optional (attr ? ${name} && !elem attr.${name} values)
    "Systemd ${group} field `${name}' cannot have value `${toString attr.${name}}'.";

  # Checks a whole `serviceConfig` definition, priorities and conditions
  # unwrapped; the messages are traced and the type check fails.
  checkUnitConfig = group: checks: attrs: let
    defs = builtins.mapAttrs (_: v:
      if (v._type or "") == "override" || (v._type or "") == "if"
      then v.content
      else v)
    attrs;
    errors = concatMap (c: c group defs) checks;
  in
    if errors == []
    then true
    else builtins.trace (concatStringsSep "\n" errors) false;

  checkService = checkUnitConfig "Service" [
    (assertValueOneOf "Type" ["exec" "simple" "forking" "oneshot" "dbus" "notify" "notify-reload" "idle"])
    (assertValueOneOf "Restart" ["no" "on-success" "on-failure" "on-abnormal" "on-abort" "always"])
  ];

  # The store path of a service's script: nixpkgs writes it with
  # writeShellScriptBin (or writeShellApplication under strict shell
  # checks) and renames the derivation `unit-script-<name>`; offline, a stub
  # of that name stands in.
  makeJobScript = {
    name,
    text,
    enableStrictShellChecks,
  }: let
    scriptName = replaceStrings ["\\" "@"] ["-" "_"] (shellEscape name);
    derivationName = "unit-script-${scriptName}";
    out =
      if !enableStrictShellChecks
      then pkgs.writeShellScriptBin derivationName text
      else
        pkgs.writeShellApplication {
          name = derivationName;
          inherit text;
        };
  in "${out}/bin/${scriptName}";

  # The [Unit] directives every unit gets from its options.
  unitConfig = {
    config,
    name,
    ...
  }: {
    config.unitConfig =
      optionalAttrs (config.requires != []) {Requires = toString config.requires;}
      // optionalAttrs (config.wants != []) {Wants = toString config.wants;}
      // optionalAttrs (config.upholds != []) {Upholds = toString config.upholds;}
      // optionalAttrs (config.after != []) {After = toString config.after;}
      // optionalAttrs (config.before != []) {Before = toString config.before;}
      // optionalAttrs (config.bindsTo != []) {BindsTo = toString config.bindsTo;}
      // optionalAttrs (config.partOf != []) {PartOf = toString config.partOf;}
      // optionalAttrs (config.conflicts != []) {Conflicts = toString config.conflicts;}
      // optionalAttrs (config.requisite != []) {Requisite = toString config.requisite;}
      // optionalAttrs (config ? restartTriggers && config.restartTriggers != []) {
        # nixpkgs: a text file of the triggers; its content is never read here.
        X-Restart-Triggers = "${pkgs.writeText "X-Restart-Triggers-${name}" ""}";
      }
      // optionalAttrs (config ? reloadTriggers && config.reloadTriggers != []) {
        X-Reload-Triggers = "${pkgs.writeText "X-Reload-Triggers-${name}" ""}";
      }
      // optionalAttrs (config.description != "") {Description = config.description;}
      // optionalAttrs (config.documentation != []) {Documentation = toString config.documentation;}
      // optionalAttrs (config.onFailure != []) {OnFailure = toString config.onFailure;}
      // optionalAttrs (config.onSuccess != []) {OnSuccess = toString config.onSuccess;};
    # nixpkgs also writes StartLimitIntervalSec and StartLimitBurst when
    # those options are defined; the contract does not declare them.
  };

  serviceConfig = {
    config,
    name,
    ...
  }: {
    config = {
      name = "${name}.service";
      environment.PATH = mkIf (config.path != []) "${makeBinPath config.path}:${makeSearchPathOutput "bin" "sbin" config.path}";
      enableStrictShellChecks = lib.mkOptionDefault nixosConfig.systemd.enableStrictShellChecks;
    };
  };

  # Every system service's default PATH entries, after the unit's own.
  stage2ServiceConfig = {
    imports = [serviceConfig];
    config.path = mkAfter [pkgs.coreutils pkgs.findutils pkgs.gnugrep pkgs.gnused nixosConfig.systemd.package];
  };
}
