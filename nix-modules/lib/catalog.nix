# The feature catalog as Nix sees it: every `crates/<name>/` whose Cargo.toml
# has a `[package.metadata.dominix]` table is a feature. The metadata is read
# from that Cargo.toml with `builtins.fromTOML`: it is the same file, and the
# only copy, that the Rust catalog (tooling/dominix) reads.
#
# Discovery uses `builtins.readDir` only (import-tree needs Nix >= 2.14).
{
  lib,
  cratesDir ? ../../crates,
}: let
  inherit (lib) attrNames filterAttrs genericClosure mapAttrs;

  manifestOf = name: let
    file = cratesDir + "/${name}/Cargo.toml";
  in
    if builtins.pathExists file
    then builtins.fromTOML (builtins.readFile file)
    else {};

  isFeature = name: type: type == "directory" && (manifestOf name) ? package.metadata.dominix;

  features = mapAttrs (name: _: let
    meta = (manifestOf name).package.metadata.dominix;
  in {
    inherit name;
    inherit (meta) category summary;
    requires = meta.requires or [];
    conflicts = meta.conflicts or [];
    systems = meta.systems or [];
    fragment = cratesDir + "/${name}/feature.nix";
  }) (filterAttrs isFeature (builtins.readDir cratesDir));

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
