//! The skip policy shared by every tier that cannot run on every machine:
//! a skip is one visible line `SKIP <tier>: <reason> — <fix>`, never a silent
//! pass, and `DOMINIX_REQUIRE_EVAL=1` turns it into a failure.

use std::io::Write;

/// The variable that forbids skipping.
pub const REQUIRE_ENV: &str = "DOMINIX_REQUIRE_EVAL";

/// Whether `DOMINIX_REQUIRE_EVAL=1` is set.
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// For tests: prints the `SKIP …` line straight to the process' stderr (the
/// test harness captures only `print!`/`eprint!`, so the line stays visible),
/// or panics with it when skipping is forbidden.
pub fn skip_test(line: &str) {
    if required() {
        panic!("{line} ({REQUIRE_ENV}=1 forbids skipping)");
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}
