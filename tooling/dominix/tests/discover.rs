//! Discovery on temporary workspaces, and catalog validation.
#![allow(clippy::unwrap_used)]

mod common;

use camino::{Utf8Path, Utf8PathBuf};
use common::{ARM, With, X86, feature};
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
fn discovers_features_and_skips_other_crates() {
    let ws = Ws::new();
    ws.feature("hardening", GOOD)
        .feature("ui", &meta("ui", "\"hardening\"", "\"x86_64-linux\""))
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
    std::fs::write(ws.root.join("crates/README.md"), "not a crate").unwrap();

    let c = ws.discover().unwrap();
    assert_eq!(c.problems(), &[]);
    assert_eq!(c.names().collect::<Vec<_>>(), ["hardening", "ui"]);
    let ui = c.get("ui").unwrap();
    assert_eq!(ui.dir, Utf8Path::new("crates/ui"));
    assert_eq!(ui.meta.category, Category::Ui);
    assert_eq!(ui.meta.requires, ["hardening"]);
    assert_eq!(ui.meta.systems, [System::X86_64Linux]);
    assert!(Catalog::discover_valid(&ws.root).is_ok());
}

#[test]
fn requires_and_conflicts_default_to_empty() {
    let ws = Ws::new();
    ws.feature(
        "a",
        "category = \"packages\"\nsummary = \"s\"\nsystems = [\"aarch64-linux\"]",
    );
    let c = ws.discover().unwrap();
    assert!(c.is_valid(), "{:?}", c.problems());
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
            "crates/x/Cargo.toml: feature `x`: require: unknown key `require` — did you mean `requires`? Fix: rename or remove it; valid keys: category, summary, requires, conflicts, systems",
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
    let err = Catalog::discover_valid(&ws.root).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("the feature catalog has 3 problems:\n  - crates/hardening/feature.nix"),
        "{msg}"
    );
    assert!(matches!(err, CatalogError::Invalid { ref problems } if problems.len() == 3));
}

/// Validation shared with in-memory catalogs.
#[test]
fn validation_problems() {
    let f = feature;
    let mut multiline = f("multi");
    multiline.meta.summary = "one\ntwo".into();
    let mut blank = f("blank");
    blank.meta.summary = "  ".into();
    let cases: Vec<(Vec<dominix::Feature>, Vec<&str>)> = vec![
        (
            vec![f("hardening"), f("ui").requires(&["hardening"])],
            vec![],
        ),
        (
            vec![f("full")],
            vec![
                "crates/full/Cargo.toml: feature `full`: name: `full` is a reserved name. Fix: pick another name; reserved: trunk, default, minimal, full, all",
            ],
        ),
        (
            vec![f("Bad_Name")],
            vec![
                "crates/Bad_Name/Cargo.toml: feature `Bad_Name`: name: `Bad_Name` is not a valid feature name (lowercase ASCII letter, then lowercase letters, digits or `-`). Fix: rename the crate, e.g. `my-feature`",
            ],
        ),
        (
            vec![blank, multiline],
            vec![
                "crates/blank/Cargo.toml: feature `blank`: summary: summary is empty. Fix: write one line describing the feature",
                "crates/multi/Cargo.toml: feature `multi`: summary: summary spans several lines. Fix: shorten it to a single line",
            ],
        ),
        (
            vec![f("a").systems(&[]), f("b").systems(&[X86, X86])],
            vec![
                "crates/a/Cargo.toml: feature `a`: systems: no systems listed. Fix: list the systems the feature supports, from: x86_64-linux, aarch64-linux",
                "crates/b/Cargo.toml: feature `b`: systems: `x86_64-linux` is listed more than once. Fix: list each system once",
            ],
        ),
        (
            vec![f("a").requires(&["a"]).conflicts(&["a"])],
            vec![
                "crates/a/Cargo.toml: feature `a`: requires: `a` names the feature itself. Fix: remove `a` from requires",
                "crates/a/Cargo.toml: feature `a`: conflicts: `a` names the feature itself. Fix: remove `a` from conflicts",
            ],
        ),
        (
            vec![f("a").requires(&["b"]).conflicts(&["b"]), f("b")],
            vec![
                "crates/a/Cargo.toml: feature `a`: conflicts: `b` is both required and conflicting. Fix: remove `b` from either requires or conflicts",
            ],
        ),
        (
            vec![f("a").requires(&["b", "b"]), f("b")],
            vec![
                "crates/a/Cargo.toml: feature `a`: requires: `b` is listed more than once. Fix: list it once",
            ],
        ),
        (
            vec![f("a").conflicts(&["zzz"]), f("b")],
            vec![
                "crates/a/Cargo.toml: feature `a`: conflicts: `zzz`: no such feature. Fix: correct the name in [package.metadata.dominix] conflicts",
            ],
        ),
        (
            vec![f("a").requires(&["b"]), f("b").systems(&[ARM])],
            vec![
                "crates/a/Cargo.toml: feature `a`: systems: supports x86_64-linux but requires `b`, which does not. Fix: drop those systems here or add them to `b`",
            ],
        ),
        (
            vec![
                f("c").requires(&["a"]),
                f("a").requires(&["b"]),
                f("b").requires(&["c"]),
                f("d").requires(&["a"]),
            ],
            vec![
                "crates/a/Cargo.toml: feature `a`: requires: requires cycle: a -> b -> c -> a. Fix: remove one `requires` entry along the cycle",
            ],
        ),
        (
            vec![f("a"), f("a")],
            vec![
                "crates/a/Cargo.toml: feature `a`: name: another feature is already named `a`. Fix: give each feature crate a unique package name",
            ],
        ),
    ];
    for (features, expected) in cases {
        let names: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
        let c = Catalog::from_features(features);
        let got: Vec<String> = c.problems().iter().map(ToString::to_string).collect();
        assert_eq!(got, expected, "features {names:?}");
        assert_eq!(c.is_valid(), expected.is_empty());
    }
}

#[test]
fn problem_fields_are_structured() {
    let c = Catalog::from_features(vec![
        feature("ui").requires(&["hardenin"]),
        feature("hardening"),
    ]);
    let p = &c.problems()[0];
    assert_eq!(p.file, "crates/ui/Cargo.toml");
    assert_eq!(p.feature, "ui");
    assert_eq!(p.field, "requires");
    assert!(p.message.contains("did you mean `hardening`?"));
}

#[test]
fn json_listing() {
    let c = Catalog::from_features(vec![
        feature("ui").requires(&["hardening"]).systems(&[X86]),
        feature("hardening"),
    ]);
    let json = c.to_json();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "hardening", "category": "features", "summary": "test feature hardening",
             "requires": [], "conflicts": [], "systems": ["x86_64-linux", "aarch64-linux"], "dir": "crates/hardening"},
            {"name": "ui", "category": "features", "summary": "test feature ui",
             "requires": ["hardening"], "conflicts": [], "systems": ["x86_64-linux"], "dir": "crates/ui"},
        ])
    );
    // Serialize on Feature gives the same objects.
    assert_eq!(serde_json::to_value(c.features()).unwrap(), json);
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
