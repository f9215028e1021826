# The inputs of this flake, resolved from flake.lock without the flake
# machinery: every node is fetched with `builtins.fetchTree` given its whole
# `locked` set (so a seeded store answers without network) and its flake.nix
# `outputs` is called with its own resolved inputs, `follows` included.
#
# Used by the offline evaluator (nix-modules/eval) so that module evaluation
# runs on the exact revisions `nix flake` would use, without copying this
# working tree into the store.
{
  lockFile,
  self,
}: let
  lock = builtins.fromJSON (builtins.readFile lockFile);

  # A lock input is a node name, or a `follows` path starting at the root.
  nodeOf = ref:
    if builtins.isList ref
    then followPath lock.root ref
    else ref;
  followPath = node: path:
    if path == []
    then node
    else followPath (nodeOf lock.nodes.${node}.inputs.${builtins.head path}) (builtins.tail path);

  inputsOf = node: builtins.mapAttrs (_: ref: resolve (nodeOf ref)) (lock.nodes.${node}.inputs or {});

  resolve = name: let
    node = lock.nodes.${name};
    sourceInfo = builtins.fetchTree node.locked;
    inputs = inputsOf name;
    outputs = (import (sourceInfo.outPath + "/flake.nix")).outputs (inputs // {self = result;});
    result =
      outputs
      // sourceInfo
      // {
        inherit inputs outputs sourceInfo;
        _type = "flake";
      };
  in
    if node.flake or true
    then result
    else sourceInfo;
in
  inputsOf lock.root // {inherit self;}
