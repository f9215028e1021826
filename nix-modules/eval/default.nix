# Offline module evaluation: the `module-eval` tier.
#
# Evaluates the trunk and selected branches with nixpkgs' `lib` only, against
# the NixOS contract (nix-modules/contract) instead of all of nixpkgs. It goes
# through the same top level as flake.nix — the same flake-parts module, the
# same fragments, the same `flake.modules.nixos.*` — on the revisions pinned
# in flake.lock. `self` is the working tree as a string, so nothing here copies
# the workspace (or its target/ directory) into the Nix store.
#
# `request` is JSON (built by crates/dominix-eval, never by string pasting):
#   { "mode": "batch" | "single" | "describe-contract",
#     "cases": { "<id>": { "features": [..], "settings": {..}, "select": ["a.b", ..] } } }
# The answer maps every case id to
#   { ok, features, assertions, warnings, config }   (`ok = false` only in batch mode,
# where a failing case does not stop the others; its error is then taken from a
# `single` run of that case alone).
{request}: let
  req = builtins.fromJSON request;

  root = ../..;
  inputs = import ../lib/locked-inputs.nix {
    lockFile = root + "/flake.lock";
    self = {outPath = toString root;};
  };
  inherit (inputs.nixpkgs-lib) lib;

  flake = inputs.flake-parts.lib.mkFlake {inherit inputs;} ../flake-module.nix;
  modules = flake.modules.nixos;
  catalog = import ../lib/catalog.nix {inherit lib;};
  contract = import ../contract {inherit lib;};

  # Every contract option plus the domi-nix namespace.
  defaultSelect = ["domi-nix"] ++ builtins.attrNames contract.options;

  # JSON-safe without side effects: a path becomes its string (toJSON would
  # copy it into the store), a derivation its outPath, a function a marker.
  plain = v:
    if builtins.isPath v
    then toString v
    else if lib.isDerivation v
    then v.outPath
    else if builtins.isFunction v
    then "<function>"
    else if builtins.isAttrs v
    then builtins.mapAttrs (_: plain) v
    else if builtins.isList v
    then map plain v
    else v;

  evalCase = id: case: let
    features = catalog.closure (case.features or []);
    evaluated = lib.evalModules {
      class = "nixos";
      modules =
        [
          contract.module
          {_module.args.pkgs = contract.pkgs;}
          modules.trunk
        ]
        ++ map (name: modules.${name}) features
        ++ [
          {
            _file = "settings of test case `${id}`";
            config = case.settings or {};
          }
        ];
    };
    cfg = evaluated.config;
  in {
    ok = true;
    inherit features;
    assertions = map (a: a.message) (builtins.filter (a: !a.assertion) cfg.assertions);
    inherit (cfg) warnings;
    config = lib.genAttrs (case.select or defaultSelect) (path: plain (lib.getAttrFromPath (lib.splitString "." path) cfg));
  };

  tryCase = id: case: let
    attempt = builtins.tryEval (let v = evalCase id case; in builtins.deepSeq v v);
  in
    if attempt.success
    then attempt.value
    else {ok = false;};
in
  if (req.mode or "single") == "describe-contract"
  then contract.describe
  else
    builtins.mapAttrs (
      if (req.mode or "single") == "batch"
      then tryCase
      else evalCase
    )
    req.cases
