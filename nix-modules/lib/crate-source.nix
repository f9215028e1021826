# The source of one workspace crate's derivation: only what that crate needs,
# so that editing another branch never changes (or rebuilds) this one.
#
# Cargo needs every workspace member's manifest to load the workspace, and
# refuses a member whose targets are missing ("no targets specified", "can't
# find bin"). The source therefore holds:
#   - the workspace manifests: the root Cargo.toml, Cargo.lock, .cargo/ and
#     every member's Cargo.toml;
#   - the whole directory of `crate` and of every member it reaches through
#     path dependencies (normal and build; `workspace = true` entries resolved
#     through `[workspace.dependencies]`);
# and `postPatch` creates empty stub targets for every other member, as their
# manifests declare them (`[[bin]]`/`[[example]]`/`[[test]]`/`[[bench]]`
# paths or Cargo's defaults for them, `package.build`) plus a library
# (`[lib] path`, else `src/lib.rs`). Dev-dependencies are stubbed too: a
# crate's unit tests (run in the sandbox) must not use path dev-dependencies.
#
# Members come from the root manifest's `workspace.members`: a trailing `/*`
# is expanded with `builtins.readDir` (directories holding a Cargo.toml),
# other entries are taken as written. Only the selected files and their
# parent directories are visited, so target/ is never read.
#
# `builtins.path` with a filter rather than `lib.fileset`: nixpkgs' lib.fileset
# needs `builtins.readFileType` (Nix >= 2.14) and this file must also evaluate
# on Nix 2.8 (crates/ui/tests/source_set.rs runs it there). `files` lists
# exactly what `src` holds: it is computed with the same predicate, visiting
# directories the way `builtins.path` does.
#
# Usage (crates/<name>/package.nix):
#   source = import ../../nix-modules/lib/crate-source.nix {
#     inherit lib;
#     root = ../..;
#     crate = "crates/<name>";
#   };
#   rustPlatform.buildRustPackage { inherit (source) src postPatch; … }
{
  lib,
  # The workspace root, a path.
  root,
  # The crate's directory relative to `root`, e.g. "crates/ui".
  crate,
}: let
  rootManifestFile = root + "/Cargo.toml";
  rootManifest = builtins.fromTOML (builtins.readFile rootManifestFile);
  workspace =
    rootManifest.workspace
    or (throw "crate-source: ${toString rootManifestFile} has no [workspace] table. Fix: pass the root of the Cargo workspace as `root`.");

  manifestOf = member: builtins.fromTOML (builtins.readFile (root + "/${member}/Cargo.toml"));

  # "crates/ui/../../tooling/dominix" → "tooling/dominix" (the path stays inside `root`).
  normalise = path: let
    step = acc: part:
      if part == "" || part == "."
      then acc
      else if part == ".."
      then
        if acc == []
        then throw "crate-source: `${path}` leaves the workspace root ${toString root}. Fix: keep workspace members and path dependencies inside it."
        else lib.init acc
      else acc ++ [part];
  in
    lib.concatStringsSep "/" (builtins.foldl' step [] (lib.splitString "/" path));

  # "crates/*" or "tooling/*" → every directory of crates/ (tooling/) with a
  # Cargo.toml; else the entry itself.
  expand = pattern:
    if lib.hasSuffix "/*" pattern
    then let
      dir = normalise (lib.removeSuffix "/*" pattern);
      entries = builtins.readDir (root + "/${dir}");
      isMember = name: entries.${name} == "directory" && builtins.pathExists (root + "/${dir}/${name}/Cargo.toml");
    in
      map (name: "${dir}/${name}") (builtins.filter isMember (builtins.attrNames entries))
    else if lib.hasInfix "*" pattern || lib.hasInfix "?" pattern || lib.hasInfix "[" pattern
    then throw "crate-source: workspace member pattern `${pattern}` in ${toString rootManifestFile} is not supported; only a trailing `/*` is. Fix: list those members one by one, or use `<dir>/*`."
    else [(normalise pattern)];

  excluded = map normalise (workspace.exclude or []);

  members = builtins.filter (m: m != "" && !builtins.elem m excluded) (lib.unique (lib.concatMap expand (workspace.members or [])));

  # The members `member` reaches through path dependencies it needs to build.
  pathDepsOf = member: let
    manifest = manifestOf member;
    tables =
      [(manifest.dependencies or {}) (manifest.build-dependencies or {})]
      ++ lib.concatMap (t: [(t.dependencies or {}) (t.build-dependencies or {})]) (builtins.attrValues (manifest.target or {}));
    pathOf = name: spec:
      if !builtins.isAttrs spec
      then null
      else if spec ? path
      then normalise "${member}/${spec.path}"
      else if spec.workspace or false && workspace ? dependencies.${name}.path
      then normalise workspace.dependencies.${name}.path
      else null;
    check = path:
      if builtins.elem path members
      then path
      else throw "crate-source: ${member}/Cargo.toml depends on `${path}`, which is not a member of the workspace in ${toString rootManifestFile}. Fix: add it to `workspace.members`.";
  in
    map check (builtins.filter (p: p != null) (lib.concatMap (lib.mapAttrsToList pathOf) tables));

  crateDir =
    if builtins.elem (normalise crate) members
    then normalise crate
    else throw "crate-source: `${crate}` is not a member of the workspace in ${toString rootManifestFile} (members: ${toString members}). Fix: pass the crate's directory relative to the workspace root, e.g. \"crates/ui\".";

  # `crate` and the members it needs, transitively.
  needed = map (x: x.key) (builtins.genericClosure {
    startSet = [{key = crateDir;}];
    operator = item: map (key: {inherit key;}) (pathDepsOf item.key);
  });

  stubbed = builtins.filter (m: !builtins.elem m needed) members;

  # The target files `member`'s manifest makes Cargo look for, each with the
  # contents of its stub: [ { path; text; } ], paths relative to `root`.
  targetsOf = member: let
    manifest = manifestOf member;
    package = manifest.package or {};
    main = "fn main() {}\n";
    declared = kind: default:
      map (t: {
        path = t.path or (default t);
        text = main;
      }) (manifest.${kind} or []);
    bins = declared "bin" (t:
      if t.name or null == package.name or null
      then "src/main.rs"
      else "src/bin/${t.name}.rs");
    others =
      declared "example" (t: "examples/${t.name}.rs")
      ++ declared "test" (t: "tests/${t.name}.rs")
      ++ declared "bench" (t: "benches/${t.name}.rs");
    # Always a library: a member depending on this one (as a dev-dependency)
    # still finds one, and an extra empty library harms nobody.
    library = [
      {
        path = manifest.lib.path or "src/lib.rs";
        text = "";
      }
    ];
    build = lib.optional (builtins.isString (package.build or null)) {
      path = package.build;
      text = main;
    };
  in
    map (t: t // {path = normalise "${member}/${t.path}";}) (library ++ bins ++ others ++ build);

  stubs = lib.concatMap targetsOf stubbed;

  stubCommand = stub: let
    file = lib.escapeShellArg stub.path;
  in ''
    if [ ! -e ${file} ]; then
      mkdir -p "$(dirname ${file})"
      printf '%s' ${lib.escapeShellArg stub.text} > ${file}
    fi
  '';

  # What the source holds, relative to `root`: single files, and directories
  # taken whole.
  wantedFiles = ["Cargo.toml" "Cargo.lock"] ++ map (m: "${m}/Cargo.toml") members;
  wantedDirs = [".cargo"] ++ needed;

  asSet = names: builtins.listToAttrs (map (name: lib.nameValuePair name true) names);
  isWantedFile = asSet wantedFiles;
  # Every proper parent directory of something wanted ("crates", "crates/ui" for "crates/ui/Cargo.toml").
  isParent = asSet (lib.concatMap (path: let
    parts = lib.splitString "/" path;
  in
    map (n: lib.concatStringsSep "/" (lib.take n parts)) (lib.range 1 (builtins.length parts - 1))) (wantedFiles ++ wantedDirs));
  inWantedDir = rel: builtins.any (dir: rel == dir || lib.hasPrefix "${dir}/" rel) wantedDirs;

  # Whether `rel` (relative to root, of the given type) belongs to the source.
  include = rel: type:
    builtins.hasAttr rel isWantedFile
    || inWantedDir rel
    || (type == "directory" && builtins.hasAttr rel isParent);

  rootString = toString root;
  relative = path: lib.removePrefix "${rootString}/" (toString path);

  # The files `builtins.path` copies with `include` as its filter: it visits a
  # directory's entries only when the directory itself is included.
  walk = dir: let
    entries = builtins.readDir (
      if dir == ""
      then root
      else root + "/${dir}"
    );
    visit = name: let
      rel =
        if dir == ""
        then name
        else "${dir}/${name}";
      type = entries.${name};
    in
      if !include rel type
      then []
      else if type == "directory"
      then walk rel
      else [rel];
  in
    lib.concatMap visit (builtins.attrNames entries);
in {
  inherit members needed stubbed stubs;

  # Every file of `src`, relative to `root`, sorted.
  files = lib.sort lib.lessThan (walk "");

  # The crate's source: a store path holding exactly `files`.
  src = builtins.path {
    name = "source";
    path = root;
    filter = path: type: include (relative path) type;
  };

  # Shell commands (for `postPatch`, run at the workspace root) creating the
  # stub targets of the members whose sources are left out.
  postPatch = ''
    # Stub targets for the workspace members this crate does not build
    # (nix-modules/lib/crate-source.nix).
    ${lib.concatMapStrings stubCommand stubs}'';
}
