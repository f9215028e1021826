//! The `vm-tests` tier of `cargo xtask check`: every branch's VM-test script
//! is linted the way the NixOS test framework lints it before a test runs —
//! pyflakes, with the driver's names and the nodes' Python names as builtins
//! — so a misspelled node fails here, not on a CI runner an hour later.

use xshell::Shell;

use std::collections::BTreeMap;

use dominix_eval::VmTest;

use crate::Project;
use crate::nix::NixCommand;

/// Every branch's VM test, with its nodes' evaluated host names.
pub type VmTests = BTreeMap<String, (VmTest, Vec<String>)>;

/// What linting the test scripts found.
pub enum Lint {
    /// It cannot run here: the SKIP line.
    Skipped(String),
    /// It ran: what was checked, and the problems.
    Ran {
        summary: String,
        problems: Vec<String>,
    },
}

/// The names the NixOS test driver defines for a test script
/// (nixos/lib/test-driver: `Driver.test_symbols`).
const DRIVER_SYMBOLS: &[&str] = &[
    "start_all",
    "test_script",
    "machines",
    "vlans",
    "driver",
    "log",
    "create_machine",
    "subtest",
    "run_tests",
    "join_all",
    "retry",
    "serial_stdout_off",
    "serial_stdout_on",
    "polling_condition",
    "Machine",
    "t",
];

/// The Python name the driver gives a node: its host name with every
/// character outside `[A-Za-z0-9_]` turned into `_`.
pub fn python_name(host_name: &str) -> String {
    host_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `tests`: the branches' VM tests, with each node's evaluated host name
/// (`None` when module evaluation did not run).
pub fn lint(sh: &Shell, project: &Project, tests: Option<&VmTests>) -> Lint {
    let Some(tests) = tests else {
        return Lint::Skipped(
            "SKIP vm-tests: the test scripts' node names come from module evaluation, which did not run — see module-eval above".to_owned(),
        );
    };
    let pyflakes = || NixCommand::tool("python3").args(["-m", "pyflakes"]);
    let runs = pyflakes()
        .arg("--version")
        .current_dir(sh.current_dir())
        .run();
    if !runs.is_ok_and(|(status, _)| status.success()) {
        return Lint::Skipped(
            "SKIP vm-tests: pyflakes is not installed — `pip install pyflakes` (python3 -m pyflakes must run)"
                .to_owned(),
        );
    }
    let root = format!("{}/", project.root);
    let mut details = Vec::new();
    for (feature, (test, host_names)) in tests {
        let file = test.file.strip_prefix(&root).unwrap_or(&test.file);
        let mut names: Vec<String> = host_names.iter().map(|h| python_name(h)).collect();
        if names.len() == 1 {
            names.push("machine".to_owned());
        }
        names.extend(DRIVER_SYMBOLS.iter().map(|s| (*s).to_owned()));
        let script = match tempfile::NamedTempFile::new()
            .and_then(|f| std::fs::write(f.path(), &test.test_script).map(|()| f))
        {
            Ok(f) => f,
            Err(e) => {
                details.push(format!(
                    "{file}: cannot write the test script to lint it: {e}"
                ));
                continue;
            }
        };
        let path = script.path();
        let builtins = names.join(",");
        let out = pyflakes()
            .arg(path)
            .env("PYFLAKES_BUILTINS", &builtins)
            .current_dir(sh.current_dir())
            .run();
        match out {
            Ok((status, _)) if status.success() => {}
            Ok((_, out)) => {
                let text = out.stdout + &out.stderr;
                let path = path.display().to_string();
                let findings: Vec<String> = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        l.replace(&path, "testScript line")
                            .replacen("line:", "line ", 1)
                    })
                    .collect();
                details.push(format!(
                    "{file} (branch `{feature}`): pyflakes rejects the test script, as the NixOS test framework would:\n  {}\n\
                     Fix: the nodes are {} (the driver also defines {}); correct the script or the node names in {file}.",
                    findings.join("\n  "),
                    host_names.iter().map(|h| format!("`{}`", python_name(h))).collect::<Vec<_>>().join(", "),
                    "start_all, subtest, machines, driver, …",
                ));
            }
            Err(e) => details.push(format!("{file}: cannot run pyflakes: {e}")),
        }
    }
    Lint::Ran {
        summary: format!("{} test scripts linted (pyflakes, node names)", tests.len()),
        problems: details,
    }
}
