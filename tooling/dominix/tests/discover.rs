//! Discovery on temporary workspaces, and catalog validation.
#![allow(clippy::unwrap_used)]

use camino::{Utf8Path, Utf8PathBuf};
use dominix::{Catalog, CatalogError, Category, System};

/// A temporary workspace with a `crates/` directory.
struct Ws {
    _dir: tempfile::TempDir,
    root: Utf8PathBuf,
}

impl Ws {
    fn new() -> Ws {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().to_owned()).unwrap();
        std::fs::create_dir_all(root.join("crates")).unwrap();
        Ws { _dir: dir, root }
    }

    /// Writes `crates/<dir>/Cargo.toml` with `text`.
    fn manifest(&self, dir: &str, text: &str) -> &Ws {
        let d = self.root.join("crates").join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("Cargo.toml"), text).unwrap();
        self
    }

    /// A feature crate named `name` in `dir` with the given metadata body and
    /// a `feature.nix`.
    fn feature_in(&self, dir: &str, name: &str, meta: &str) -> &Ws {
        self.manifest(
            dir,
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[package.metadata.dominix]\n{meta}\n"
            ),
        );
        std::fs::write(
            self.root.join("crates").join(dir).join("feature.nix"),
            "{...}: {}\n",
        )
        .unwrap();
        self
    }

    fn feature(&self, name: &str, meta: &str) -> &Ws {
        self.feature_in(name, name, meta)
    }

    fn discover(&self) -> Result<Catalog, CatalogError> {
        Catalog::discover(&self.root)
    }

    /// Problems as displayed, or the discovery error.
    fn problems(&self) -> Vec<String> {
        match self.discover() {
            Ok(c) => c.problems().iter().map(ToString::to_string).collect(),
            Err(e) => vec![format!("error: {e}")],
        }
    }
}

const GOOD: &str = r#"category = "security"
summary = "Hardening"
requires = []
conflicts = []
systems = ["x86_64-linux", "aarch64-linux"]"#;

fn meta(category: &str, requires: &str, systems: &str) -> String {
    format!(
        "category = \"{category}\"\nsummary = \"s\"\nrequires = [{requires}]\nconflicts = []\nsystems = [{systems}]"
    )
}

#[test]
fn discovers_features() {
    let ws = Ws::new();
    ws.feature("hardening", GOOD)
        .feature("ui", &meta("ui", "\"hardening\"", "\"x86_64-linux\""));
    // Files under crates/ are not folders, so not branches.
    std::fs::write(ws.root.join("crates/README.md"), "not a crate").unwrap();

    let c = ws.discover().unwrap();
    assert_eq!(c.problems(), &[]);
    assert_eq!(c.names().collect::<Vec<_>>(), ["hardening", "ui"]);
    let ui = c.get("ui").unwrap();
    assert_eq!(ui.dir, Utf8Path::new("crates/ui"));
    assert_eq!(ui.meta.category, Category::Ui);
    assert_eq!(ui.meta.requires, ["hardening"]);
    assert_eq!(ui.meta.systems, [System::X86_64Linux]);
    assert!(c.into_valid().is_ok());
}

/// Every folder under crates/ is a branch: anything else there is a problem
/// naming the file and the fix, never silently skipped.
#[test]
fn every_folder_under_crates_is_a_feature() {
    let ws = Ws::new();
    ws.feature("hardening", GOOD)
        .feature("ui", &meta("ui", "\"dominix\"", "\"x86_64-linux\""))
        .manifest(
            "dominix",
            "[package]\nname = \"dominix\"\nversion = \"0.1.0\"\n",
        )
        .manifest(
            "dominix-testing",
            "[package]\nname = \"dominix-testing\"\n[package.metadata.other]\nx = 1\n",
        )
        .manifest("virtual", "[workspace]\nmembers = []\n");
    std::fs::create_dir_all(ws.root.join("crates/empty-dir")).unwrap();

    let fix =
        "(README, 'Adding a feature'), or move it out of crates/ (tooling crates live in tooling/)";
    let no_table = |dir: &str, name: &str| {
        format!(
            "crates/{dir}/Cargo.toml: feature `{name}`: metadata: no [package.metadata.dominix] table, but every folder under crates/ is a feature. Fix: add it {fix}"
        )
    };
    assert_eq!(
        ws.problems(),
        [
            no_table("dominix", "dominix"),
            no_table("dominix-testing", "dominix-testing"),
            format!(
                "crates/empty-dir/Cargo.toml: feature `empty-dir`: Cargo.toml: `crates/empty-dir` has no Cargo.toml, but every folder under crates/ is a feature. Fix: add the feature's Cargo.toml {fix}"
            ),
            no_table("virtual", "virtual"),
        ]
    );
    let c = ws.discover().unwrap();
    // The others are still read, and naming a broken folder does not cascade.
    assert_eq!(c.names().collect::<Vec<_>>(), ["hardening", "ui"]);
    let err = c.into_valid().unwrap_err().to_string();
    assert!(
        err.starts_with("the feature catalog has 4 problems:\n  - crates/dominix/Cargo.toml"),
        "{err}"
    );
}

#[test]
fn requires_and_conflicts_default_to_empty() {
    let ws = Ws::new();
    ws.feature(
        "a",
        "category = \"packages\"\nsummary = \"s\"\nsystems = [\"aarch64-linux\"]",
    );
    let c = ws.discover().unwrap();
    assert_eq!(c.problems(), &[]);
    let a = c.get("a").unwrap();
    assert!(a.meta.requires.is_empty() && a.meta.conflicts.is_empty());
}

