# What an evaluation says about one option: the priority of the definitions
# that win (`highestPrio`) and those definitions (file, value). Shared by the
# contract's own description (default.nix), the report of real nixpkgs
# (verify.nix) and the silent-drop check of the offline evaluator, so both
# sides of every comparison are computed by the same code.
#
# `relative` turns a definition's file into the name shown to people: a
# nixpkgs-relative path for nixpkgs' (and the contract's) files.
{
  lib,
  relative,
}: let
  inherit (lib) concatMap filter foldl' isAttrs;

  typeOf = v:
    if isAttrs v
    then v._type or ""
    else "";

  # JSON-safe and the same on both sides: packages, functions and paths are
  # opaque (their names differ between stubs and real packages).
  plain = v:
    if lib.isDerivation v
    then "<package>"
    else if builtins.isFunction v
    then "<function>"
    else if builtins.isPath v
    then "<path>"
    else if typeOf v == "pkgs"
    then "<pkgs>"
    else if typeOf v == "order"
    then plain v.content
    else if typeOf v == "override"
    then {
      "<priority>" = v.priority;
      value = plain v.content;
    }
    else if typeOf v == "if"
    then {
      "<if>" = v.condition;
      value = plain v.content;
    }
    else if isAttrs v
    then builtins.mapAttrs (_: plain) v
    else if builtins.isList v
    then map plain v
    # A store path differs between stubs and real packages.
    else if builtins.isString v && lib.hasInfix "/nix/store/" v
    then "<store path>"
    else v;

  # A value that fails to evaluate is reported, not fatal.
  safe = v: let
    attempt = builtins.tryEval (let p = plain v; in builtins.deepSeq p p);
  in
    if attempt.success
    then attempt.value
    else "<error>";

  # mkMerge and mkIf inside an attribute value, as the module system resolves them.
  discharge = v:
    if typeOf v == "merge"
    then concatMap discharge v.contents
    else if typeOf v == "if"
    then
      (
        if v.condition
        then discharge v.content
        else []
      )
    else [v];

  priorityOf = v:
    if typeOf v == "override"
    then v.priority
    else 100;

  contentOf = v:
    if typeOf v == "override"
    then contentOf v.content
    else v;

  # The winning group among raw definitions {file, value}.
  winners = defs: let
    priority = foldl' (p: d: lib.min p (priorityOf d.value)) 9999 defs;
  in {
    inherit priority;
    definitions = map (d: {
      file = relative d.file;
      value = safe (contentOf d.value);
    }) (filter (d: priorityOf d.value == priority) defs);
  };

  # The definitions of attribute `key` inside the option's definitions.
  keyDefinitions = defs: key:
    concatMap (d:
      if isAttrs d.value && d.value ? ${key}
      then
        map (value: {
          inherit (d) file;
          inherit value;
        }) (discharge d.value.${key})
      else [])
    defs;
in {
  inherit plain safe;

  # `keyed`: also report, per attribute of the option's value, the winning
  # definitions of that attribute (for attrsOf-like options such as sysctls).
  option = {
    opt,
    keyed ? false,
  }: let
    defs = opt.definitionsWithLocations;
    keys = lib.unique (concatMap (d:
      if isAttrs d.value && typeOf d.value == ""
      then builtins.attrNames d.value
      else [])
    defs);
  in
    {
      priority = opt.highestPrio;
      definitions = map (d:
        {file = relative d.file;}
        // lib.optionalAttrs (!keyed) {value = safe d.value;})
      defs;
    }
    // lib.optionalAttrs keyed {
      keys = lib.genAttrs keys (key: winners (keyDefinitions defs key));
    };
}
