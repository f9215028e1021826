# Offline module evaluation: the `module-eval` tier.
#
# Evaluates the trunk and selected branches with nixpkgs' `lib` only, against
# the NixOS contract (nix-modules/contract) instead of all of nixpkgs: the
# options domi-nix uses, and the definitions nixpkgs itself makes of them, in
# the context the configuration is built in:
#
#   system -- a NixOS system (`nixosConfigurations.*`);
#   vm     -- its VM variant (`packages.*.vm-*`, `cargo xtask vm`): qemu-vm.nix
#             and `virtualisation.vmVariant`, with the Linux VM adapter;
#   test   -- one node of a branch's `vm-test.nix`, as the NixOS test
#             framework builds it (qemu-vm.nix, test-instrumentation.nix,
#             nodes.nix, the test's `defaults` and the node's module).
#
# It goes through the same top level as flake.nix — the same flake-parts
# module, the same fragments, the same modules — on the revisions pinned in
# flake.lock. `self` is the working tree as a string, so nothing here copies
# the workspace (or its target/ directory) into the Nix store.
#
# `request` is JSON (built by tooling/dominix-eval, never by string pasting),
# given as `request` or, past the 128 KiB one argument may have, in the file
# `requestFile`:
#   { "mode": "batch" | "single" | "describe-contract" | "tests",
#     "cases": { "<id>": { "features": [..], "settings": {..} (see `decode`), "select": ["a.b", ..],
#                          "context": "system" | "vm" | "test", "system": "x86_64-linux",
#                          "node": "<node name, for context test>" } },
#     "roots": { "<id>": "/absolute/path" } }
# `roots` (optional) evaluates a case in another copy of the checkout (its
# top level, fragments and trunk; the contract and the pinned inputs are
# shared): `cargo xtask mutants` batches many mutated copies in one process.
# The answer maps every case id to
#   { ok, features, assertions, warnings, config, drops }
# (`ok = false` only in batch mode, where a failing case does not stop the
# others; its error is then taken from a `single` run of that case alone).
# `drops` lists domi-nix definitions that lose to a nixpkgs definition of the
# same option. Mode `tests` answers, per branch with a vm-test.nix, its node
# names and test script.
{
  request ? null,
  requestFile ? null,
}: let
  req = builtins.fromJSON (
    if requestFile != null
    then builtins.readFile requestFile
    else request
  );

  # The flake inputs of the checkout at `root`, resolved from its flake.lock.
  inputsAt = root:
    import (root + "/nix-modules/lib/locked-inputs.nix") {
      lockFile = root + "/flake.lock";
      self = {outPath = toString root;};
    };
  inherit ((inputsAt ../..).nixpkgs-lib) lib;
  # The model of nixpkgs, this checkout's for every case: it describes
  # nixpkgs, not the branches, and is forced once however many checkouts a
  # request names.
  contract = import ../contract {inherit lib;};

  # A case's settings are JSON; `{ "_override": N, "value": V }` in them is
  # `lib.mkOverride N V`, so a test can define a value at any priority
  # (`mkDefault` is 1000, `mkForce` 50), as other modules would.
  decode = v:
    if builtins.isAttrs v && v ? _override
    then lib.mkOverride v._override (decode v.value)
    else if builtins.isAttrs v
    then builtins.mapAttrs (_: decode) v
    else if builtins.isList v
    then map decode v
    else v;

  # One checkout of domi-nix, its top level, catalog, fragments and trunk read
  # from `root`: this one, or (a case named in the request's `roots`) a copy
  # of it — `cargo xtask mutants` evaluates many copies, each with one
  # definition of a branch changed, in one process.
  checkoutAt = root: let
    inputs = inputsAt root;
    flake = inputs.flake-parts.lib.mkFlake {inherit inputs;} (root + "/nix-modules/flake-module.nix");
    modules = flake.nixosModules;
    catalog = import (root + "/nix-modules/lib/catalog.nix") {inherit lib;};

    # Every contract option plus the domi-nix namespace.
    defaultSelect = ["domi-nix"] ++ contract.options;

    # JSON-safe without side effects: a path becomes its string (toJSON would
    # copy it into the store), a derivation its outPath, a function a marker.
    plain = v:
      if builtins.isPath v
      then toString v
      else if lib.isDerivation v
      then v.outPath
      else if builtins.isFunction v
      then "<function>"
      else if (v._type or null) == "pkgs"
      then "<pkgs>"
      else if builtins.isAttrs v
      then builtins.mapAttrs (_: plain) v
      else if builtins.isList v
      then map plain v
      else v;

    # A branch's NixOS VM test, as written in its crate (`vm-test.nix`).
    testOf = name: let
      file = dirOf catalog.features.${name}.fragment + "/vm-test.nix";
      test = import file;
    in
      if builtins.pathExists file
      then
        (
          if builtins.isFunction test
          then test {inherit lib;}
          else test
        )
        // {_file = toString file;}
      else null;

    # The modules of one case, in its context.
    caseModules = case: features: let
      context = case.context or "system";
      branches = [modules.trunk] ++ map (name: modules.${name}) features;
      test = testOf (builtins.head (case.features or (throw "a test-node case names its branch in `features`")));
    in
      if context == "test"
      then
        branches
        ++ [
          {
            _file = "${test._file}#defaults";
            imports = [(test.defaults or {})];
          }
          {
            _file = "${test._file}#nodes.${case.node}";
            imports = [test.nodes.${case.node}];
          }
        ]
      else if context == "vm"
      then branches ++ [(root + "/nix-modules/vm/linux-host.nix")]
      else branches;

    settingsOf = id: case: {
      _file = "settings of test case `${id}`";
      config = decode (case.settings or {});
    };

    evaluate = id: case: declarationsOnly: features:
      contract.evaluate {
        context = case.context or "system";
        system = case.system or "x86_64-linux";
        node = case.node or "machine";
        modules = caseModules case features ++ [(settingsOf id case)];
        inherit declarationsOnly;
        # What VM-test nodes may import (nix-modules/systems.nix, mkFeatureChecks).
        specialArgs.branches = modules;
      };

    isNixpkgs = file: lib.hasPrefix "nixos/" file;

    # Domi-nix definitions that win without nixpkgs' definitions and lose with
    # them: each `{ option; key; files; priority; nixpkgs; nixpkgsPriority; }`.
    # `applied` lists the ones that do apply, so that a definition is reported
    # only where it never applies in any context (see tooling/dominix-eval).
    compare = full: alone: let
      one = option: key: withNixpkgs: without: let
        ours = builtins.filter (d: !isNixpkgs d.file) without.definitions;
        winning = map (d: d.file) withNixpkgs.definitions;
        theirs = builtins.filter isNixpkgs winning;
        lost = builtins.filter (d: !(builtins.elem d.file winning)) ours;
        kept = builtins.filter (d: builtins.elem d.file winning) ours;
      in {
        drops = lib.optional (lost != [] && theirs != []) {
          inherit option key;
          files = map (d: d.file) lost;
          priority = without.priority;
          nixpkgs = theirs;
          nixpkgsPriority = withNixpkgs.priority;
        };
        applied =
          map (d: {
            inherit option key;
            inherit (d) file;
          })
          kept;
      };
      perOption = option: let
        withNixpkgs = contract.definitionsIn full option;
        without = contract.definitionsIn alone option;
        keys = builtins.attrNames (without.keys or {});
      in
        if withNixpkgs == null || without == null
        then []
        else
          [(one option null withNixpkgs without)]
          ++ map (key:
            one option key (withNixpkgs.keys.${key}
              or {
                priority = 9999;
                definitions = [];
              })
            without.keys.${key})
          keys;
      results = lib.concatMap perOption contract.options;
    in {
      drops = lib.concatMap (r: r.drops) results;
      applied = lib.concatMap (r: r.applied) results;
    };

    evalCase = id: case: let
      features = catalog.closure (case.features or []);
      evaluated = evaluate id case false features;
      cfg = evaluated.config;
      compared = compare evaluated (evaluate id case true features);
      valueOf = path: plain (lib.attrByPath (lib.splitString "." path) null cfg);
      # Every contract option's value, forced: a conflict between definitions
      # (two `mkDefault`s of one string, say) fails here as it fails in NixOS.
      merged = builtins.deepSeq (map valueOf contract.options) true;
    in
      assert merged; {
        ok = true;
        inherit features;
        inherit (compared) drops applied;
        assertions = map (a: a.message) (builtins.filter (a: !a.assertion) cfg.assertions);
        inherit (cfg) warnings;
        config = lib.genAttrs (case.select or defaultSelect) valueOf;
      };

    tryCase = id: case: let
      attempt = builtins.tryEval (let v = evalCase id case; in builtins.deepSeq v v);
    in
      if attempt.success
      then attempt.value
      else {ok = false;};

    tests = lib.filterAttrs (_: t: t != null) (lib.mapAttrs (name: _: let
      test = testOf name;
    in
      if test == null
      then null
      else {
        file = test._file;
        name = test.name or name;
        nodes = builtins.attrNames (test.nodes or {});
        testScript = test.testScript or "";
      })
    catalog.features);
  in {inherit evalCase tryCase tests;};

  here = checkoutAt ../..;
  # `roots` maps case ids to the absolute path of the checkout to evaluate
  # them in (allowed in restricted mode by the caller); one checkout per root.
  roots = req.roots or {};
  checkouts = builtins.listToAttrs (map (root: {
    name = root;
    value = checkoutAt (/. + root);
  }) (builtins.attrValues roots));
  checkoutOf = id:
    if roots ? ${id}
    then checkouts.${roots.${id}}
    else here;

  mode = req.mode or "single";
in
  if mode == "describe-contract"
  then contract.describe
  else if mode == "tests"
  then here.tests
  else
    builtins.mapAttrs (id:
      (
        if mode == "batch"
        then (checkoutOf id).tryCase
        else (checkoutOf id).evalCase
      )
      id)
    req.cases
