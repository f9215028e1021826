# The feature catalog as Nix sees it: every folder `crates/<name>/` is a
# feature, its Cargo.toml carrying a `[package.metadata.dominix]` table. The
# metadata is read from that Cargo.toml with `builtins.fromTOML`: it is the
# same file, and the only copy, that the Rust catalog (tooling/dominix) reads.
# A folder without a Cargo.toml or without that table is an error (as in
# `cargo xtask check`), never silently something else.
#
# Discovery uses `builtins.readDir` only (import-tree needs Nix >= 2.14).
{
  lib,
  cratesDir ? ../../crates,
}: let
  inherit (lib) attrNames filterAttrs genericClosure mapAttrs;

  fix = "(README, 'Adding a feature'), or move it out of crates/ (tooling crates live in tooling/)";

  metaOf = name: let
    file = cratesDir + "/${name}/Cargo.toml";
    manifest = builtins.fromTOML (builtins.readFile file);
  in
    if !builtins.pathExists file
    then throw "domi-nix: crates/${name}/Cargo.toml: `crates/${name}` has no Cargo.toml, but every folder under crates/ is a feature. Fix: add the feature's Cargo.toml ${fix}."
    else
      manifest.package.metadata.dominix
      or (throw "domi-nix: crates/${name}/Cargo.toml has no [package.metadata.dominix] table, but every folder under crates/ is a feature. Fix: add it ${fix}.");

  # `seq`: reading any feature, even only its fragment, checks its metadata.
  features = mapAttrs (name: _: let
    meta = metaOf name;
  in
    builtins.seq meta {
      inherit name;
      inherit (meta) category summary;
      requires = meta.requires or [];
      conflicts = meta.conflicts or [];
      systems = meta.systems or [];
      fragment = cratesDir + "/${name}/feature.nix";
    }) (filterAttrs (_: type: type == "directory") (builtins.readDir cratesDir));

  get = name:
    features.${name}
    or (throw "domi-nix: unknown feature `${name}`. Known features: ${toString (attrNames features)}. Fix: use one of those names (`cargo xtask list` shows them).");
in {
  inherit features;

  names = attrNames features;

  fragments = map (f: f.fragment) (builtins.attrValues features);

  # `names` plus everything they transitively require (unordered, deduplicated).
  closure = names:
    map (x: x.key) (genericClosure {
      startSet = map (key: {inherit key;}) names;
      operator = item: map (key: {inherit key;}) (get item.key).requires;
    });

  # The features that support `system`; the `full` profile.
  supporting = system: attrNames (filterAttrs (_: f: builtins.elem system f.systems) features);
}
