# Shared by default.nix (describe) and verify.nix: the sub-options of an
# option type, keyed by their dotted path inside one element.
#
# For `attrsOf (submodule ...)` and `listOf (submodule ...)` the placeholder
# components (`<name>`, `*`) are dropped, so `users.users`' sub-option
# `openssh.authorizedKeys.keys` is reported under exactly that name. Types
# without sub-options give `{}`. Module-system internals (`_module`, the
# freeform placeholder) are left out.
{lib}: type: let
  placeholders = ["<name>" "*"];
  tree = type.getSubOptions [];
  found = lib.collect lib.isOption (removeAttrs tree ["_module" "_freeformOptions"]);
  named =
    map (opt: {
      name = lib.concatStringsSep "." (builtins.filter (c: !(builtins.elem c placeholders)) opt.loc);
      value = opt;
    })
    found;
in
  if builtins.isAttrs tree
  then builtins.listToAttrs named
  else {}
