//! The mutants of a NixOS module: each definition it makes, removed or
//! changed, as a text edit. Pure (no files, no processes); `cargo xtask
//! mutants` runs a branch's tests against each (xtask/src/mutants.rs).
//!
//! Where mutants come from:
//! - the value of the module's `config` (or, in a module without `options`
//!   and `config`, every top-level binding but `imports`, `meta` and the
//!   like), and the values of its `let` bindings: every binding of an
//!   attribute set is removed, except one whose value is itself an attribute
//!   set (`mkIf c { … }` and the like count), which is walked instead; every
//!   list element is removed; every boolean is flipped; every integer
//!   changed (0 ↔ 1, otherwise n + 1). The walk goes through function
//!   applications (`mkIf c { … }`, `mkMerge [ … ]`, `mkOverride 900 true`),
//!   both branches of `if`, parentheses, `let … in`, `with`, `assert`, `++`
//!   and `//`.
//! - every `mkOption { … }` under `options`: its `default` only — the same
//!   edits, and a string changed (`"x"` → `"mutated-x"`); never
//!   `description`, `type`, `example` or `defaultText`.
//!
//! Not walked: `inherit`, function-argument patterns, strings'
//! interpolations, documentation keys (`meta`, `description`, …), and the
//! conditions of `if`. Each mutant is parsed again; one that no longer
//! parses is *unviable* and never run.

use rnix::SyntaxKind::{
    NODE_APPLY, NODE_ASSERT, NODE_ATTR_SET, NODE_BIN_OP, NODE_IDENT, NODE_IF_ELSE, NODE_LAMBDA,
    NODE_LET_IN, NODE_LIST, NODE_LITERAL, NODE_PAREN, NODE_SELECT, NODE_STRING, NODE_WITH,
    TOKEN_INTEGER,
};
use rnix::SyntaxNode;
use rnix::types::{
    Apply, AttrSet, BinOp, BinOpKind, EntryHolder, IfElse, KeyValue, Lambda, LetIn, List, Select,
    Str, TypedNode, With, Wrapper,
};

/// One edit of a module's text: `start..end` replaced with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    pub start: usize,
    pub end: usize,
    pub replacement: String,
    /// Where the edit starts, 1-based.
    pub line: usize,
    pub column: usize,
    /// What changed, e.g. `remove config.boot.tmp.cleanOnBoot` or
    /// `let sysctl."kernel.sysrq": 4 → 5`.
    pub description: String,
}

impl Mutant {
    /// The module's text with this mutant applied.
    pub fn apply(&self, text: &str) -> String {
        format!(
            "{}{}{}",
            &text[..self.start],
            self.replacement,
            &text[self.end..]
        )
    }
}

/// The mutants of one module, in the order of the text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mutants {
    /// Those that still parse.
    pub viable: Vec<Mutant>,
    /// Those that do not (never run, only counted).
    pub unviable: Vec<Mutant>,
}

/// Bindings that document rather than configure.
const DOC_KEYS: &[&str] = &[
    "meta",
    "description",
    "longDescription",
    "example",
    "defaultText",
    "relatedPackages",
];

/// Top-level bindings of a module that are not configuration.
const MODULE_KEYS: &[&str] = &[
    "imports",
    "disabledModules",
    "_file",
    "_class",
    "key",
    "meta",
    "freeformType",
];

/// What a prefix for changed strings looks like.
const STRING_PREFIX: &str = "mutated-";

/// The mutants of the NixOS module `text`; `Err` with the parser's message
/// when `text` itself does not parse.
pub fn mutants(text: &str) -> Result<Mutants, String> {
    let ast = rnix::parse(text);
    if let Some(error) = ast.errors().first() {
        return Err(error.to_string());
    }
    let mut walk = Walk {
        text,
        found: Vec::new(),
    };
    if let Some(root) = ast.root().inner() {
        walk.module(root);
    }
    Ok(classify(text, walk.found))
}

/// Sorted, without duplicates or edits that change nothing, and split into
/// those that parse and those that do not.
fn classify(text: &str, mut found: Vec<Mutant>) -> Mutants {
    found.retain(|m| text[m.start..m.end] != m.replacement);
    found.sort_by_key(|m| (m.start, m.end));
    found.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.replacement == b.replacement);
    let (viable, unviable) = found
        .into_iter()
        .partition(|m| rnix::parse(&m.apply(text)).errors().is_empty());
    Mutants { viable, unviable }
}

/// How values are edited: in configuration, or in an option's `default`
/// (where strings are changed too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Config,
    Default,
}

struct Walk<'a> {
    text: &'a str,
    found: Vec<Mutant>,
}

