//! The `purity` tier: what in a branch's Nix makes it depend on the machine
//! that evaluates it rather than on the repository and the pinned inputs.
//!
//! Module evaluation runs in restricted mode, so a read outside the
//! repository fails there too — but only where it is evaluated. This tier
//! reads every token of every branch file, so it also catches what sits in a
//! `mkIf false`, and names the file and line either way. A flake build
//! evaluates purely: there `getEnv` answers "", `currentTime` and
//! `currentSystem` do not exist and `<…>` cannot be looked up.

use camino::Utf8Path;
use rnix::SyntaxKind::{TOKEN_COMMENT, TOKEN_IDENT, TOKEN_PATH, TOKEN_WHITESPACE};

/// Why `builtins.<name>` depends on the evaluating machine, if it does.
fn impurity(name: &str) -> Option<&'static str> {
    Some(match name {
        "getEnv" => "reads the environment (a flake build answers \"\")",
        "currentTime" => "depends on the clock (absent in a flake build)",
        "currentSystem" => {
            "depends on the evaluating machine (absent in a flake build); use `pkgs.stdenv.hostPlatform.system`"
        }
        "nixPath" => "depends on the user's NIX_PATH (empty in a flake build)",
        "findFile" => "looks up the user's NIX_PATH (empty in a flake build)",
        "storePath" => "depends on the local store (refused in a flake build)",
        "fetchurl" | "fetchTarball" | "fetchGit" | "fetchTree" | "fetchMercurial" => {
            "fetches at evaluation time"
        }
        _ => return None,
    })
}

/// Every impure use in `text` (the file `file`), one line each with its fix.
pub fn findings(file: &Utf8Path, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = 1;
    // The last two significant tokens: `builtins` `.` before a name.
    let (mut before, mut last) = (String::new(), String::new());
    for (kind, token) in rnix::tokenizer::Tokenizer::new(text) {
        match kind {
            TOKEN_IDENT => {
                let after_builtins = before == "builtins" && last == ".";
                let bare_fetcher = matches!(&*token, "fetchTarball" | "fetchGit") && last != ".";
                if let Some(why) = impurity(&token).filter(|_| after_builtins || bare_fetcher) {
                    out.push(format!(
                        "{file}:{line}: `builtins.{token}` {why}. Fix: make the value an option of the branch, or put the file in its crate"
                    ));
                }
            }
            TOKEN_PATH if token.starts_with('<') => out.push(format!(
                "{file}:{line}: `{token}` is looked up in the user's NIX_PATH, outside the repository (a flake build has none). Fix: take it from the module's arguments (`pkgs`, `lib`) or from a flake input"
            )),
            TOKEN_PATH if token.starts_with('/') || token.starts_with('~') => {
                out.push(format!(
                    "{file}:{line}: `{token}` is a path outside the repository: what the branch evaluates to would depend on this machine. Fix: put the file in the branch's crate and use a relative path (`./file`)"
                ))
            }
            _ => {}
        }
        line += token.matches('\n').count();
        if !matches!(kind, TOKEN_WHITESPACE | TOKEN_COMMENT) {
            before = std::mem::replace(&mut last, token.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::findings;

    fn lines(text: &str) -> Vec<String> {
        findings("crates/x/nixos.nix".into(), text)
    }

    #[test]
    fn impure_uses_are_named_with_file_and_line() {
        let found = lines(
            "{ lib, ... }: {\n  a = builtins.getEnv \"HOME\";\n  b = builtins.readFile /etc/shadow;\n  c = import <nixpkgs> {};\n  d = fetchTarball \"https://x\";\n  e = builtins . currentSystem;\n}\n",
        );
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(found[0].starts_with("crates/x/nixos.nix:2: `builtins.getEnv`"));
        assert!(found[1].starts_with("crates/x/nixos.nix:3: `/etc/shadow`"));
        assert!(found[2].starts_with("crates/x/nixos.nix:4: `<nixpkgs>`"));
        assert!(found[3].starts_with("crates/x/nixos.nix:5: `builtins.fetchTarball`"));
        assert!(found[4].starts_with("crates/x/nixos.nix:6: `builtins.currentSystem`"));
        assert!(found.iter().all(|f| f.contains("Fix: ")));
    }

    #[test]
    fn pure_code_and_lookalikes_pass() {
        let clean = "{ lib, pkgs, fetchurl, ... }: let\n  # builtins.getEnv in a comment\n  s = \"builtins.currentTime and /etc\";\n  x = lib.getEnv;\n  p = ./local/file;\n  f = fetchurl;\n  t = pkgs.fetchTarball;\nin { a = builtins.readFile ./x; b = 1 / 2; }\n";
        assert_eq!(lines(clean), Vec::<String>::new());
    }
}
