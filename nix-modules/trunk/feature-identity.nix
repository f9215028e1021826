# Given a catalog entry, the part of a branch's NixOS module that every branch
# shares: its `enable` switch and its entry in `domi-nix.features`.
#
# Importing a branch attaches it; `domi-nix.<name>.enable = false` detaches it
# again without touching `imports`.
feature: {
  config,
  lib,
  ...
}: {
  _file = "${toString feature.fragment}#identity";

  imports = [./manifest.nix];

  options.domi-nix.${feature.name}.enable = lib.mkOption {
    type = lib.types.bool;
    default = true;
    example = false;
    description = ''
      Whether the `${feature.name}` branch is attached: ${feature.summary}.
      Importing its module attaches it; set this to false to detach it
      without editing `imports`.
    '';
  };

  config.domi-nix.features = lib.mkIf config.domi-nix.${feature.name}.enable {
    ${feature.name} = {inherit (feature) category summary requires conflicts;};
  };
}
