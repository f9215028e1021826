//! A Nix command line as a value, and running it bounded in time.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
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

/// The flag that stops every running call: once it is set (by a signal
/// handler the xtask registers with `signal_hook::flag::register`, say),
/// each call still running is stopped with its whole process group and
/// answers [`NixError::Interrupted`], and no new call starts — except those
/// marked [`NixCommand::uninterruptible`] (short queries that let a partial
/// report be written).
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| Arc::new(AtomicBool::new(false))))
}

/// Whether [`interrupt_flag`] was set.
pub fn interrupted() -> bool {
    interrupt_flag().load(Ordering::Relaxed)
}

/// What [`NixCommand::run_streaming`] hands its callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream<'a> {
    /// One line of the call's stderr, without its line end (lossily UTF-8).
    Line(&'a str),
    /// Nothing arrived for a while (about a tenth of a second): a chance to
    /// redraw progress or print a heartbeat.
    Tick,
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
    interruptible: bool,
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
    #[error("`{command}` was stopped by an interrupt, with every process it started")]
    Interrupted { command: String },
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
            interruptible: true,
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

    /// `nix-eval-jobs …` (nix-community/nix-eval-jobs, when installed): it
    /// takes Nix's settings as flags, the experimental features first.
    pub fn eval_jobs() -> NixCommand {
        NixCommand::new("nix-eval-jobs")
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

    /// Keeps running after an interrupt (see [`interrupt_flag`]): for a short,
    /// bounded query whose answer a partial report needs.
    pub fn uninterruptible(mut self) -> NixCommand {
        self.interruptible = false;
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
        self.execute(None)
    }

    /// Runs the call whatever its exit status, handing each line of its
    /// stderr to `on` as it arrives (and [`Stream::Tick`] when none does),
    /// on this thread. The timeout and the interrupt flag stop it as they
    /// stop [`NixCommand::run`]. The returned stderr is empty: every line
    /// went to `on`.
    pub fn run_streaming(
        &self,
        mut on: impl FnMut(Stream<'_>),
    ) -> Result<(ExitStatus, Output), NixError> {
        self.execute(Some(&mut on))
    }

    fn execute(
        &self,
        on: Option<&mut dyn FnMut(Stream<'_>)>,
    ) -> Result<(ExitStatus, Output), NixError> {
        if self.interruptible && interrupted() {
            return Err(self.interrupted());
        }
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let streaming = on.is_some() && !self.interactive;
        // An interactive call keeps the terminal's stdin, stdout and stderr
        // (`spawn` inherits them) and its process group.
        if !self.interactive {
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(
                if self.stderr_to_terminal && !streaming {
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
        let (status, stderr) = match on {
            Some(on) if streaming => {
                let lines = lines(child.stderr.take());
                (self.wait(&mut child, Some((&lines, on)))?, Vec::new())
            }
            _ => {
                let stderr = drain(child.stderr.take());
                let status = self.wait(&mut child, None)?;
                (status, stderr.join().unwrap_or_default())
            }
        };
        let stdout = String::from_utf8(stdout.join().unwrap_or_default()).map_err(|_| {
            NixError::NotUtf8 {
                command: self.display(),
            }
        })?;
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        Ok((status, Output { stdout, stderr }))
    }

    fn spawn_error(&self, error: std::io::Error) -> NixError {
        NixError::Spawn {
            command: self.display(),
            error: error.to_string(),
        }
    }

    fn interrupted(&self) -> NixError {
        NixError::Interrupted {
            command: self.display(),
        }
    }

    /// Waits for the child, feeding `stream`'s lines to its callback; stops
    /// the child's whole process group when the timeout passes or an
    /// interrupt arrives.
    fn wait(
        &self,
        child: &mut Child,
        mut stream: Option<Streaming<'_>>,
    ) -> Result<ExitStatus, NixError> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        // Asked to stop first (TERM to the group): Nix then stops its
        // builders itself — they run in sessions of their own, out of reach
        // of the group — and exits. Whatever is left of the group after
        // that, or after ten seconds, is killed.
        let stop = |child: &mut Child| {
            use rustix::process::{Pid, Signal, kill_process_group};
            if let Some(pid) = Pid::from_raw(child.id() as i32) {
                let _ = kill_process_group(pid, Signal::TERM);
                let grace = Instant::now() + Duration::from_secs(10);
                while Instant::now() < grace && matches!(child.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = kill_process_group(pid, Signal::KILL);
            }
            let _ = child.kill();
            let _ = child.wait();
        };
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => return Err(self.spawn_error(e)),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                stop(child);
                return Err(NixError::TimedOut {
                    command: self.display(),
                    after: self.timeout.unwrap_or_default(),
                });
            }
            if self.interruptible && !self.interactive && interrupted() {
                stop(child);
                return Err(self.interrupted());
            }
            match &mut stream {
                Some((lines, on)) => feed(lines, &mut **on, Duration::from_millis(100)),
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        // What the child printed before it exited. A grandchild still
        // holding the pipe open cannot keep the call alive past its bound.
        if let Some((lines, on)) = stream {
            let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(5));
            loop {
                let left = until.saturating_duration_since(Instant::now());
                match lines.recv_timeout(left.min(Duration::from_secs(5))) {
                    Ok(line) => on(Stream::Line(&line)),
                    Err(_) => break,
                }
            }
        }
        Ok(status)
    }
}

/// The lines of a streaming call's stderr and whom to hand them.
type Streaming<'a> = (&'a mpsc::Receiver<String>, &'a mut dyn FnMut(Stream<'_>));

/// Hands `on` every line waiting (or one [`Stream::Tick`] after `idle`).
fn feed(lines: &mpsc::Receiver<String>, on: &mut dyn FnMut(Stream<'_>), idle: Duration) {
    match lines.recv_timeout(idle) {
        Ok(line) => {
            on(Stream::Line(&line));
            while let Ok(line) = lines.try_recv() {
                on(Stream::Line(&line));
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => on(Stream::Tick),
        // The pipe is closed: the child is about to exit.
        Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(Duration::from_millis(10)),
    }
}

/// Reads a pipe line by line on a thread of its own, sending each line.
fn lines<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        let mut reader = std::io::BufReader::new(pipe);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']).to_owned();
            if send.send(text).is_err() {
                return;
            }
            line.clear();
        }
    });
    receive
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

/// Nix's version as (major, minor), from [`available`]: `nix (Nix) 2.8.0`,
/// `nix (Nix) 2.28.3`, or Lix's `nix (Lix, like Nix) 2.91.1`. `None` when
/// Nix does not answer.
pub fn version() -> Option<(u32, u32)> {
    available().ok().and_then(|v| parse_version(&v))
}

/// The (major, minor) of a `nix --version` line.
pub fn parse_version(line: &str) -> Option<(u32, u32)> {
    let number = line.split_whitespace().last()?;
    let mut parts = number.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    Some((parts.next()??, parts.next()??))
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
    if version.starts_with("nix (") && parse_version(&version).is_some() {
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
    fn a_stopped_nix_is_asked_first_so_it_can_stop_what_it_started() {
        // Nix's builders run in sessions of their own: only Nix can stop
        // them, so it is sent TERM (and given time) before the group is killed.
        let dir = tempfile::tempdir().expect("tempdir");
        let cleaned = dir.path().join("cleaned");
        fake_nix(
            dir.path(),
            &format!(
                "trap 'echo yes > {}; exit 1' TERM\nsleep 300 &\nwait",
                cleaned.display()
            ),
        );
        let started = Instant::now();
        let err = NixCommand::nix("build")
            .program_in(dir.path())
            .timeout(Some(Duration::from_millis(500)))
            .output()
            .expect_err("times out");
        assert!(matches!(err, NixError::TimedOut { .. }), "{err}");
        assert_eq!(
            std::fs::read_to_string(&cleaned).ok().as_deref(),
            Some("yes\n"),
            "the fake got TERM before it was killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "it exited at once"
        );
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
    fn stderr_lines_are_streamed_as_they_come_and_stdout_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        fake_nix(
            dir.path(),
            "echo one >&2\nprintf 'two\\r\\n' >&2\nsleep 0.3\necho out\nprintf 'no end' >&2",
        );
        let started = Instant::now();
        let mut seen = Vec::new();
        let mut ticks = 0;
        let (status, output) = NixCommand::nix("build")
            .program_in(dir.path())
            .run_streaming(|event| match event {
                Stream::Line(line) => seen.push((line.to_owned(), started.elapsed())),
                Stream::Tick => ticks += 1,
            })
            .expect("runs");
        assert!(status.success());
        assert_eq!(output.stdout, "out\n");
        assert_eq!(output.stderr, "", "every line went to the callback");
        let lines: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(lines, ["one", "two", "no end"]);
        // `one` arrived before the child slept, not when it exited.
        assert!(seen[0].1 < seen[2].1, "{seen:?}");
        assert!(ticks > 0, "the 0.3 s pause gave ticks");
    }

    #[test]
    fn a_streaming_call_that_hangs_is_stopped_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        fake_nix(dir.path(), "echo started >&2\nsleep 300");
        let mut lines = Vec::new();
        let err = NixCommand::nix("build")
            .program_in(dir.path())
            .timeout(Some(Duration::from_millis(400)))
            .run_streaming(|e| {
                if let Stream::Line(l) = e {
                    lines.push(l.to_owned())
                }
            })
            .expect_err("times out");
        assert!(matches!(err, NixError::TimedOut { .. }), "{err}");
        assert_eq!(lines, ["started"]);
    }

    #[test]
    fn versions_of_nix_and_lix_are_read() {
        assert_eq!(parse_version("nix (Nix) 2.8.0"), Some((2, 8)));
        assert_eq!(parse_version("nix (Nix) 2.28.3"), Some((2, 28)));
        assert_eq!(parse_version("nix (Lix, like Nix) 2.91.1"), Some((2, 91)));
        assert_eq!(
            parse_version("nix (Nix) 2.30pre20250101_abc"),
            Some((2, 30))
        );
        assert_eq!(parse_version("hello"), None);
        assert_eq!(parse_version(""), None);
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
