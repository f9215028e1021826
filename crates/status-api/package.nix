# domi-nix-status, built from this crate, the workspace manifests and
# Cargo.lock only (nix-modules/lib/crate-source.nix): editing another branch
# does not change this derivation. The `packages` branch puts it into `pkgs`
# as `pkgs.domi-nix.domi-nix-status`.
{
  lib,
  rustPlatform,
}: let
  manifest = builtins.fromTOML (builtins.readFile ./Cargo.toml);
  source = import ../../nix-modules/lib/crate-source.nix {
    inherit lib;
    root = ../..;
    crate = "crates/status-api";
  };
in
  rustPlatform.buildRustPackage {
    pname = "domi-nix-status";
    inherit (manifest.package) version;

    inherit (source) src postPatch;
    cargoLock.lockFile = ../../Cargo.lock;

    cargoBuildFlags = ["--package" "status-api" "--bin" "domi-nix-status"];
    # The program's unit tests; the socket and module-evaluation tests in
    # tests/ need loopback sockets and Nix, and run in `cargo test`.
    cargoTestFlags = ["--package" "status-api" "--lib"];

    # Every file of `src`, relative to the workspace.
    passthru.sourceFiles = source.files;

    meta = {
      description = "domi-nix status API: health, attached features and Prometheus metrics over HTTP";
      license = lib.licenses.mit;
      mainProgram = "domi-nix-status";
    };
  }
