//! Escaping for the Nix we generate. Every string that reaches Nix goes
//! through [`string_literal`], every attribute name through [`attr_name`],
//! and every comment through [`comment`].

/// Nix keywords, which cannot be bare attribute names.
const KEYWORDS: [&str; 10] = [
    "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or",
];

/// `s` as a double-quoted Nix string literal whose value is exactly `s`:
/// escapes `\`, `"`, `${` (as `\${`), newline, tab and carriage return.
///
/// Except NUL, which no Nix string can hold: Nix silently ends the value at
/// a NUL in the source (`"a<NUL>b"` is `"a"`, and `m."a<NUL>b"` is `m.a`), so
/// each NUL is written as U+FFFD REPLACEMENT CHARACTER instead.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            '\0' => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `name` as an attribute name: bare when it is a plain identifier
/// (`^[a-zA-Z_][a-zA-Z0-9_'-]*$`) and not a keyword, else a string literal.
pub fn attr_name(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = matches!(chars.next(), Some('a'..='z' | 'A'..='Z' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'));
    if identifier && !KEYWORDS.contains(&name) {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

/// `text` made safe to place after `# ` on one line: every control character
/// (newlines included) becomes a space, so it cannot end the comment.
pub fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals() {
        let cases = [
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("git+file:///src/domi-nix", r#""git+file:///src/domi-nix""#),
            (r#"say "hi""#, r#""say \"hi\"""#),
            (r"back\slash", r#""back\\slash""#),
            (r"\${x}", r#""\\\${x}""#),
            (r#"${builtins.abort "x"}"#, r#""\${builtins.abort \"x\"}""#),
            ("a\nb\tc\rd", r#""a\nb\tc\rd""#),
            (
                "$ alone and $x and {braces}",
                r#""$ alone and $x and {braces}""#,
            ),
            ("$${x}", r#""$\${x}""#),
            ("trailing $", r#""trailing $""#),
            ("''${x}''", r#""''\${x}''""#),
            ("ünïcødé ✓", r#""ünïcødé ✓""#),
        ];
        for (input, want) in cases {
            assert_eq!(string_literal(input), want, "string_literal({input:?})");
        }
    }

    /// Decode a literal the way the Nix lexer does, to prove round-trips
    /// and that no interpolation can start.
    fn decode(lit: &str) -> Option<String> {
        let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    other => out.push(other),
                },
                '"' => return None, // unescaped quote ends the string early
                '$' if chars.peek() == Some(&'{') => return None, // interpolation
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn hostile_strings_round_trip() {
        let hostile = [
            r#"${builtins.abort "x"}"#,
            r#"";  inputs.evil.url = "github:evil/evil"; x = ""#,
            "\\\\\"\\${",
            "line1\nline2\r\n\ttabbed",
            "$${${${}}}",
            "\\",
            "\"",
            "${",
        ];
        for s in hostile {
            let lit = string_literal(s);
            assert_eq!(
                decode(&lit).as_deref(),
                Some(s),
                "round trip of {s:?} via {lit}"
            );
            assert!(!lit.contains('\n'), "{lit} must stay on one line");
        }
    }

    /// Found by tests/escape_props.rs: `"a<NUL>b"` read back as `"a"`, and
    /// `attr_name("a<NUL>b")` selected the attribute `a`.
    #[test]
    fn nul_becomes_the_replacement_character() {
        assert_eq!(string_literal("a\0b"), "\"a\u{FFFD}b\"");
        assert_eq!(string_literal("\0${"), "\"\u{FFFD}\\${\"");
        assert_eq!(attr_name("a\0b"), "\"a\u{FFFD}b\"");
        assert!(!string_literal("\0\0").contains('\0'));
    }

    #[test]
    fn attr_names() {
        let cases = [
            ("hardening", "hardening"),
            ("domi-nix", "domi-nix"),
            ("_private", "_private"),
            ("x'", "x'"),
            ("a1", "a1"),
            ("1a", r#""1a""#),
            ("-a", r#""-a""#),
            ("", r#""""#),
            ("with space", r#""with space""#),
            ("in", r#""in""#),
            ("or", r#""or""#),
            ("inherit", r#""inherit""#),
            ("rec", r#""rec""#),
            ("true", "true"),
            ("a.b", r#""a.b""#),
            ("${x}", r#""\${x}""#),
            ("ui\"", r#""ui\"""#),
        ];
        for (input, want) in cases {
            assert_eq!(attr_name(input), want, "attr_name({input:?})");
        }
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("cargo xtask compose"), "cargo xtask compose");
        assert_eq!(comment("a\nb\rc\td\u{0}e"), "a b c d e");
        assert_eq!(comment("${x} \"q\""), "${x} \"q\"");
    }
}
