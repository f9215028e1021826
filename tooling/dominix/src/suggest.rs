//! "Did you mean …?" suggestions: optimal-string-alignment (Damerau) distance.

/// Edit distance between `a` and `b` counting insertions, deletions,
/// substitutions and transpositions of adjacent characters (each costs 1).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: i-2, i-1, i.
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        (prev2, prev, cur) = (prev, cur, prev2);
    }
    prev[b.len()]
}

/// The candidate closest to `given`, if it is close enough: distance at most
/// `max(2, len/3)` (len of `given`, in characters; case is ignored) and not a
/// complete rewrite.
/// Ties go to the alphabetically first candidate.
pub(crate) fn nearest<'a, I>(given: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let len = given.chars().count();
    let limit = 2.max(len / 3);
    candidates
        .into_iter()
        .filter(|c| *c != given)
        .map(|c| (distance(&given.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= limit && *d < len.max(c.chars().count()))
        .min()
        .map(|(_, c)| c.to_owned())
}

/// The end of a sentence naming an unknown name: `` — did you mean `x`?``
/// for a suggestion `x`, else `otherwise`.
pub(crate) fn did_you_mean(suggestion: Option<&str>, otherwise: &str) -> String {
    suggestion.map_or_else(
        || otherwise.to_owned(),
        |s| format!(" — did you mean `{s}`?"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases = [
            ("", "", 0),
            ("", "abc", 3),
            ("abc", "", 3),
            ("ui", "ui", 0),
            ("hardenin", "hardening", 1),
            ("hardneing", "hardening", 1), // transposition
            ("kitten", "sitting", 3),
            ("ca", "abc", 3), // OSA, not unrestricted Damerau
            ("héllo", "hello", 1),
        ];
        for (a, b, want) in cases {
            assert_eq!(distance(a, b), want, "distance({a:?}, {b:?})");
            assert_eq!(distance(b, a), want, "distance({b:?}, {a:?})");
        }
    }

    #[test]
    fn nearest_names() {
        let names = ["hardening", "ui", "ssh", "firewall"];
        let cases = [
            ("hardenin", Some("hardening")),
            ("hrdenign", Some("hardening")),
            ("iu", Some("ui")),
            ("sshd", Some("ssh")),
            ("firewal", Some("firewall")),
            ("nope", None),
            ("x", None),
            ("", None),
            ("completely-different", None),
            ("UI", Some("ui")),
            ("Hardening", Some("hardening")),
        ];
        for (given, want) in cases {
            assert_eq!(nearest(given, names).as_deref(), want, "nearest({given:?})");
        }
    }

    #[test]
    fn ties_are_alphabetical() {
        assert_eq!(nearest("ab", ["ac", "aa"]).as_deref(), Some("aa"));
    }
}
