//! `cargo xtask`: the one entry point that composes domi-nix trunks and drives
//! Nix. See `cargo xtask --help`; each subcommand lives in its own file.
//!
//! Exit codes: 0 ok, 1 a check or command failed, 2 usage error.

mod audit;
mod bench;
mod build;
mod cells;
mod changed;
mod check;
mod compose;
mod contract;
mod flags;
mod fmt;
mod fsx;
mod kvm;
mod levels;
mod list;
mod matrix;
mod mutants;
mod mutate;
mod nix;
mod progress;
mod project;
mod purity;
mod report;
mod runner;
mod seed;
mod test;
mod test_scripts;
mod vm;

use std::process::ExitCode;

use clap::Parser;

pub use project::Project;

/// An error for the user: what happened and the fix. `code` is the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    /// A failed command or check (exit 1).
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            ..Failure::new(message)
        }
    }
}

/// `Ok` when `ok`, else a failure (exit 1) saying `message()`.
pub fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    ok.then_some(()).ok_or_else(|| Failure::new(message()))
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::new(e.to_string())
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// One `Shell` at the project root for every command; each command's
/// `run` lives in its own file.
fn run(cmd: flags::Cmd, project: &Project) -> Result<()> {
    let sh =
        xshell::Shell::new().map_err(|e| Failure::new(format!("cannot start a shell: {e}")))?;
    sh.change_dir(&project.root);
    use flags::Cmd;
    match cmd {
        Cmd::List(cmd) => cmd.run(&sh, project),
        Cmd::Compose(cmd) => cmd.run(&sh, project),
        Cmd::Check(cmd) => cmd.run(&sh, project),
        Cmd::Audit(cmd) => cmd.run(&sh, project),
        Cmd::Seed(cmd) => cmd.run(&sh, project),
        Cmd::Contract(cmd) => cmd.run(&sh, project),
        Cmd::Build(cmd) => cmd.run(&sh, project),
        Cmd::Vm(cmd) => cmd.run(&sh, project),
        Cmd::Test(cmd) => cmd.run(&sh, project),
        Cmd::Matrix(cmd) => cmd.run(&sh, project),
        Cmd::Bench(cmd) => cmd.run(&sh, project),
        Cmd::Fmt(cmd) => cmd.run(&sh, project),
        Cmd::Mutants(cmd) => cmd.run(&sh, project),
    }
}

fn main() -> ExitCode {
    let flags = flags::Xtask::parse();
    dominix_nix::set_default_timeout(flags.timeout.unwrap_or_else(|| flags.cmd.default_timeout()));
    match Project::locate().and_then(|project| run(flags.cmd, &project)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
