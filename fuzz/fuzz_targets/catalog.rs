//! Fuzzes the catalog: manifests → `Catalog::from_manifests` (the parsing and
//! validation `Catalog::discover` uses) → `to_json`, problems → a selection
//! parsed like the xtask's `--features`/`--profile`/`--system` →
//! `Catalog::resolve` → `trunk_flake`.
//!
//! Input (UTF-8, invalid bytes replaced), one argument word per line, then
//! the manifests, each after a `@@ <folder>` line:
//!
//! ```text
//! --features
//! ui,hardening
//! --system
//! x86_64-linux
//! @@ hardening
//! [package]
//! name = "hardening"
//! ...
//! @@ ui
//! ...
//! ```
//!
//! Besides panics, it checks what the library documents: a resolution lists
//! each feature once, after its requirements, with no conflicting pair and a
//! non-empty `systems` they all support; the trunk flake has one line per
//! feature and its strings and attribute names read back (by Nix's string
//! rules) as exactly what was rendered (NUL as U+FFFD, which Nix can hold).
#![no_main]

use std::collections::BTreeSet;
use std::str::FromStr;

use dominix::{
    Catalog, Profile, Reason, RenderOptions, Requested, Resolution, Selection, System, trunk_flake,
};
use libfuzzer_sys::fuzz_target;

/// More manifests only slow each run down.
const MAX_MANIFESTS: usize = 16;

/// The selection flags of `cargo xtask compose` (`xtask/src/flags.rs`,
/// `Select` plus `--flake-ref`), parsed as clap does: `--features` takes a
/// comma-separated list and may repeat; `--profile` and `--system` take one
/// value through the library's `FromStr`; `--features` and `--profile`
/// exclude each other and one of them is required. `None`: a usage error.
#[derive(Debug, Default)]
struct Select {
    features: Vec<String>,
    features_given: bool,
    profile: Option<Profile>,
    system: Option<System>,
    flake_ref: Option<String>,
}

impl Select {
    fn parse(words: &[&str]) -> Option<Select> {
        let mut select = Select::default();
        let mut words = words.iter();
        while let Some(word) = words.next() {
            let (flag, value) = match word.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, value),
                _ => (*word, *words.next()?),
            };
            match flag {
                "--features" => {
                    select.features_given = true;
                    select.features.extend(value.split(',').map(str::to_owned));
                }
                "--profile" if select.profile.is_none() => {
                    select.profile = Some(Profile::from_str(value).ok()?);
                }
                "--system" if select.system.is_none() => {
                    select.system = Some(System::from_str(value).ok()?);
                }
                "--flake-ref" if select.flake_ref.is_none() => {
                    select.flake_ref = Some(value.to_owned());
                }
                _ => return None,
            }
        }
        (select.features_given != select.profile.is_some()).then_some(select)
    }
}

/// `(folder name, Cargo.toml text)` pairs.
type Manifests = Vec<(String, String)>;

/// The argument words and the manifests of an input; `None` when a folder
/// name could not be a folder's name, or repeats.
fn split(text: &str) -> Option<(Vec<&str>, Manifests)> {
    let mut words = Vec::new();
    let mut manifests: Manifests = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(dir) = line.strip_prefix("@@ ") {
            let dir = dir.trim_end_matches(['\n', '\r']);
            let bad = dir.is_empty() || dir == "." || dir == ".." || dir.contains(['/', '\0']);
            if bad || manifests.iter().any(|(d, _)| d == dir) {
                return None;
            }
            if manifests.len() == MAX_MANIFESTS {
                break;
            }
            manifests.push((dir.to_owned(), String::new()));
        } else if let Some((_, manifest)) = manifests.last_mut() {
            manifest.push_str(line);
        } else {
            words.push(line.trim_end_matches(['\n', '\r']));
        }
    }
    Some((words, manifests))
}

/// Reads the Nix double-quoted string starting `text` as Nix does; returns
/// its value and the text after it. `None` if it is not one, or has an
/// interpolation.
fn nix_string(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices().peekable();
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 2..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                'r' => value.push('\r'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            // `${` interpolates; `$` then anything but `{`, `"` or `\` is
            // taken with it as it is (so `$${` is `$${`).
            '$' => {
                value.push('$');
                match chars.peek().map(|(_, c)| *c) {
                    Some('{') => return None,
                    Some('"' | '\\') | None => {}
                    Some(next) => {
                        value.push(next);
                        chars.next();
                    }
                }
            }
            c => value.push(c),
        }
    }
    None
}

