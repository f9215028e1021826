# nixpkgs: nixos/modules/security/default.nix
# (Its `security.lsm` list becomes one kernel parameter.)
_: {
  config.boot.kernelParams = ["lsm=landlock,yama,bpf"];
}
