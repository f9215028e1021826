//! A Nix command line as a value, and running it bounded in time.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::FEATURES;

/// The bound of every call that does not set its own, in seconds.
static DEFAULT_TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT.as_secs());

/// The bound of a Nix call until [`set_default_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Bounds every Nix call this process makes from now on (except those that
/// set their own with [`NixCommand::timeout`]): the xtask sets its command's
/// default, or `--timeout`, once at start.
pub fn set_default_timeout(timeout: Duration) {
    DEFAULT_TIMEOUT_SECS.store(timeout.as_secs().max(1), Ordering::Relaxed);
}

/// The bound a new [`NixCommand`] gets.
pub fn default_timeout() -> Duration {
    Duration::from_secs(DEFAULT_TIMEOUT_SECS.load(Ordering::Relaxed))
}

/// One Nix call: the program, its arguments (the experimental features
/// first), how long it may take, and where its stderr goes.
#[derive(Debug, Clone)]
pub struct NixCommand {
    program: String,
    args: Vec<OsString>,
    timeout: Option<Duration>,
    stderr_to_terminal: bool,
    interactive: bool,
    dir: Option<std::path::PathBuf>,
    env: Vec<(OsString, OsString)>,
}

/// What a finished Nix call printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    /// Empty when stderr went to the terminal.
    pub stderr: String,
}

/// Why a Nix call did not answer. Each message names the call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NixError {
    #[error(
        "`{program}` is not on PATH — install Nix ≥ 2.8 (Debian/Ubuntu: `apt-get install nix-bin`)"
    )]
    NotFound { program: String },
    #[error("cannot run `{command}`: {error}")]
    Spawn { command: String, error: String },
    #[error("`{command}` failed ({status}){}", stderr_part(.stderr))]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error(
        "`{command}` did not finish within {} s and was stopped, with every process it started. \
         Fix: if it was only slow, give it longer with `--timeout <seconds>`; if it hangs, run the \
         command by hand to see where",
        .after.as_secs()
    )]
    TimedOut { command: String, after: Duration },
    #[error("`{command}` answered something that is not UTF-8")]
    NotUtf8 { command: String },
    #[error(
        "Nix is installed but does not answer: {detail}. Fix: repair the Nix installation (`nix --version` \
         must print its version), or take the broken `nix` off PATH"
    )]
    Broken { detail: String },
}

fn stderr_part(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!(":\n{stderr}")
    }
}

impl NixError {
    /// Nix's own stderr, when it ran and failed.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            NixError::Failed { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

impl NixCommand {
    fn new(program: &str) -> NixCommand {
        NixCommand::tool(program).args(["--extra-experimental-features", FEATURES])
    }

