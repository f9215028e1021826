//! `cargo xtask mutants <branch>`: mutation testing of a branch's NixOS
//! module. Each definition the module makes (xtask/src/mutate.rs) is removed
//! or changed, one at a time, in a scratch copy of the tree, and the
//! branch's tests run against it; a mutant under which every test still
//! passes *survives*: no test asserts that definition.
//!
//! Speed: the tests are built once. The unmutated run records every
//! evaluation the tests ask for (`dominix_eval::replay`); then, per chunk of
//! mutants, one Nix process evaluates all of them in every mutant's copy
//! (`Evaluator::eval_batch_in`), and each mutant's run of the test binaries
//! reads those answers instead of starting Nix. A case the batch could not
//! answer (a failure, whose message takes a process of its own) is
//! evaluated by the test as usual. Chunks run on `--jobs` workers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use dominix_eval::{Case, Evaluator, replay};
use serde::Serialize;
use xshell::Shell;

use crate::fsx::Interrupts;
use crate::mutate::{self, Mutant};
use crate::nix::NixCommand;
use crate::{Failure, Project, Result};

/// Files of a branch that are not its NixOS module.
const NOT_THE_MODULE: &[&str] = &["feature.nix", "vm-test.nix", "package.nix"];

/// What a scratch copy holds: the files module evaluation and the tests read.
const COPIED: &[&str] = &[
    "flake.lock",
    "flake.nix",
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "nix-modules",
    "crates",
    "tooling",
];

/// Mutants evaluated by one Nix process at most.
const CHUNK: usize = 8;

/// A mutant's tests may take this many times the unmutated run, and at least
/// [`MIN_TIMEOUT`], unless `--mutant-timeout` says otherwise.
const TIMEOUT_FACTOR: u32 = 10;
const MIN_TIMEOUT: Duration = Duration::from_secs(30);

/// One mutant of one file of the branch.
struct Site {
    /// Relative to the checkout, e.g. `crates/hardening/nixos.nix`.
    file: Utf8PathBuf,
    mutant: Mutant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    Killed,
    Survived,
    TimedOut,
    Unviable,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Killed => "killed",
            Status::Survived => "SURVIVED",
            Status::TimedOut => "timed-out",
            Status::Unviable => "unviable",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Row {
    status: Status,
    file: Utf8PathBuf,
    line: usize,
    column: usize,
    description: String,
    /// This mutant's share of its batch's evaluation plus its test run.
    seconds: f64,
    /// The tests that failed (killed), or the test binary that ran out of time.
    failed_tests: Vec<String>,
    #[serde(skip)]
    order: (Utf8PathBuf, usize),
}

impl Row {
    fn new(site: &Site, status: Status) -> Row {
        Row {
            status,
            file: site.file.clone(),
            line: site.mutant.line,
            column: site.mutant.column,
            description: site.mutant.description.clone(),
            seconds: 0.0,
            failed_tests: Vec::new(),
            order: (site.file.clone(), site.mutant.start),
        }
    }

