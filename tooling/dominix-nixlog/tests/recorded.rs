//! The parser and the progress state on real `internal-json` output of
//! Nix 2.8 (tests/fixtures, recorded by tests/fixtures/record.sh).

use std::time::Duration;

use dominix_nixlog::{Counts, Line, Notice, State, name_of, parse_line};

const BUILD: &str = include_str!("fixtures/build.jsonl");
const SUBSTITUTE: &str = include_str!("fixtures/substitute.jsonl");

/// Folds `text` into a state, line `i` read at `i` milliseconds; the notices.
fn fold(text: &str) -> (State, Vec<Notice>) {
    let mut state = State::default();
    let notices = text
        .lines()
        .enumerate()
        .map(|(i, line)| state.apply(&parse_line(line), Duration::from_millis(i as u64)))
        .filter(|n| *n != Notice::Quiet)
        .collect();
    (state, notices)
}

fn started(notices: &[Notice]) -> Vec<&str> {
    notices
        .iter()
        .filter_map(|n| match n {
            Notice::Started { drv } => Some(name_of(drv)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_recorded_line_is_an_event() {
    for text in [BUILD, SUBSTITUTE] {
        for line in text.lines() {
            assert!(
                matches!(parse_line(line), Line::Event(_)),
                "not read as an event: {line}"
            );
        }
    }
}

#[test]
fn the_recorded_build_counts_what_nix_did() {
    let (state, notices) = fold(BUILD);
    // Five builds started (needs-bad never does: its dependency failed).
    let mut names = started(&notices);
    names.sort_unstable();
    assert_eq!(names, ["bad", "hang", "leaf", "ok", "top"]);
    // Nix's own count at the end: 3 built (leaf, ok, top), 2 failed (bad,
    // hang), nothing running; needs-bad left the expected count.
    assert_eq!(
        state.builds(),
        Counts {
            done: 3,
            expected: 3,
            running: 0,
            failed: 2
        }
    );
    assert_eq!(state.running().count(), 0);
    assert!(state.current().is_none());
    let log = |name: &str| -> Vec<String> {
        let build = state
            .all_builds()
            .find(|b| b.name() == name)
            .unwrap_or_else(|| panic!("{name} built"));
        build.log.iter().cloned().collect()
    };
    assert_eq!(log("ok"), ["one", "two", "three"]);
    assert_eq!(log("bad"), ["about to fail", "boom"]);
    assert_eq!(log("hang"), ["hanging"]);
    // The failure, colours removed, names the derivation that failed.
    let bad = state
        .all_builds()
        .find(|b| b.name() == "bad")
        .map(|b| b.drv.clone());
    let bad = bad.expect("bad built");
    let errors: Vec<&str> = state.errors_of(&bad).collect();
    assert!(!errors.is_empty(), "{:?}", state.errors());
    assert!(
        errors
            .iter()
            .all(|e| *e == format!("error: builder for '{bad}' failed with exit code 1")),
        "{errors:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::Error(e) if e.contains("bad.drv"))),
        "the error is a notice too"
    );
}

#[test]
fn the_current_build_and_its_last_line_follow_the_log() {
    let mut state = State::default();
    let mut seen = Vec::new();
    for (i, line) in BUILD.lines().enumerate() {
        state.apply(&parse_line(line), Duration::from_millis(i as u64));
        if let Some((build, Some(last))) = state.current() {
            let entry = (build.name().to_owned(), last.to_owned());
            if seen.last() != Some(&entry) {
                seen.push(entry);
            }
        }
    }
    for want in [("ok", "one"), ("ok", "two"), ("ok", "three")] {
        let want = (want.0.to_owned(), want.1.to_owned());
        assert!(seen.contains(&want), "{want:?} not shown: {seen:?}");
    }
    // Builds in flight at once, as Nix counts them: max-jobs 2. (Nix 2.8
    // stops a build's activity only when it forgets the goal, often at the
    // very end, so the activities alone would say more.)
    let mut state = State::default();
    let mut most = 0;
    for (i, line) in BUILD.lines().enumerate() {
        state.apply(&parse_line(line), Duration::from_millis(i as u64));
        most = most.max(state.builds().running);
    }
    assert_eq!(most, 2);
}

#[test]
fn a_substitution_counts_as_a_download() {
    let (state, notices) = fold(SUBSTITUTE);
    assert!(started(&notices).is_empty(), "nothing was built");
    assert_eq!((state.downloads().done, state.downloads().expected), (1, 1));
    assert_eq!(state.builds().done, 0);
    assert!(state.errors().is_empty());
}

#[test]
fn lines_that_are_not_json_change_nothing() {
    // What reaches stderr besides events: a remote builder's SSH chatter,
    // plain warnings, a line cut short (nix-output-monitor issue #116).
    let mut noisy = String::new();
    for (i, line) in BUILD.lines().enumerate() {
        noisy.push_str(line);
        noisy.push('\n');
        match i % 3 {
            0 => noisy.push_str(
                "Warning: Permanently added 'arm' (ED25519) to the list of known hosts.\n",
            ),
            1 => noisy.push_str("@nix {\"action\":\"result\",\"fields\":[\"cut sh\n"),
            _ => noisy.push('\n'),
        }
    }
    let (clean, _) = fold(BUILD);
    let (state, notices) = fold(&noisy);
    assert_eq!(state.builds(), clean.builds());
    assert_eq!(state.errors(), clean.errors());
    let texts = notices
        .iter()
        .filter(|n| matches!(n, Notice::Text(_)))
        .count();
    assert_eq!(texts, BUILD.lines().count(), "each extra line is text");
}
