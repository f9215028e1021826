# The domi-nix shell, built from this workspace and its Cargo.lock.
{
  lib,
  rustPlatform,
}: let
  root = ../..;
  manifest = builtins.fromTOML (builtins.readFile ./Cargo.toml);
in
  rustPlatform.buildRustPackage {
    pname = "domi-nix-shell";
    inherit (manifest.package) version;

    src = lib.fileset.toSource {
      inherit root;
      fileset = lib.fileset.unions [
        (root + "/Cargo.toml")
        (root + "/Cargo.lock")
        (root + "/.cargo")
        (root + "/crates")
        (root + "/xtask")
      ];
    };
    cargoLock.lockFile = root + "/Cargo.lock";

    cargoBuildFlags = ["--package" "ui" "--bin" "domi-nix-shell"];
    # The program's unit tests (src/lib.rs); the module-evaluation tests in
    # tests/ need Nix itself and run in `cargo test` outside the sandbox.
    cargoTestFlags = ["--package" "ui" "--lib"];

    meta = {
      description = "The domi-nix login banner: host, addresses, attached features";
      license = lib.licenses.mit;
      mainProgram = "domi-nix-shell";
    };
  }
