# The domi-nix shell, built from this crate, the workspace manifests and
# Cargo.lock only (nix-modules/lib/crate-source.nix): editing another branch
# does not change this derivation, so it neither rebuilds the shell nor the
# VMs that contain it.
{
  lib,
  rustPlatform,
}: let
  manifest = builtins.fromTOML (builtins.readFile ./Cargo.toml);
  source = import ../../nix-modules/lib/crate-source.nix {
    inherit lib;
    root = ../..;
    crate = "crates/ui";
  };
in
  rustPlatform.buildRustPackage {
    pname = "domi-nix-shell";
    inherit (manifest.package) version;

    inherit (source) src postPatch;
    cargoLock.lockFile = ../../Cargo.lock;

    cargoBuildFlags = ["--package" "ui" "--bin" "domi-nix-shell"];
    # The program's unit tests (src/lib.rs); the module-evaluation tests in
    # tests/ need Nix itself and run in `cargo test` outside the sandbox.
    cargoTestFlags = ["--package" "ui" "--lib"];

    # Every file of `src`, relative to the workspace (crates/ui/tests/source_set.rs).
    passthru.sourceFiles = source.files;

    meta = {
      description = "The domi-nix login banner: host, addresses, attached features";
      license = lib.licenses.mit;
      mainProgram = "domi-nix-shell";
    };
  }
