# Offline stand-ins for the `pkgs` attributes that domi-nix NixOS modules use.
#
# Every value here is shaped like a derivation (`type = "derivation"`, a
# store-path-shaped `outPath` and `drvPath`) so that `lib.isDerivation`,
# `types.package`, `types.path` and string interpolation all accept it, but
# nothing is ever built and nothing is ever copied into the Nix store:
#
#   * store paths are plain strings computed from the name, without context;
#   * paths handed to `callPackage` are only ever looked at through
#     `baseNameOf (toString p)` -- never interpolated, never imported.
#
# `_contract.paths` lists the dotted attribute paths of real nixpkgs that these
# stubs stand in for; `verify.nix` checks that each one exists in a real
# nixpkgs checkout. When a module starts using another `pkgs` attribute, add a
# stub here, add its path to `_contract.paths`, then run
# `cargo xtask contract verify`.
{
  lib,
  system ? "x86_64-linux",
}: let
  # The alphabet of Nix's base-32 encoding (no e, o, t, u).
  nixBase32 = lib.stringToCharacters "0123456789abcdfghijklmnpqrsvwxyz";

  hexValue = {
    "0" = 0;
    "1" = 1;
    "2" = 2;
    "3" = 3;
    "4" = 4;
    "5" = 5;
    "6" = 6;
    "7" = 7;
    "8" = 8;
    "9" = 9;
    "a" = 10;
    "b" = 11;
    "c" = 12;
    "d" = 13;
    "e" = 14;
    "f" = 15;
  };

  # 32 characters of the base-32 alphabet, derived deterministically from
  # `seed`: each of the 32 bytes of its sha256 picks one character.
  storeHash = seed: let
    hex = builtins.hashString "sha256" seed;
    byteAt = i:
      16
      * hexValue.${builtins.substring (2 * i) 1 hex}
      + hexValue.${builtins.substring (2 * i + 1) 1 hex};
    charAt = i: builtins.elemAt nixBase32 (lib.mod (byteAt i) 32);
  in
    lib.concatStrings (builtins.genList charAt 32);

  storePath = seed: name: "/nix/store/${storeHash seed}-${name}";

  # A derivation-shaped value. `extra` adds passthru-like attributes such as
  # `shellPath` or `meta.mainProgram`.
  stubWith = extra: name: let
    self =
      {
        type = "derivation";
        inherit name;
        outPath = storePath "out:${name}" name;
        drvPath = storePath "drv:${name}" "${name}.drv";
        outputName = "out";
        outputs = ["out"];
        out = self;
        meta = {};
        passthru = {};
      }
      // extra;
  in
    self;

  stub = stubWith {};

  # A stub that `lib.getExe` can resolve without a warning.
  program = name: mainProgram:
    stubWith {meta = {inherit mainProgram;};} name;

  # A value type for the stubbed `pkgs.formats.*` generators; accepts the
  # same shapes of data as the real ones (atoms, lists, attribute sets).
  structuredValue = formatName: let
    valueType =
      lib.types.nullOr (lib.types.oneOf [
        lib.types.bool
        lib.types.int
        lib.types.float
        lib.types.str
        lib.types.path
        (lib.types.attrsOf valueType)
        (lib.types.listOf valueType)
      ])
      // {description = "${formatName} value";};
  in
    valueType;

  iniAtom =
    lib.types.nullOr (lib.types.oneOf [
      lib.types.bool
      lib.types.int
      lib.types.float
      lib.types.str
    ])
    // {description = "INI atom (null, bool, int, float or string)";};

  # pkgs.formats.keyValue's value type: one atom per key.
  keyValueAtom =
    lib.types.nullOr (lib.types.oneOf [
      lib.types.bool
      lib.types.int
      lib.types.float
      lib.types.str
    ])
    // {description = "atom (null, bool, int, float or string)";};

  format = type: {
    inherit type;
    generate = name: _value: stub name;
  };
  self = {
    # What `types.pkgs` checks for.
    _type = "pkgs";
    inherit lib;

    # Builders. `callPackage` calls the package function, as nixpkgs' does,
    # with the arguments it names taken from these stubs (and `args`): a
    # package file that needs an argument no stub provides fails here as it
    # would on nixpkgs. Nothing is built: `rustPlatform.buildRustPackage` and
    # the writers below are stubs too, and a source is never copied.
    callPackage = fn: args: let
      f =
        if builtins.isFunction fn
        then fn
        else import fn;
    in
      f (builtins.intersectAttrs (builtins.functionArgs f) self // args);
    writeText = name: _text: stub name;
    writeTextFile = {name, ...}: stub name;
    writeShellScript = name: _text: stub name;
    writeShellScriptBin = name: _text: program name name;
    writeShellApplication = {name, ...}: program name name;
    runCommand = name: _env: _script: stub name;
    symlinkJoin = {name, ...}: stub name;

    formats = {
      json = _: format (structuredValue "JSON");
      toml = _: format (structuredValue "TOML");
      ini = _: format (lib.types.attrsOf (lib.types.attrsOf iniAtom));
      keyValue = _: format (lib.types.attrsOf keyValueAtom);
    };

    rustPlatform.buildRustPackage = args: let
      # Accept both `{ pname; version; ... }` and `finalAttrs: { ... }`.
      attrs =
        if builtins.isFunction args
        then args attrs
        else args;
      name =
        attrs.name
        or (attrs.pname + lib.optionalString (attrs ? version) "-${attrs.version}");
    in
      program name (attrs.pname or name);

    # The platform modules branch on (`pkgs.stdenv.hostPlatform.isx86_64`).
    stdenv = {
      hostPlatform = lib.systems.elaborate system;
      buildPlatform = lib.systems.elaborate system;
    };

    # Packages.
    bashInteractive = stubWith {
      shellPath = "/bin/bash";
      meta.mainProgram = "bash";
    } "bash-interactive";
    coreutils = stub "coreutils";
    curl = program "curl" "curl";
    findutils = stub "findutils";
    glibcLocales = stub "glibc-locales";
    gnugrep = stub "gnugrep";
    gnused = stub "gnused";
    tzdata = stub "tzdata";
    systemd = stub "systemd";
    xwininfo = stub "xwininfo";
    jq = program "jq" "jq";
    kexec-tools = program "kexec-tools" "kexec";
    openssh = program "openssh" "ssh";
    perl = program "perl" "perl";
    ssh-audit = program "ssh-audit" "ssh-audit";
    sshpass = program "sshpass" "sshpass";
    # The default login shell of NixOS users (`users.users.<name>.shell`).
    shadow = stubWith {shellPath = "/bin/nologin";} "shadow";

    _contract = {
      # Dotted attribute paths that must exist in the real nixpkgs.
      paths = [
        "bashInteractive"
        "callPackage"
        "coreutils"
        "curl"
        "findutils"
        "glibcLocales"
        "gnugrep"
        "gnused"
        "formats.ini"
        "formats.json"
        "formats.keyValue"
        "formats.toml"
        "jq"
        "kexec-tools"
        "openssh"
        "perl"
        "runCommand"
        "rustPlatform.buildRustPackage"
        "shadow"
        "ssh-audit"
        "sshpass"
        "stdenv.hostPlatform"
        "symlinkJoin"
        "systemd"
        "tzdata"
        "writeShellApplication"
        "writeShellScript"
        "writeShellScriptBin"
        "writeText"
        "writeTextFile"
        "xwininfo"
      ];
    };
  };
in
  self