/// The node, parentheses removed.
fn unparen(mut node: SyntaxNode) -> SyntaxNode {
    while node.kind() == NODE_PAREN {
        match rnix::types::Paren::cast(node.clone()).and_then(|p| p.inner()) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// A binding's attribute path, one component per element as written
/// (`"kernel.sysrq"` keeps its quotes).
fn key_path(kv: &KeyValue) -> Vec<String> {
    kv.key()
        .map(|k| k.path().map(|c| c.text().to_string()).collect())
        .unwrap_or_default()
}

/// Whether a value is an attribute set, or evaluates to one written here:
/// through parentheses, applications (`mkIf c { … }`), `if`, `let`, `with`.
fn wraps_attrset(node: &SyntaxNode) -> bool {
    let node = unparen(node.clone());
    match node.kind() {
        NODE_ATTR_SET => true,
        NODE_APPLY => Apply::cast(node)
            .and_then(|a| a.value())
            .is_some_and(|v| wraps_attrset(&v)),
        NODE_IF_ELSE => IfElse::cast(node).is_some_and(|i| {
            i.body().is_some_and(|b| wraps_attrset(&b))
                || i.else_body().is_some_and(|b| wraps_attrset(&b))
        }),
        NODE_LET_IN => LetIn::cast(node)
            .and_then(|l| l.body())
            .is_some_and(|b| wraps_attrset(&b)),
        NODE_WITH => With::cast(node)
            .and_then(|w| w.body())
            .is_some_and(|b| wraps_attrset(&b)),
        _ => false,
    }
}

/// `mkOption` or `<anything>.mkOption`.
fn is_mk_option(function: &SyntaxNode) -> bool {
    match function.kind() {
        NODE_IDENT => function.text() == "mkOption",
        NODE_SELECT => Select::cast(function.clone())
            .and_then(|s| s.index())
            .is_some_and(|i| i.text() == "mkOption"),
        _ => false,
    }
}

/// The first line of a node's text, at most 40 characters.
fn snippet(node: &SyntaxNode) -> String {
    let text = node.text().to_string();
    let line = text.lines().next().unwrap_or_default().trim();
    let short: String = line.chars().take(40).collect();
    if short.len() < line.len() || text.trim().lines().count() > 1 {
        format!("{short}…")
    } else {
        short
    }
}

fn join(path: &[String]) -> String {
    path.join(".")
}

fn with(path: &[String], more: impl IntoIterator<Item = String>) -> Vec<String> {
    path.iter().cloned().chain(more).collect()
}

impl Walk<'_> {
    fn push(&mut self, node: &SyntaxNode, replacement: String, description: String) {
        let range = node.text_range();
        let (start, end) = (usize::from(range.start()), usize::from(range.end()));
        self.push_range(start, end, replacement, description);
    }

    fn push_range(&mut self, start: usize, end: usize, replacement: String, description: String) {
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        self.found.push(Mutant {
            start,
            end,
            replacement,
            line,
            column,
            description,
        });
    }

    /// The file: `{ … }: let … in { options …; config …; }`.
    fn module(&mut self, node: SyntaxNode) {
        let node = unparen(node);
        match node.kind() {
            NODE_LAMBDA => {
                if let Some(body) = Lambda::cast(node).and_then(|l| l.body()) {
                    self.module(body);
                }
            }
            NODE_LET_IN => {
                let Some(let_in) = LetIn::cast(node) else {
                    return;
                };
                self.let_bindings(&let_in);
                if let Some(body) = let_in.body() {
                    self.module(body);
                }
            }
            NODE_WITH => {
                if let Some(body) = With::cast(node).and_then(|w| w.body()) {
                    self.module(body);
                }
            }
            NODE_ATTR_SET => {
                let Some(set) = AttrSet::cast(node) else {
                    return;
                };
                let entries: Vec<KeyValue> = set.entries().collect();
                let split = entries.iter().any(|kv| {
                    key_path(kv)
                        .first()
                        .is_some_and(|k| k == "options" || k == "config")
                });
                for kv in entries {
                    let path = key_path(&kv);
                    let Some(first) = path.first() else { continue };
                    let Some(value) = kv.value() else { continue };
                    match first.as_str() {
                        "options" => self.options(value, &path),
                        "config" if path.len() == 1 => self.value(value, &path, Ctx::Config),
                        "config" => self.binding(&kv, &path, Ctx::Config),
                        key if MODULE_KEYS.contains(&key) => {}
                        _ if !split => self.binding(&kv, &path, Ctx::Config),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// The values of a `let`'s bindings (the bindings themselves stay: the
    /// body refers to them).
    fn let_bindings(&mut self, let_in: &LetIn) {
        for kv in let_in.entries() {
            let path = with(&["let".to_owned()], key_path(&kv));
            let path = vec![path.join(" ")];
            if let Some(value) = kv.value() {
                self.value(value, &path, Ctx::Config);
            }
        }
    }

    /// Option declarations: every `mkOption`'s `default`.
    fn options(&mut self, node: SyntaxNode, path: &[String]) {
        let node = unparen(node);
        match node.kind() {
            NODE_ATTR_SET => {
                let Some(set) = AttrSet::cast(node) else {
                    return;
                };
                for kv in set.entries() {
                    if let Some(value) = kv.value() {
                        self.options(value, &with(path, key_path(&kv)));
                    }
                }
            }
            NODE_LET_IN => {
                if let Some(body) = LetIn::cast(node).and_then(|l| l.body()) {
                    self.options(body, path);
                }
            }
            NODE_APPLY => {
                let Some(apply) = Apply::cast(node) else {
                    return;
                };
                let (Some(function), Some(argument)) = (apply.lambda(), apply.value()) else {
                    return;
                };
                let argument = unparen(argument);
                if !is_mk_option(&function) {
                    return;
                }
                let Some(set) = AttrSet::cast(argument) else {
                    return;
                };
                for kv in set.entries() {
                    if key_path(&kv) == ["default"]
                        && let Some(value) = kv.value()
                    {
                        self.value(value, &with(path, ["default".to_owned()]), Ctx::Default);
                    }
                }
            }
            _ => {}
        }
    }

    /// A binding of an attribute set being walked: removed (unless its
    /// value is an attribute set), and its value walked.
    fn binding(&mut self, kv: &KeyValue, path: &[String], ctx: Ctx) {
        if path.iter().any(|k| DOC_KEYS.contains(&k.as_str())) {
            return;
        }
        let Some(value) = kv.value() else { return };
        if !wraps_attrset(&value) {
            self.push(kv.node(), String::new(), format!("remove {}", join(path)));
        }
        self.value(value, path, ctx);
    }

    fn value(&mut self, node: SyntaxNode, path: &[String], ctx: Ctx) {
        match node.kind() {
            NODE_PAREN => {
                if let Some(inner) = rnix::types::Paren::cast(node).and_then(|p| p.inner()) {
                    self.value(inner, path, ctx);
                }
            }
            NODE_ATTR_SET => {
                let Some(set) = AttrSet::cast(node) else {
                    return;
                };
                for kv in set.entries() {
                    self.binding(&kv, &with(path, key_path(&kv)), ctx);
                }
            }
            NODE_LIST => {
                let Some(list) = List::cast(node) else { return };
                for item in list.items() {
                    if !wraps_attrset(&item) {
                        let what = format!("remove {} from {}", snippet(&item), join(path));
                        self.push(&item, String::new(), what);
                    }
                    if item.kind() != NODE_STRING {
                        self.value(item, path, ctx);
                    }
                }
            }
            NODE_APPLY => {
                let Some(apply) = Apply::cast(node) else {
                    return;
                };
                for part in [apply.lambda(), apply.value()].into_iter().flatten() {
                    self.value(part, path, ctx);
                }
            }
            NODE_IF_ELSE => {
                let Some(if_else) = IfElse::cast(node) else {
                    return;
                };
                for branch in [if_else.body(), if_else.else_body()].into_iter().flatten() {
                    self.value(branch, path, ctx);
                }
            }
            NODE_LET_IN => {
                let Some(let_in) = LetIn::cast(node) else {
                    return;
                };
                self.let_bindings(&let_in);
                if let Some(body) = let_in.body() {
                    self.value(body, path, ctx);
                }
            }
            NODE_WITH => {
                if let Some(body) = With::cast(node).and_then(|w| w.body()) {
                    self.value(body, path, ctx);
                }
            }
            NODE_ASSERT => {
                if let Some(body) = rnix::types::Assert::cast(node).and_then(|a| a.body()) {
                    self.value(body, path, ctx);
                }
            }
            NODE_BIN_OP => {
                let Some(op) = BinOp::cast(node) else { return };
                if matches!(op.operator(), Some(BinOpKind::Concat | BinOpKind::Update)) {
                    for side in [op.lhs(), op.rhs()].into_iter().flatten() {
                        self.value(side, path, ctx);
                    }
                }
            }
            NODE_LAMBDA => {
                if let Some(body) = Lambda::cast(node).and_then(|l| l.body()) {
                    self.value(body, path, ctx);
                }
            }
            NODE_IDENT => {
                let flipped = match node.text().to_string().as_str() {
                    "true" => "false",
                    "false" => "true",
                    _ => return,
                };
                let what = format!("{}: {} → {flipped}", join(path), node.text());
                self.push(&node, flipped.to_owned(), what);
            }
            NODE_LITERAL => {
                let is_integer = node
                    .first_token()
                    .is_some_and(|t| t.kind() == TOKEN_INTEGER);
                let Some(n) = is_integer
                    .then(|| node.text().to_string().parse::<i64>().ok())
                    .flatten()
                else {
                    return;
                };
                let changed = match n {
                    0 => 1,
                    1 => 0,
                    n => n.saturating_add(1),
                };
                let what = format!("{}: {n} → {changed}", join(path));
                self.push(&node, changed.to_string(), what);
            }
            NODE_STRING if ctx == Ctx::Default => self.string(node, path),
            _ => {}
        }
    }

    /// A string without interpolation, changed by a prefix after its
    /// opening quote(s).
    fn string(&mut self, node: SyntaxNode, path: &[String]) {
        let Some(string) = Str::cast(node.clone()) else {
            return;
        };
        let parts = string.parts();
        if parts
            .iter()
            .any(|p| !matches!(p, rnix::StrPart::Literal(_)))
        {
            return;
        }
        let text = node.text().to_string();
        let quote = if text.starts_with("''") { 2 } else { 1 };
        let start = usize::from(node.text_range().start()) + quote;
        let content: String = parts
            .iter()
            .filter_map(|p| match p {
                rnix::StrPart::Literal(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        let what = format!(
            "{}: {:?} → {:?}",
            join(path),
            content,
            format!("{STRING_PREFIX}{content}")
        );
        self.push_range(start, start, STRING_PREFIX.to_owned(), what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Mutants {
        mutants(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn descriptions(text: &str) -> Vec<String> {
        of(text)
            .viable
            .iter()
            .map(|m| m.description.clone())
            .collect()
    }

    /// Every viable mutant parses, differs from the original, and is applied
    /// where it says.
    fn check_all(text: &str) {
        let found = of(text);
        for m in &found.viable {
            let changed = m.apply(text);
            assert_ne!(changed, text, "{m:?}");
            assert!(
                rnix::parse(&changed).errors().is_empty(),
                "{m:?}:\n{changed}"
            );
            let before = &text[..m.start];
            assert_eq!(before.lines().count().max(1), m.line.max(1), "{m:?}");
        }
    }

    #[test]
    fn config_bindings_are_removed_and_literals_changed() {
        let text = "{ config, lib, ... }: {\n  config = lib.mkIf config.x.enable {\n    boot.tmp.cleanOnBoot = true;\n    boot.kernelParams = [ \"a\" \"b\" ];\n    x.level = 7;\n    y = { z = 0; };\n  };\n}\n";
        assert_eq!(
            descriptions(text),
            [
                "remove config.boot.tmp.cleanOnBoot",
                "config.boot.tmp.cleanOnBoot: true → false",
                "remove config.boot.kernelParams",
                "remove \"a\" from config.boot.kernelParams",
                "remove \"b\" from config.boot.kernelParams",
                "remove config.x.level",
                "config.x.level: 7 → 8",
                "remove config.y.z",
                "config.y.z: 0 → 1",
            ]
        );
        let found = of(text);
        assert_eq!((found.viable[0].line, found.viable[0].column), (3, 5));
        assert_eq!(found.viable[1].replacement, "false");
        assert_eq!(
            found.viable[0].apply(text).lines().nth(2),
            Some("    "),
            "the whole binding, `;` included, goes"
        );
        check_all(text);
    }

    #[test]
    fn walks_through_merges_conditions_and_overrides() {
        let text = "{ lib, cfg, ... }: {\n  config = lib.mkMerge [\n    { a = lib.mkOverride 900 true; }\n    (lib.mkIf cfg.strict { b = if cfg.x then 2 else 1; })\n    (lib.mkIf true { c = 1; })\n  ];\n}\n";
        assert_eq!(
            descriptions(text),
            [
                "remove config.a",
                "config.a: 900 → 901",
                "config.a: true → false",
                "remove config.b",
                "config.b: 2 → 3",
                "config.b: 1 → 0",
                "config: true → false",
                "remove config.c",
                "config.c: 1 → 0",
            ]
        );
        check_all(text);
    }

    #[test]
    fn let_values_are_mutated_but_let_bindings_stay() {
        let text = "{ config, lib, ... }: let\n  cfg = config.x;\n  inherit (lib) mkIf;\n  dflt = lib.mkOverride 900;\n  sysctl = {\n    \"kernel.sysrq\" = 4;\n    \"fs.suid_dumpable\" = 0;\n  };\nin {\n  config = mkIf cfg.enable { boot.kernel.sysctl = lib.mapAttrs (_: dflt) sysctl; };\n}\n";
        assert_eq!(
            descriptions(text),
            [
                "let dflt: 900 → 901",
                "remove let sysctl.\"kernel.sysrq\"",
                "let sysctl.\"kernel.sysrq\": 4 → 5",
                "remove let sysctl.\"fs.suid_dumpable\"",
                "let sysctl.\"fs.suid_dumpable\": 0 → 1",
                "remove config.boot.kernel.sysctl",
            ]
        );
        let found = of(text);
        assert_eq!(found.viable[1].line, 6);
        assert_eq!(found.viable[1].column, 5);
        check_all(text);
    }

    #[test]
    fn option_defaults_only() {
        let text = "{ lib, ... }: with lib; {\n  options.x = {\n    level = mkOption {\n      type = types.enum [\"a\" \"b\"];\n      default = \"a\";\n      example = \"b\";\n      description = \"The level.\";\n    };\n    params = lib.mkOption {\n      type = types.listOf types.str;\n      default = [\"p\" \"q\"] ++ lib.optionals true [\"r\"];\n      defaultText = lib.literalMD \"p, q\";\n    };\n    on = mkOption { type = types.bool; default = false; };\n    n = mkOption { default = 3; };\n    multi = mkOption { default = ''\n      hello\n    ''; };\n    computed = mkOption { default = \"${lib.version}\"; };\n    enabled = mkEnableOption \"x\";\n  };\n}\n";
        assert_eq!(
            descriptions(text),
            [
                "options.x.level.default: \"a\" → \"mutated-a\"",
                "remove \"p\" from options.x.params.default",
                "remove \"q\" from options.x.params.default",
                "options.x.params.default: true → false",
                "remove \"r\" from options.x.params.default",
                "options.x.on.default: false → true",
                "options.x.n.default: 3 → 4",
                "options.x.multi.default: \"hello\\n\" → \"mutated-hello\\n\"",
            ]
        );
        let found = of(text);
        assert_eq!(found.viable[0].replacement, "mutated-");
        assert!(
            found.viable[0]
                .apply(text)
                .contains("default = \"mutated-a\";")
        );
        check_all(text);
    }

    #[test]
    fn skipped_syntax_makes_no_mutants() {
        // inherit, argument patterns (and their defaults), interpolations,
        // documentation keys, config strings, `if` conditions, comparisons.
        let text = "{ lib, enable ? true, ... }: {\n  config = {\n    inherit (lib) x;\n    s = \"${toString 5}\";\n    meta.maintainers = [ 1 ];\n    services.x.description = \"d\";\n    t = if 1 == 2 then { } else { };\n  };\n  imports = [ ./a.nix ];\n}\n";
        assert_eq!(descriptions(text), ["remove config.s"]);
    }

    #[test]
    fn a_module_without_options_and_config_is_all_config() {
        let text = "{\n  imports = [ ./x.nix ];\n  networking.firewall.enable = true;\n  environment.systemPackages = [ pkgs.a ];\n}\n";
        assert_eq!(
            descriptions(text),
            [
                "remove networking.firewall.enable",
                "networking.firewall.enable: true → false",
                "remove environment.systemPackages",
                "remove pkgs.a from environment.systemPackages",
            ]
        );
        check_all(text);
    }

    #[test]
    fn a_mutant_that_does_not_parse_is_unviable() {
        let text = "{\n  config.x = 1;\n}\n";
        let mut found = of(text).viable;
        assert_eq!(found.len(), 2, "{found:?}");
        // The walk's edits always parse; one that loses the `;` does not.
        let semicolon = text.find(';').unwrap_or_default();
        found.push(Mutant {
            start: semicolon,
            end: semicolon + 1,
            replacement: String::new(),
            line: 2,
            column: 15,
            description: "lose the semicolon".to_owned(),
        });
        let classified = classify(text, found);
        assert_eq!(classified.viable.len(), 2);
        assert_eq!(classified.unviable.len(), 1);
        assert_eq!(classified.unviable[0].description, "lose the semicolon");
    }

    #[test]
    fn a_file_that_does_not_parse_is_an_error() {
        assert!(mutants("{ a = ; }").is_err());
    }

    #[test]
    fn the_real_modules_mutate_cleanly() {
        for file in ["crates/hardening/nixos.nix", "crates/ui/nixos.nix"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // a catalog without this branch
            };
            check_all(&text);
            assert!(!of(&text).viable.is_empty(), "{file} has no mutants");
        }
    }
}
