# From (system, features) to NixOS systems and VMs: `lib.mkSystem`,
# `lib.mkTrunkFlake` (used by composed trunks), `nixosConfigurations` for the
# profiles and `packages.<host>.vm-<profile>` for every supported host.
{
  config,
  dominixCatalog,
  inputs,
  lib,
  ...
}: let
  inherit (lib) genAttrs listToAttrs mapAttrs' nameValuePair optionalAttrs;

  modules = config.dominix.modules.nixos;

  linuxSystems = ["x86_64-linux" "aarch64-linux"];

  # The Linux guest a host runs: itself on Linux, the same CPU on macOS.
  guestOf = host:
    {
      x86_64-linux = "x86_64-linux";
      aarch64-linux = "aarch64-linux";
      aarch64-darwin = "aarch64-linux";
      x86_64-darwin = "x86_64-linux";
    }
    .${host}
    or (throw "domi-nix: unsupported host system `${host}`. Fix: use one of x86_64-linux, aarch64-linux, aarch64-darwin, x86_64-darwin.");

  isDarwin = host: lib.hasSuffix "-darwin" host;

  profiles = import ./profiles {inherit dominixCatalog;};

  # The VM adapter for a host: QEMU on Linux (KVM when available), QEMU with
  # the macOS host's packages (HVF) on macOS.
  vmAdapter = host:
    if isDarwin host
    then import ./vm/macos-host.nix {hostPkgs = inputs.nixpkgs.legacyPackages.${host};}
    else ./vm/linux-host.nix;

  # A NixOS system from explicit modules: the trunk composes with these.
  mkNixos = {
    system,
    imports,
    host ? system,
  }:
    inputs.nixpkgs.lib.nixosSystem {
      modules =
        imports
        ++ [
          ./hosts/generic.nix
          (vmAdapter host)
          {nixpkgs.hostPlatform = lib.mkDefault system;}
        ];
    };

  # A NixOS system from a feature selection (requires are resolved here too).
  mkSystem = {
    system,
    features ? [],
    extraModules ? [],
    host ? system,
  }:
    mkNixos {
      inherit system host;
      imports = [modules.trunk] ++ map (name: modules.${name}) (dominixCatalog.closure features) ++ extraModules;
    };

  vmOf = nixos: nixos.config.system.build.vm;

  # `checks.<system>.<feature>` for a branch's fragment: its NixOS VM test,
  # run on a node made of the trunk, the branch and what it requires. Empty
  # where the branch does not support the system (macOS hosts included).
  mkFeatureChecks = {
    pkgs,
    system,
    feature,
    test,
  }:
    optionalAttrs (builtins.elem system dominixCatalog.features.${feature}.systems) {
      ${feature} = pkgs.testers.runNixOSTest {
        imports = [test];
        defaults.imports = [modules.trunk] ++ map (name: modules.${name}) (dominixCatalog.closure [feature]);
        # Each node builds its own pkgs, as a real system does, so the
        # `packages` branch's overlay (`nixpkgs.overlays`) applies there too;
        # read-only pkgs would refuse it.
        node.pkgsReadOnly = false;
        # A node may attach other branches too: `imports = [ branches.remote-access ]`.
        node.specialArgs.branches = modules;
      };
    };

  # What a composed trunk flake (`cargo xtask compose`) evaluates to.
  mkTrunkFlake = {
    system,
    imports,
  }: let
    hosts = builtins.filter (host: guestOf host == system) ["x86_64-linux" "aarch64-linux" "aarch64-darwin" "x86_64-darwin"];
  in {
    nixosConfigurations.trunk = mkNixos {inherit system imports;};
    packages = genAttrs hosts (host: let
      vm = vmOf (mkNixos {inherit system imports host;});
    in {
      inherit vm;
      default = vm;
    });
  };
in {
  flake = {
    lib = {
      inherit mkSystem mkNixos mkTrunkFlake mkFeatureChecks guestOf profiles;
      catalog = dominixCatalog.features;
    };

    nixosConfigurations = listToAttrs (lib.concatMap (system:
      lib.mapAttrsToList (profile: features:
        nameValuePair "${profile}-${lib.removeSuffix "-linux" system}" (mkSystem {
          inherit system;
          features = features system;
        }))
      profiles)
    linuxSystems);
  };

  perSystem = {system, ...}: {
    packages = mapAttrs' (profile: features:
      nameValuePair "vm-${profile}" (vmOf (mkSystem {
        system = guestOf system;
        host = system;
        features = features (guestOf system);
      })))
    profiles;
  };
}