/// What a Nix string rendering `s` holds: `s`, each NUL (which no Nix string
/// can hold) as U+FFFD, as `dominix::nix::string_literal` documents.
fn nix_holds(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

/// Reads `line` as `prefix` + a Nix string + `suffix`.
fn string_line(line: &str, prefix: &str, suffix: &str) -> String {
    let rest = line.strip_prefix(prefix).unwrap_or_else(|| {
        panic!("line {line:?} does not start with {prefix:?}");
    });
    match nix_string(rest) {
        Some((value, after)) if after == suffix => value,
        _ => panic!("{rest:?} is not one Nix string followed by {suffix:?}"),
    }
}

/// What `Resolution`'s documentation promises.
fn check_resolution(catalog: &Catalog, selection: &Selection, res: &Resolution) {
    let names = res.names();
    let mut seen = BTreeSet::new();
    for r in &res.features {
        let f = &r.feature;
        assert!(seen.insert(f.name.as_str()), "`{}` listed twice", f.name);
        assert_eq!(
            catalog.get(&f.name),
            Some(f),
            "resolved a different feature"
        );
        for req in &f.meta.requires {
            assert!(
                seen.contains(req.as_str()),
                "`{}` before its requirement `{req}`",
                f.name
            );
        }
        for other in f.meta.conflicts.iter().filter(|o| **o != f.name) {
            assert!(
                !names.contains(&other.as_str()),
                "`{}` with its conflict `{other}`",
                f.name
            );
        }
        for s in &res.systems {
            assert!(f.supports(*s), "`{}` does not support {s}", f.name);
        }
        match &r.reason {
            Reason::Requested => {
                assert!(
                    matches!(&selection.requested, Requested::Features(n) if n.contains(&f.name))
                );
            }
            Reason::Profile(p) => assert_eq!(selection.requested, Requested::Profile(*p)),
            Reason::RequiredBy(by) => {
                assert!(!by.is_empty(), "`{}` required by nothing", f.name);
                assert!(by.is_sorted(), "required-by list not sorted");
                for b in by {
                    let dependent = res.get(b).map(|d| &d.feature.meta.requires);
                    assert!(
                        dependent.is_some_and(|d| d.contains(&f.name)),
                        "`{b}` does not require `{}`",
                        f.name
                    );
                }
            }
        }
    }
    if let Requested::Features(requested) = &selection.requested {
        for name in requested {
            assert!(seen.contains(name.as_str()), "requested `{name}` missing");
        }
        assert!(res.left_out.is_empty(), "left out without profile full");
    }
    assert!(!res.systems.is_empty(), "no systems");
    assert!(
        res.systems
            .is_sorted_by_key(|s| System::ALL.iter().position(|a| a == s))
    );
    assert_eq!(res.system, selection.system);
    if let Some(s) = res.system {
        assert!(res.systems.contains(&s), "asked-for {s} not in systems");
    }
    for l in &res.left_out {
        assert!(
            !seen.contains(l.name.as_str()),
            "`{}` left out and resolved",
            l.name
        );
        let _ = l.to_string();
    }
}

/// The trunk flake: one line per feature, every string and attribute name
/// reads back as rendered.
fn check_flake(res: &Resolution, opts: &RenderOptions, flake: &str) {
    let trunk_alone = Resolution {
        features: Vec::new(),
        systems: res.systems.clone(),
        system: res.system,
        left_out: Vec::new(),
    };
    // Nix ends a `#` comment at `\r` too, and a string (or the file) at
    // NUL: the renderer writes neither.
    assert!(!flake.contains(['\r', '\0']), "raw CR or NUL in {flake:?}");
    let base = trunk_flake(&trunk_alone, opts).lines().count();
    assert_eq!(flake.lines().count(), base + res.features.len(), "{flake}");
    let mut names = res.names();
    names.sort_unstable();
    let description = if names.is_empty() {
        "domi-nix trunk: minimal".to_owned()
    } else {
        format!("domi-nix trunk: {}", names.join(", "))
    };
    let mut imports = Vec::new();
    for line in flake.lines() {
        if line.starts_with("  description = ") {
            assert_eq!(
                string_line(line, "  description = ", ";"),
                nix_holds(&description)
            );
        } else if line.starts_with("  inputs.domi-nix.url = ") {
            assert_eq!(
                string_line(line, "  inputs.domi-nix.url = ", ";"),
                nix_holds(&opts.flake_ref)
            );
        } else if line.starts_with("      system = ") {
            assert_eq!(
                string_line(line, "      system = ", ";"),
                opts.system.as_str()
            );
        } else if let Some(attr) = line.strip_prefix("        m.") {
            let (name, rest) = if attr.starts_with('"') {
                nix_string(attr).unwrap_or_else(|| panic!("bad attribute {attr:?}"))
            } else {
                let end = attr.find(' ').unwrap_or(attr.len());
                (attr[..end].to_owned(), &attr[end..])
            };
            assert!(
                rest.is_empty() || rest.starts_with(" # "),
                "after `m.{name}`: {rest:?}"
            );
            imports.push(name);
        }
    }
    let mut expected = vec!["trunk".to_owned()];
    expected.extend(res.features.iter().map(|r| nix_holds(&r.feature.name)));
    assert_eq!(imports, expected);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some((words, manifests)) = split(&text) else {
        return;
    };
    let count = manifests.len();
    let catalog = match Catalog::from_manifests(manifests) {
        Ok(catalog) => catalog,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!(catalog.features().count() <= count);
    let json = catalog.to_json();
    assert_eq!(
        json.as_array().map(Vec::len),
        Some(catalog.features().count())
    );
    let _ = serde_json::to_string(&json);
    if let Err(e) = catalog.clone().into_valid() {
        let _ = e.to_string();
    }
    for name in catalog.names() {
        let _ = catalog.suggest(name);
    }

    let Some(select) = Select::parse(&words) else {
        return;
    };
    let selection = Selection::from_flags(&select.features, select.profile, select.system);
    let res = match catalog.resolve(&selection) {
        Ok(res) => res,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    check_resolution(&catalog, &selection, &res);
    // `compose::system_for` of the xtask, on an x86_64 machine.
    let system = res.system.unwrap_or_else(|| {
        if res.systems.contains(&System::X86_64Linux) {
            System::X86_64Linux
        } else {
            res.systems.first().copied().unwrap_or(System::X86_64Linux)
        }
    });
    let opts = RenderOptions {
        flake_ref: select
            .flake_ref
            .clone()
            .unwrap_or_else(|| "git+file:///src/domi-nix".to_owned()),
        system,
        command: format!("cargo xtask compose {}", selection.to_flags()),
    };
    let flake = trunk_flake(&res, &opts);
    check_flake(&res, &opts, &flake);
});