    /// Another program the tooling runs (deadnix, pyflakes, git, tar), with
    /// the same bounds as a Nix call: a timeout that stops its whole process
    /// group and names it. No Nix flags are added.
    pub fn tool(program: &str) -> NixCommand {
        NixCommand {
            program: program.to_owned(),
            args: Vec::new(),
            timeout: Some(default_timeout()),
            stderr_to_terminal: false,
            interactive: false,
            dir: None,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for the call.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> NixCommand {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// `nix <subcommand> …`, e.g. `NixCommand::nix("build")`.
    pub fn nix(subcommand: &str) -> NixCommand {
        NixCommand::new("nix").arg(subcommand)
    }

    /// `nix-instantiate …` (Nix 2.8's `nix eval --file` cannot pass `--argstr`).
    pub fn instantiate() -> NixCommand {
        NixCommand::new("nix-instantiate")
    }

    /// `nix-store …`.
    pub fn store() -> NixCommand {
        NixCommand::new("nix-store")
    }

    pub fn arg(self, arg: impl AsRef<OsStr>) -> NixCommand {
        self.args([arg])
    }

    pub fn args<I, S>(mut self, args: I) -> NixCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Stops the call (and everything it started) after `timeout` instead
    /// of [`default_timeout`]; `None` only for a call a person drives.
    pub fn timeout(mut self, timeout: Option<Duration>) -> NixCommand {
        self.timeout = timeout;
        self
    }

    /// Lets Nix's progress and errors through to the terminal.
    pub fn stderr_to_terminal(mut self) -> NixCommand {
        self.stderr_to_terminal = true;
        self
    }

    /// Gives Nix the terminal: stdin, stdout and stderr (an interactive
    /// driver, say). Nothing is captured, and nothing stops it but the
    /// person at the terminal: it has no timeout.
    pub fn interactive(mut self) -> NixCommand {
        self.interactive = true;
        self.timeout = None;
        self
    }

    /// Runs in `dir` instead of the current directory.
    pub fn current_dir(mut self, dir: impl AsRef<std::path::Path>) -> NixCommand {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// The whole command line, program first.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect()
    }

    /// The command line as one would type it (for messages).
    pub fn display(&self) -> String {
        self.argv()
            .iter()
            .map(|w| {
                if !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-#".contains(c))
                {
                    w.clone()
                } else {
                    format!("'{}'", w.replace('\'', r"'\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the call; its stdout (and stderr, unless it goes to the
    /// terminal) when it succeeds.
    pub fn output(&self) -> Result<Output, NixError> {
        let (status, output) = self.run()?;
        if status.success() {
            Ok(output)
        } else {
            Err(NixError::Failed {
                command: self.display(),
                status: describe(status),
                stderr: output.stderr,
            })
        }
    }

    /// Runs the call whatever its exit status; the status and what it printed.
    pub fn run(&self) -> Result<(ExitStatus, Output), NixError> {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        // An interactive call keeps the terminal's stdin, stdout and stderr
        // (`spawn` inherits them) and its process group.
        if !self.interactive {
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(
                if self.stderr_to_terminal {
                    Stdio::inherit()
                } else {
                    Stdio::piped()
                },
            );
            // Its own process group, so a timeout stops everything it started.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
        }
        let mut child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => NixError::NotFound {
                program: self.program.clone(),
            },
            _ => self.spawn_error(e),
        })?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = self.wait(&mut child)?;
        let stdout = String::from_utf8(stdout.join().unwrap_or_default()).map_err(|_| {
            NixError::NotUtf8 {
                command: self.display(),
            }
        })?;
        let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
        Ok((status, Output { stdout, stderr }))
    }

    fn spawn_error(&self, error: std::io::Error) -> NixError {
        NixError::Spawn {
            command: self.display(),
            error: error.to_string(),
        }
    }

    fn wait(&self, child: &mut Child) -> Result<ExitStatus, NixError> {
        let Some(timeout) = self.timeout else {
            return child.wait().map_err(|e| self.spawn_error(e));
        };
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() >= deadline => {
                    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                        let _ =
                            rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(NixError::TimedOut {
                        command: self.display(),
                        after: timeout,
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(self.spawn_error(e)),
            }
        }
    }
}

/// Reads a pipe to its end on a thread of its own (so neither pipe fills up).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// The one check that Nix is installed and answers: its version.
pub fn available() -> Result<String, NixError> {
    // Asked once per process: `check` and the evaluator both need the answer.
    static ANSWER: std::sync::OnceLock<Result<String, NixError>> = std::sync::OnceLock::new();
    ANSWER.get_or_init(ask_version).clone()
}

fn ask_version() -> Result<String, NixError> {
    let broken = |detail: String| NixError::Broken { detail };
    let out = NixCommand::nix("--version")
        .timeout(Some(default_timeout().min(Duration::from_secs(30))))
        .output()
        .map_err(|e| match e {
            NixError::NotFound { .. } => e,
            e => broken(e.to_string()),
        })?;
    let version = out.stdout.trim().to_owned();
    if version.starts_with("nix (Nix) ") {
        Ok(version)
    } else {
        Err(broken(format!(
            "`nix --version` answered {version:?}, not a Nix version"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    impl NixCommand {
        /// The same call, with the program taken from `dir`.
        fn program_in(mut self, dir: &Path) -> NixCommand {
            self.program = dir.join(&self.program).display().to_string();
            self
        }
    }

    /// A `nix` in `dir` that runs `script`. Installed by a child process:
    /// a writable descriptor of the executable held by this process could
    /// leak into a child another test thread forks at that moment, and
    /// exec would then fail with ETXTBSY ("Text file busy").
    fn fake_nix(dir: &Path, script: &str) {
        let draft = dir.join("nix.draft");
        std::fs::write(&draft, format!("#!/bin/sh\n{script}\n")).expect("write");
        let status = std::process::Command::new("install")
            .args(["-m", "755"])
            .arg(&draft)
            .arg(dir.join("nix"))
            .status()
            .expect("install");
        assert!(status.success(), "cannot install the fake nix");
    }

    #[test]
    fn a_hanging_nix_is_stopped_with_its_children() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("child.pid");
        fake_nix(
            dir.path(),
            &format!("sleep 300 & echo $! > {}\nwait", pidfile.display()),
        );
        let started = Instant::now();
        let err = NixCommand::nix("eval")
            .program_in(dir.path())
            .timeout(Some(Duration::from_millis(500)))
            .output()
            .expect_err("times out");
        assert!(matches!(err, NixError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
        let message = err.to_string();
        assert!(message.contains("'nix-command flakes' eval"), "{message}");
        assert!(message.contains("--timeout"), "{message}");
        let child = std::fs::read_to_string(&pidfile).expect("the child wrote its pid");
        std::thread::sleep(Duration::from_millis(100));
        // Gone, or a zombie waiting to be reaped by whoever inherited it.
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.trim())).unwrap_or_default();
        let alive = stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        assert!(!alive, "the grandchild `sleep` was stopped too");
    }

    #[test]
    fn a_failing_or_killed_nix_is_a_failure_naming_the_call() {
        let dir = tempfile::tempdir().expect("tempdir");
        fake_nix(dir.path(), "echo 'error: boom' >&2\nexit 1");
        let err = NixCommand::nix("eval")
            .program_in(dir.path())
            .output()
            .expect_err("fails");
        assert!(matches!(err, NixError::Failed { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("exit code 1") && message.contains("error: boom"),
            "{message}"
        );

        fake_nix(dir.path(), "kill -9 $$");
        let err = NixCommand::nix("eval")
            .program_in(dir.path())
            .output()
            .expect_err("killed");
        assert!(err.to_string().contains("killed by signal 9"), "{err}");
    }

    #[test]
    fn a_missing_nix_says_how_to_install_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = NixCommand::nix("eval")
            .program_in(dir.path())
            .output()
            .expect_err("missing");
        assert!(matches!(err, NixError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("apt-get install nix-bin"), "{err}");
    }

    #[test]
    fn every_call_passes_the_features_first() {
        assert_eq!(
            NixCommand::nix("build").arg("x").argv(),
            [
                "nix",
                "--extra-experimental-features",
                "nix-command flakes",
                "build",
                "x"
            ]
        );
        assert_eq!(
            NixCommand::store().display(),
            "nix-store --extra-experimental-features 'nix-command flakes'"
        );
    }
}
