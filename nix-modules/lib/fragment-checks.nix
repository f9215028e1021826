# What a branch's fragment defines that no part of domi-nix reads: each an
# error naming the file and the spelling to use, so that a module never goes
# silently unevaluated. Checked where every consumer of
# `dominix.modules` passes (its `apply`, nix-modules/flake-module.nix):
#
#   - `flake.modules.*`: flake-parts' `modules` extra, and the usual
#     spelling of the dendritic pattern; domi-nix's is `dominix.modules`;
#   - `flake.nixosModules.*`: the top level publishes every branch's
#     `nixosModules.<name>` itself, from `dominix.modules.nixos.<name>`;
#   - `dominix.modules.<class>.<other>`: a module under another branch's
#     name (a fragment defines its own branch only).
#
# Only the raw definitions are read (`definitionsWithLocations`), never a
# merged value, and `mkIf`/`mkMerge` are looked through without forcing
# their conditions.
{
  lib,
  # The top level's `options`.
  options,
  # The catalog (nix-modules/lib/catalog.nix).
  catalog,
  # The workspace root, to name files relative to it.
  root,
}: let
  inherit (lib) attrNames concatMap filter;

  # Fragment file (as a string) → its branch's name.
  branchOf = builtins.listToAttrs (map (f: {
    name = toString f.fragment;
    value = f.name;
  }) (builtins.attrValues catalog.features));

  relative = file: lib.removePrefix "${toString root}/" (toString file);

  # The attribute sets a raw definition holds, `mkIf`/`mkMerge` looked through.
  contents = value:
    if !builtins.isAttrs value
    then []
    else if (value._type or "") == "merge"
    then concatMap contents value.contents
    else if (value._type or "") == "if" || (value._type or "") == "override" || (value._type or "") == "order"
    then contents value.content
    else [value];

  # `flake.modules.nixos.x` for every class and name a definition holds.
  spelled = prefix: modules:
    lib.concatMapStringsSep ", " (class: let
      names = lib.concatMap attrNames (contents modules.${class});
    in
      lib.concatMapStringsSep ", " (name: "`${prefix}.${class}.${name}`") (
        if names == []
        then ["…"]
        else names
      )) (lib.concatMap attrNames (contents modules));

  fromFragments = option:
    filter (def: branchOf ? ${toString def.file}) (option.definitionsWithLocations or []);

  flakeProblems = concatMap (def: let
    branch = branchOf.${toString def.file};
    file = relative def.file;
    own = "dominix.modules.nixos.${branch} = ./nixos.nix;";
  in
    concatMap (value:
      lib.optional (value ? modules)
      "${file} defines ${spelled "flake.modules" value.modules}, which domi-nix never reads (flake-parts' `modules` spelling). Fix: write `${own}`"
      ++ lib.optional (value ? nixosModules)
      "${file} defines `flake.nixosModules`, which the top level publishes itself for every branch. Fix: write `${own}`; it becomes `nixosModules.${branch}`")
    (contents def.value))
  (fromFragments options.flake);

  moduleProblems = concatMap (def: let
    branch = branchOf.${toString def.file};
    file = relative def.file;
  in
    concatMap (value:
      concatMap (class:
        map (name: "${file} defines `dominix.modules.${class}.${name}`, a module under another branch's name. Fix: a fragment defines only its own branch, `dominix.modules.${class}.${branch}`; move the module to crates/${name}/ or rename it")
        (filter (name: name != branch) (attrNames (lib.foldl' (a: b: a // b) {} (contents value.${class})))))
      (attrNames value))
    (contents def.value))
  (fromFragments options.dominix.modules);
in
  flakeProblems ++ moduleProblems