    fn place(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    mutants: usize,
    killed: usize,
    survived: usize,
    timed_out: usize,
    unviable: usize,
    jobs: usize,
    /// Whether evaluations were batched (not `--no-batch`).
    batched: bool,
    /// Evaluations one run of the tests asks for (answered from the batch).
    cases: usize,
    build_seconds: f64,
    baseline_seconds: f64,
    /// Wall-clock time of all mutants, and per mutant (what `--jobs` buys).
    seconds: f64,
    seconds_per_mutant: f64,
    /// What one mutant costs a worker, on average: its share of a batch
    /// evaluation, and its run of the test binaries.
    mean_evaluation_seconds: f64,
    mean_test_seconds: f64,
}

#[derive(Serialize)]
struct Report<'a> {
    branch: &'a str,
    summary: &'a Summary,
    mutants: &'a [Row],
}

impl crate::flags::Mutants {
    pub fn run(self, _sh: &Shell, project: &Project) -> Result<()> {
        let catalog = project.valid_catalog()?;
        let branch = self.branch.as_str();
        if catalog.get(branch).is_none() {
            return Err(Failure::usage(
                dominix::ResolveError::UnknownFeature {
                    name: branch.to_owned(),
                    suggestion: catalog.suggest(branch),
                    known: catalog.names().map(str::to_owned).collect(),
                }
                .to_string(),
            ));
        }
        let jobs = self.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let (sites, unviable) = enumerate(project, branch)?;
        let progress = |line: &str| {
            if self.json {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        };
        if sites.is_empty() && unviable.is_empty() {
            progress(&format!(
                "{branch}: no definitions to mutate in the .nix files of crates/{branch}/ (besides {})",
                NOT_THE_MODULE.join(", ")
            ));
            return Ok(());
        }
        let mut summary = Summary {
            jobs,
            batched: !self.no_batch,
            ..Summary::default()
        };

        let evaluator = Evaluator::new(project.root.clone());
        evaluator.preflight().map_err(|reason| {
            Failure::new(format!(
                "mutants of `{branch}`: module evaluation cannot run here: {reason}"
            ))
        })?;
        let started = Instant::now();
        let binaries = test_binaries(project, branch)?;
        summary.build_seconds = started.elapsed().as_secs_f64();

        let scratch = Scratch::create(project)?;
        let interrupts = Interrupts::watch()?;
        let run = Run {
            branch,
            binaries: &binaries,
            scratch: &scratch,
            timeout: dominix_nix::default_timeout(),
            batched: !self.no_batch,
        };
        let started = Instant::now();
        let records = run.baseline()?;
        let baseline = started.elapsed();
        summary.baseline_seconds = baseline.as_secs_f64();
        summary.cases = records.len();
        let timeout = self.mutant_timeout.unwrap_or_else(|| {
            (baseline * TIMEOUT_FACTOR)
                .max(MIN_TIMEOUT)
                .min(dominix_nix::default_timeout())
        });
        let run = Run { timeout, ..run };
        if run.batched {
            run.replayed_baseline(&records)?;
        }

        let mut rows: Vec<Row> = unviable
            .iter()
            .map(|site| Row::new(site, Status::Unviable))
            .collect();
        for row in &rows {
            progress(&line(row));
        }
        let started = Instant::now();
        let (tested, evaluation) = run.all(&sites, &records, jobs, &interrupts, |row| {
            progress(&line(row))
        })?;
        summary.seconds = started.elapsed().as_secs_f64();
        if interrupts.arrived() {
            return Err(Failure::new(format!(
                "mutants of `{branch}` interrupted after {} of {} mutants; the scratch copies were removed. Fix: run the command again",
                tested.len(),
                sites.len()
            )));
        }
        let count = tested.len().max(1) as f64;
        let worked: f64 = tested.iter().map(|r| r.seconds).sum();
        summary.seconds_per_mutant = summary.seconds / count;
        summary.mean_evaluation_seconds = evaluation.as_secs_f64() / count;
        summary.mean_test_seconds = (worked - evaluation.as_secs_f64()).max(0.0) / count;
        rows.extend(tested);
        rows.sort_by(|a, b| a.order.cmp(&b.order));
        summary.mutants = rows.len();
        let of = |status| rows.iter().filter(|r| r.status == status).count();
        summary.killed = of(Status::Killed);
        summary.survived = of(Status::Survived);
        summary.timed_out = of(Status::TimedOut);
        summary.unviable = of(Status::Unviable);

        if self.json {
            let report = Report {
                branch,
                summary: &summary,
                mutants: &rows,
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        progress(&summary_line(branch, &summary));
        let survivors: Vec<String> = rows
            .iter()
            .filter(|r| r.status == Status::Survived)
            .map(|r| format!("  {}: {}", r.place(), r.description))
            .collect();
        crate::ensure(survivors.is_empty(), || {
            format!(
                "{} of {} mutants of `{branch}` survived — no test of `cargo test -p {branch}` fails without these definitions:\n{}\nFix: assert each of them in crates/{branch}/tests/ (so that removing or changing it fails a test), then run `cargo xtask mutants {branch}` again",
                survivors.len(),
                summary.mutants,
                survivors.join("\n")
            )
        })
    }
}

/// `killed     crates/x/nixos.nix:12:5   remove config.a   0.21 s`.
fn line(row: &Row) -> String {
    let mut text = format!(
        "{:<10} {:<34} {}",
        row.status.label(),
        row.place(),
        row.description
    );
    if row.status != Status::Unviable {
        text.push_str(&format!("  {:.2} s", row.seconds));
    }
    if row.status == Status::TimedOut
        && let Some(binary) = row.failed_tests.first()
    {
        text.push_str(&format!(" ({binary} stopped)"));
    }
    text
}

fn summary_line(branch: &str, s: &Summary) -> String {
    let evaluation = if s.batched {
        format!(
            "{:.2} s evaluating its {} cases in a batch, then {:.2} s running the tests on the answers",
            s.mean_evaluation_seconds, s.cases, s.mean_test_seconds
        )
    } else {
        format!(
            "{:.2} s running the tests, each starting Nix (--no-batch)",
            s.mean_evaluation_seconds + s.mean_test_seconds
        )
    };
    format!(
        "{branch}: {} mutants: {} killed, {} survived, {} timed out, {} unviable\n\
         time: {:.1} s, {:.2} s per mutant with {} jobs; one mutant on a worker: {evaluation}; \
         build {:.1} s, unmutated run {:.2} s",
        s.mutants,
        s.killed,
        s.survived,
        s.timed_out,
        s.unviable,
        s.seconds,
        s.seconds_per_mutant,
        s.jobs,
        s.build_seconds,
        s.baseline_seconds,
    )
}

/// The branch's module files: every `.nix` file under `crates/<branch>/`
/// but the fragment, the VM test and the package; their mutants, viable
/// and not.
fn enumerate(project: &Project, branch: &str) -> Result<(Vec<Site>, Vec<Site>)> {
    let dir = project.root.join("crates").join(branch);
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(next) = stack.pop() {
        let entries = next
            .read_dir_utf8()
            .map_err(|e| Failure::new(format!("cannot read {next}: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure::new(format!("cannot read {next}: {e}")))?;
            let (path, name) = (entry.path(), entry.file_name());
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && !name.starts_with('.') && name != "target" {
                stack.push(path.to_owned());
            } else if !is_dir && name.ends_with(".nix") && !NOT_THE_MODULE.contains(&name) {
                files.push(path.to_owned());
            }
        }
    }
    files.sort();
    let (mut viable, mut unviable) = (Vec::new(), Vec::new());
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::new(format!("cannot read {path}: {e}")))?;
        let file = path
            .strip_prefix(&project.root)
            .map_or_else(|_| path.clone(), Utf8Path::to_owned);
        let found = mutate::mutants(&text).map_err(|e| {
            Failure::new(format!(
                "{file} does not parse: {e}. Fix: correct it (`nix-instantiate --parse {file}` shows Nix's own message)"
            ))
        })?;
        let site = |mutant| Site {
            file: file.clone(),
            mutant,
        };
        viable.extend(found.viable.into_iter().map(site));
        unviable.extend(found.unviable.into_iter().map(site));
    }
    Ok((viable, unviable))
}

/// `cargo test -p <branch> --no-run`, in the real tree (its target/); the
/// test executables, from Cargo's JSON messages.
fn test_binaries(project: &Project, branch: &str) -> Result<Vec<Utf8PathBuf>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let command = format!("cargo test -p {branch} --no-run");
    let (status, output) = NixCommand::tool(&cargo)
        .args(["test", "-p", branch, "--no-run"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(&project.root)
        .stderr_to_terminal()
        .run()
        .map_err(|e| Failure::new(format!("`{command}`: {e}")))?;
    if !status.success() {
        return Err(Failure::new(format!(
            "`{command}` failed ({status}); Cargo's error is printed above. Fix: make `cargo test -p {branch}` build, then run `cargo xtask mutants {branch}` again"
        )));
    }
    let binaries: Vec<Utf8PathBuf> = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| m["executable"].as_str().map(Utf8PathBuf::from))
        .collect();
    crate::ensure(!binaries.is_empty(), || {
        format!(
            "`{command}` built no test executable, so no mutant could be killed. Fix: add tests under crates/{branch}/tests/ (README, \"Adding a feature\")"
        )
    })?;
    Ok(binaries)
}

/// A temporary directory (removed when dropped, interrupts included) with
/// `base/`, a copy of the checkout's files that evaluation and the tests
/// read, and per mutant a copy of `base/` in hard links with the mutated
/// file written anew.
struct Scratch {
    /// Removes the whole directory when dropped.
    _dir: tempfile::TempDir,
    path: Utf8PathBuf,
}

impl Scratch {
    fn create(project: &Project) -> Result<Scratch> {
        let fail = |e: &dyn std::fmt::Display| {
            Failure::new(format!(
                "cannot create a scratch directory for the mutants: {e}. Fix: set TMPDIR to a writable directory with a UTF-8 path"
            ))
        };
        let dir = tempfile::Builder::new()
            .prefix("domi-nix-mutants-")
            .tempdir()
            .map_err(|e| fail(&e))?;
        let path = Utf8PathBuf::from_path_buf(dir.path().to_owned())
            .map_err(|p| fail(&format!("{} is not UTF-8", p.display())))?;
        let scratch = Scratch { _dir: dir, path };
        let base = scratch.base();
        std::fs::create_dir(&base).map_err(|e| fail(&e))?;
        for name in COPIED {
            let from = project.root.join(name);
            if from.exists() {
                copy_tree(&from, &base.join(name), Link::Copy)?;
            }
        }
        std::fs::create_dir(scratch.path.join("record")).map_err(|e| fail(&e))?;
        Ok(scratch)
    }

    fn base(&self) -> Utf8PathBuf {
        self.path.join("base")
    }

    /// Mutant `n`'s checkout and answers directory, created.
    fn mutant(&self, n: usize, site: &Site) -> Result<(Utf8PathBuf, Utf8PathBuf)> {
        let root = self.path.join(format!("m{n}"));
        let answers = self.path.join(format!("a{n}"));
        copy_tree(&self.base(), &root, Link::Hard)?;
        let file = root.join(&site.file);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Failure::new(format!("cannot read {file}: {e}")))?;
        // A hard link shares its contents with base/: unlink before writing.
        let write = std::fs::remove_file(&file)
            .and_then(|()| std::fs::write(&file, site.mutant.apply(&text)))
            .and_then(|()| std::fs::create_dir(&answers));
        write.map_err(|e| Failure::new(format!("cannot write {file}: {e}")))?;
        Ok((root, answers))
    }

    fn remove(&self, n: usize) {
        for dir in [format!("m{n}"), format!("a{n}")] {
            let _ = std::fs::remove_dir_all(self.path.join(dir));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    Copy,
    /// Hard links, or copies where the file system has none.
    Hard,
}

/// Copies the tree at `from` to `to`, skipping `target/`, `result` links and
/// hidden directories below the top (`.cargo` itself is copied).
fn copy_tree(from: &Utf8Path, to: &Utf8Path, link: Link) -> Result<()> {
    let fail = |path: &Utf8Path, e: std::io::Error| {
        Failure::new(format!(
            "cannot copy {path} into the scratch directory: {e}. Fix: set TMPDIR to a directory with room"
        ))
    };
    let kind = std::fs::symlink_metadata(from).map_err(|e| fail(from, e))?;
    if kind.is_file() {
        let linked = link == Link::Hard && std::fs::hard_link(from, to).is_ok();
        if !linked {
            std::fs::copy(from, to).map_err(|e| fail(from, e))?;
        }
        return Ok(());
    }
    if !kind.is_dir() {
        return Ok(()); // symlinks (`result`) and the like
    }
    std::fs::create_dir(to).map_err(|e| fail(to, e))?;
    for entry in from.read_dir_utf8().map_err(|e| fail(from, e))? {
        let entry = entry.map_err(|e| fail(from, e))?;
        let name = entry.file_name();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && (name == "target" || name.starts_with('.')) {
            continue;
        }
        copy_tree(entry.path(), &to.join(name), link)?;
    }
    Ok(())
}

/// A mutant tested (its row and its share of the batch's time), or why not.
type Done = Result<(Row, Duration)>;

/// How a run of the test binaries went.
enum Outcome {
    Passed,
    Failed(Vec<String>),
    TimedOut(String),
}

struct Run<'a> {
    branch: &'a str,
    binaries: &'a [Utf8PathBuf],
    scratch: &'a Scratch,
    timeout: Duration,
    /// Whether mutants are evaluated in batches (else each test starts Nix).
    batched: bool,
}

impl Run<'_> {
    /// Every test binary against the checkout at `root` (`DOMINIX_ROOT`),
    /// with `env` added; skips are failures (`DOMINIX_REQUIRE_EVAL=1`).
    fn tests(&self, root: &Utf8Path, env: &[(&str, &Utf8Path)]) -> Result<(Outcome, String)> {
        let mut output = String::new();
        for binary in self.binaries {
            let mut command = NixCommand::tool(binary.as_str())
                .args(["--color", "never"])
                .current_dir(root.join("crates").join(self.branch))
                .env("DOMINIX_ROOT", root)
                .env("DOMINIX_REQUIRE_EVAL", "1")
                .env("CARGO_MANIFEST_DIR", root.join("crates").join(self.branch))
                .timeout(Some(self.timeout));
            for (key, value) in env {
                command = command.env(key, value);
            }
            let name = binary.file_name().unwrap_or(binary.as_str()).to_owned();
            let (status, out) = match command.run() {
                Ok(done) => done,
                Err(dominix_nix::NixError::TimedOut { .. }) => {
                    return Ok((Outcome::TimedOut(name), output));
                }
                Err(e) => {
                    return Err(Failure::new(format!(
                        "cannot run the test binary {binary}: {e}. Fix: rebuild it with `cargo test -p {} --no-run`",
                        self.branch
                    )));
                }
            };
            output.push_str(&out.stdout);
            output.push_str(&out.stderr);
            if !status.success() {
                let mut failed = failed_tests(&out.stdout);
                if failed.is_empty() {
                    failed.push(format!("{name} ({status})"));
                }
                return Ok((Outcome::Failed(failed), output));
            }
        }
        Ok((Outcome::Passed, output))
    }

    /// The unmutated tests, recording the cases they evaluate. Every test
    /// must pass.
    fn baseline(&self) -> Result<BTreeMap<String, replay::Record>> {
        let record = self.scratch.path.join("record");
        let env = [(replay::RECORD_VAR, record.as_path())];
        let (outcome, output) = self.tests(&self.scratch.base(), &env)?;
        self.expect_pass(outcome, &output, "")?;
        replay::recorded(record.as_std_path()).map_err(|e| {
            Failure::new(format!(
                "cannot read the cases the tests recorded in {record}: {e}"
            ))
        })
    }

    /// The unmutated tests again, answered from a batch: they must pass, or
    /// the batch would not stand for what the tests evaluate.
    fn replayed_baseline(&self, records: &BTreeMap<String, replay::Record>) -> Result<()> {
        let base = self.scratch.base();
        let answers = self.scratch.path.join("answers-base");
        std::fs::create_dir(&answers)
            .map_err(|e| Failure::new(format!("cannot create {answers}: {e}")))?;
        let evaluator = Evaluator::new(base.clone());
        let roots = vec![(0, base.clone(), answers.clone())];
        batch(&evaluator, records, &roots)?;
        let (outcome, output) = self.tests(&base, &[(replay::ANSWERS_VAR, answers.as_path())])?;
        self.expect_pass(
            outcome,
            &output,
            " when answered from a batch evaluation (a bug of `cargo xtask mutants`: please report it with this output)",
        )
    }

    fn expect_pass(&self, outcome: Outcome, output: &str, context: &str) -> Result<()> {
        let branch = self.branch;
        let failed = match outcome {
            Outcome::Passed => return Ok(()),
            Outcome::Failed(tests) => tests.join(", "),
            Outcome::TimedOut(binary) => format!("{binary} (timed out)"),
        };
        Err(Failure::new(format!(
            "the unmutated tests of `{branch}` fail{context}: {failed}\n{}\nFix: make `cargo test -p {branch}` pass first, then run `cargo xtask mutants {branch}` again",
            tail(output, 40)
        )))
    }

    /// Every mutant, `jobs` chunks at a time; each finished mutant is handed
    /// to `report` as it comes. Also the time spent evaluating batches.
    fn all(
        &self,
        sites: &[Site],
        records: &BTreeMap<String, replay::Record>,
        jobs: usize,
        interrupts: &Interrupts,
        mut report: impl FnMut(&Row),
    ) -> Result<(Vec<Row>, Duration)> {
        let chunk = sites.len().div_ceil(jobs.max(1)).clamp(1, CHUNK);
        let chunks: Vec<(usize, &[Site])> = sites
            .chunks(chunk)
            .enumerate()
            .map(|(i, c)| (i * chunk, c))
            .collect();
        let next = AtomicUsize::new(0);
        let evaluator = Evaluator::new(self.scratch.base());
        let (send, receive) = mpsc::channel::<Done>();
        std::thread::scope(|scope| {
            for _ in 0..jobs.min(chunks.len()) {
                let send = send.clone();
                let (next, chunks, evaluator) = (&next, &chunks, &evaluator);
                scope.spawn(move || {
                    while let Some((first, chunk)) = chunks.get(next.fetch_add(1, Ordering::SeqCst))
                    {
                        let go_on = !interrupts.arrived()
                            && self.chunk(evaluator, records, *first, chunk, interrupts, &send);
                        if !go_on {
                            return;
                        }
                    }
                });
            }
            drop(send);
            let mut rows = Vec::new();
            let mut evaluation = Duration::ZERO;
            for result in receive {
                let (row, share) = result?;
                evaluation += share;
                report(&row);
                rows.push(row);
            }
            Ok((rows, evaluation))
        })
    }

    /// One chunk: its checkouts, one batch evaluation, then each mutant's
    /// tests, each sent as it is done. Whether to go on (no error, no
    /// interrupt, someone listening).
    fn chunk(
        &self,
        evaluator: &Evaluator,
        records: &BTreeMap<String, replay::Record>,
        first: usize,
        sites: &[Site],
        interrupts: &Interrupts,
        send: &mpsc::Sender<Done>,
    ) -> bool {
        let started = Instant::now();
        let prepared = sites
            .iter()
            .enumerate()
            .map(|(i, site)| {
                let (root, answers) = self.scratch.mutant(first + i, site)?;
                Ok((first + i, root, answers))
            })
            .collect::<Result<Vec<_>>>()
            .and_then(|roots| {
                if self.batched {
                    batch(evaluator, records, &roots)?;
                }
                Ok(roots)
            });
        let roots = match prepared {
            Ok(roots) => roots,
            Err(e) => {
                let _ = send.send(Err(e));
                return false;
            }
        };
        let share = started.elapsed() / sites.len().max(1) as u32;
        for (site, (n, root, answers)) in sites.iter().zip(&roots) {
            if interrupts.arrived() {
                return false;
            }
            let started = Instant::now();
            let env = [(replay::ANSWERS_VAR, answers.as_path())];
            let env = if self.batched { &env[..] } else { &[] };
            let result = self.tests(root, env).map(|(outcome, _)| {
                let mut row = match outcome {
                    Outcome::Passed => Row::new(site, Status::Survived),
                    Outcome::Failed(tests) => Row {
                        failed_tests: tests,
                        ..Row::new(site, Status::Killed)
                    },
                    Outcome::TimedOut(binary) => Row {
                        failed_tests: vec![binary],
                        ..Row::new(site, Status::TimedOut)
                    },
                };
                row.seconds = (share + started.elapsed()).as_secs_f64();
                (row, share)
            });
            self.scratch.remove(*n);
            let failed = result.is_err();
            if send.send(result).is_err() || failed {
                return false;
            }
        }
        true
    }
}

/// Evaluates every recorded case in each of `roots` (mutant, checkout,
/// answers directory) in one Nix process, and writes the answers. When that
/// process fails as a whole (an error `tryEval` cannot catch, in one
/// mutant), each checkout gets a process of its own; a checkout whose own
/// fails gets no answers, and its tests evaluate as usual.
fn batch(
    evaluator: &Evaluator,
    records: &BTreeMap<String, replay::Record>,
    roots: &[(usize, Utf8PathBuf, Utf8PathBuf)],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let cases_of =
        |roots: &[(usize, Utf8PathBuf, Utf8PathBuf)]| -> BTreeMap<String, (Utf8PathBuf, Case)> {
            roots
                .iter()
                .flat_map(|(n, root, _)| {
                    records.iter().map(move |(key, r)| {
                        (format!("m{n}-{key}"), (root.clone(), r.case.clone()))
                    })
                })
                .collect()
        };
    let answered = match evaluator.eval_batch_in(&cases_of(roots)) {
        Ok(answers) => answers,
        Err(_) if roots.len() > 1 => {
            for one in roots {
                batch(evaluator, records, std::slice::from_ref(one))?;
            }
            return Ok(());
        }
        Err(_) => return Ok(()),
    };
    for (n, _, answers) in roots {
        for (key, record) in records {
            if let Some(Some(outcome)) = answered.get(&format!("m{n}-{key}")) {
                replay::write_answer(answers.as_std_path(), key, &record.case, outcome).map_err(
                    |e| Failure::new(format!("cannot write an answer into {answers}: {e}")),
                )?;
            }
        }
    }
    Ok(())
}

/// The tests libtest reports as failed (`test name ... FAILED`).
fn failed_tests(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .map(str::to_owned)
        .collect()
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_tests_are_read_from_libtest() {
        let out = "running 3 tests\ntest a ... ok\ntest b::c ... FAILED\ntest d ... FAILED\n\nfailures:\n";
        assert_eq!(failed_tests(out), ["b::c", "d"]);
        assert!(failed_tests("test a ... ok\n").is_empty());
    }

    #[test]
    fn hard_linked_copies_leave_the_original_alone() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let root = Utf8Path::from_path(dir.path()).ok_or_else(|| Failure::new("not UTF-8"))?;
        std::fs::create_dir_all(root.join("a/crates/x/target"))?;
        std::fs::create_dir_all(root.join("a/.git"))?;
        std::fs::write(root.join("a/crates/x/nixos.nix"), "{ }")?;
        std::fs::write(root.join("a/crates/x/target/big"), "")?;
        std::fs::write(root.join("a/.git/HEAD"), "")?;
        copy_tree(&root.join("a"), &root.join("b"), Link::Hard)?;
        assert!(root.join("b/crates/x/nixos.nix").is_file());
        assert!(!root.join("b/crates/x/target").exists());
        assert!(!root.join("b/.git").exists());
        let scratch_file = root.join("b/crates/x/nixos.nix");
        std::fs::remove_file(&scratch_file)?;
        std::fs::write(&scratch_file, "{ x = 1; }")?;
        assert_eq!(
            std::fs::read_to_string(root.join("a/crates/x/nixos.nix"))?,
            "{ }"
        );
        Ok(())
    }
}
