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

/// The names the NixOS test driver defines for a test script
/// (nixos/lib/test-driver: `Driver.test_symbols`), as PYFLAKES_BUILTINS lists them.
const DRIVER_SYMBOLS: &str = "start_all,test_script,machines,vlans,driver,log,create_machine,\
    subtest,run_tests,join_all,retry,serial_stdout_off,serial_stdout_on,polling_condition,Machine,t";

/// The Python name the driver gives a node: its host name with every
/// character outside `[A-Za-z0-9_]` turned into `_`.
pub fn python_name(host_name: &str) -> String {
    host_name.replace(|c: char| !(c.is_ascii_alphanumeric() || c == '_'), "_")
}

/// `tests`: the branches' VM tests, with each node's evaluated host name
/// (`None` when module evaluation did not run). Returns what was checked and
/// the problems, or the SKIP line when the lint cannot run here.
pub fn lint(
    sh: &Shell,
    project: &Project,
    tests: Option<&VmTests>,
) -> Result<(String, Vec<String>), String> {
    let Some(tests) = tests else {
        return Err(
            "SKIP vm-tests: the test scripts' node names come from module evaluation, which did not run — see module-eval above".to_owned(),
        );
    };
    let pyflakes = || {
        NixCommand::tool("python3")
            .args(["-m", "pyflakes"])
            .current_dir(sh.current_dir())
    };
    let version = pyflakes().arg("--version").run();
    if !version.is_ok_and(|(status, _)| status.success()) {
        return Err(
            "SKIP vm-tests: pyflakes is not installed — `pip install pyflakes` (python3 -m pyflakes must run)"
                .to_owned(),
        );
    }
    let root = format!("{}/", project.root);
    let mut details = Vec::new();
    for (feature, (test, host_names)) in tests {
        let file = test.file.strip_prefix(&root).unwrap_or(&test.file);
        let nodes: Vec<String> = host_names.iter().map(|h| python_name(h)).collect();
        let mut names = nodes.clone();
        if names.len() == 1 {
            names.push("machine".to_owned());
        }
        names.push(DRIVER_SYMBOLS.to_owned());
        let script = tempfile::NamedTempFile::new()
            .and_then(|f| std::fs::write(f.path(), &test.test_script).map(|()| f));
        let script = match script {
            Ok(f) => f,
            Err(e) => {
                details.push(format!(
                    "{file}: cannot write the test script to lint it: {e}"
                ));
                continue;
            }
        };
        let lint = pyflakes().arg(script.path());
        match lint.env("PYFLAKES_BUILTINS", names.join(",")).run() {
            Ok((status, _)) if status.success() => {}
            Ok((_, out)) => {
                let path = script.path().display().to_string();
                let findings: Vec<String> = (out.stdout + &out.stderr)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        l.replace(&path, "testScript line")
                            .replacen("line:", "line ", 1)
                    })
                    .collect();
                let nodes: Vec<String> = nodes.iter().map(|n| format!("`{n}`")).collect();
                details.push(format!(
                    "{file} (branch `{feature}`): pyflakes rejects the test script, as the NixOS test framework would:\n  {}\n\
                     Fix: the nodes are {} (the driver also defines {}); correct the script or the node names in {file}.",
                    findings.join("\n  "),
                    nodes.join(", "),
                    "start_all, subtest, machines, driver, …",
                ));
            }
            Err(e) => details.push(format!("{file}: cannot run pyflakes: {e}")),
        }
    }
    let summary = format!("{} test scripts linted (pyflakes, node names)", tests.len());
    Ok((summary, details))
}