#[test]
fn bad_toml_names_the_file() {
    let ws = Ws::new();
    ws.feature("good", GOOD)
        .manifest("broken", "[package\nname = \"broken\"\n");
    let err = ws.discover().unwrap_err();
    assert!(
        matches!(err, CatalogError::Toml { ref path, .. } if path == "crates/broken/Cargo.toml")
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("`crates/broken/Cargo.toml` is not valid TOML: "),
        "{msg}"
    );
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn missing_crates_dir_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap();
    let err = Catalog::discover(root).unwrap_err();
    assert!(matches!(err, CatalogError::Io { ref path, .. } if path == &root.join("crates")));
    assert!(err.to_string().contains("/crates"), "{err}");
}

/// Every metadata mistake becomes a problem naming file, feature and field.
#[test]
fn metadata_problems() {
    let cases: &[(&str, &str)] = &[
        (
            "category = \"security\"\nsummary = \"s\"\nrequire = []\nsystems = [\"x86_64-linux\"]",
            "crates/x/Cargo.toml: feature `x`: require: unknown key `require` — did you mean `requires`? Fix: rename or remove it; valid keys: category, summary, requires, conflicts, systems, ceilings",
        ),
        (
            "category = \"securty\"\nsummary = \"s\"\nsystems = [\"x86_64-linux\"]",
            "crates/x/Cargo.toml: feature `x`: category: unknown variant `securty`, expected one of `services`, `security`, `ui`, `packages`, `features`. Fix: correct `category` in [package.metadata.dominix]",
        ),
        (
            "category = \"security\"\nsummary = \"s\"\nsystems = [\"x86_64-darwin\"]",
            "crates/x/Cargo.toml: feature `x`: systems: unknown variant `x86_64-darwin`, expected `x86_64-linux` or `aarch64-linux`. Fix: correct `systems` in [package.metadata.dominix]",
        ),
        (
            "category = \"security\"\nsummary = \"s\"\nsystems = [\"x86_64-linux\"]\nceilings = { sshd = 12.5 }",
            "crates/x/Cargo.toml: feature `x`: ceilings: `12.5` is not an exposure: use a number from 0.0 to 10.0 with at most one decimal, e.g. 1.5 in `sshd`. Fix: correct `ceilings` in [package.metadata.dominix]",
        ),
        (
            "category = \"security\"\nsystems = [\"x86_64-linux\"]",
            "crates/x/Cargo.toml: feature `x`: summary: missing required key `summary`. Fix: add `summary` to [package.metadata.dominix]",
        ),
        (
            "category = \"security\"\nsummary = 3\nsystems = \"x86_64-linux\"",
            "crates/x/Cargo.toml: feature `x`: summary: invalid type: integer `3`, expected a string. Fix: correct `summary` in [package.metadata.dominix]\n\
             crates/x/Cargo.toml: feature `x`: systems: invalid type: string \"x86_64-linux\", expected a sequence. Fix: correct `systems` in [package.metadata.dominix]",
        ),
    ];
    for (body, expected) in cases {
        let ws = Ws::new();
        ws.feature("x", body);
        assert_eq!(ws.problems().join("\n"), *expected, "metadata:\n{body}");
        assert!(ws.discover().unwrap().get("x").is_none());
    }
}

#[test]
fn metadata_must_be_a_table() {
    let ws = Ws::new();
    ws.manifest("x", "[package]\nname = \"x\"\nmetadata = { dominix = 1 }\n");
    assert_eq!(
        ws.problems(),
        [
            "crates/x/Cargo.toml: feature `x`: metadata: [package.metadata.dominix] must be a table, found integer. Fix: write it as a `[package.metadata.dominix]` table"
        ]
    );
}

#[test]
fn broken_features_do_not_cascade() {
    let ws = Ws::new();
    ws.feature(
        "base",
        "category = \"nope\"\nsummary = \"s\"\nsystems = [\"x86_64-linux\"]",
    )
    .feature("ui", &meta("ui", "\"base\"", "\"x86_64-linux\""));
    let problems = ws.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("crates/base/Cargo.toml: feature `base`: category:"));
}

#[test]
fn layout_problems() {
    let ws = Ws::new();
    ws.feature("hardening", GOOD).feature_in(
        "user-interface",
        "ui",
        &meta("ui", "\"hardenin\"", "\"x86_64-linux\""),
    );
    std::fs::remove_file(ws.root.join("crates/hardening/feature.nix")).unwrap();
    assert_eq!(
        ws.problems(),
        [
            "crates/hardening/feature.nix: feature `hardening`: feature.nix: missing Nix fragment `crates/hardening/feature.nix`. Fix: create `crates/hardening/feature.nix` (a flake-parts module for the feature)",
            "crates/user-interface/Cargo.toml: feature `ui`: name: name `ui` does not match its directory `crates/user-interface`. Fix: rename the crate or its directory so both are `ui`",
            "crates/user-interface/Cargo.toml: feature `ui`: requires: `hardenin`: no such feature — did you mean `hardening`? Fix: correct the name in [package.metadata.dominix] requires",
        ]
    );
    let err = ws.discover().unwrap().into_valid().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("the feature catalog has 3 problems:\n  - crates/hardening/feature.nix"),
        "{msg}"
    );
    assert!(matches!(err, CatalogError::Invalid { ref problems } if problems.len() == 3));
}

/// The real workspace: discovery works and only feature crates are features.
#[test]
fn this_workspace() {
    let root = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let c = Catalog::discover(&root).unwrap();
    let names: Vec<&str> = c.names().collect();
    assert!(!names.contains(&"dominix"), "{names:?}");
    assert!(!names.contains(&"dominix-testing"), "{names:?}");
    for f in c.features() {
        assert_eq!(f.dir, Utf8PathBuf::from("crates").join(&f.name));
    }
    let problems: Vec<String> = c.problems().iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{problems:#?}");
}
