//! The module-evaluation tier of domi-nix.
//!
//! Evaluates the trunk and selected branches with nixpkgs' `lib` only, against
//! the NixOS contract, through `nix-modules/eval` — the same top-level
//! flake-parts module as `flake.nix`, on the revisions pinned in `flake.lock`.
//! Many cases go through one Nix process ([`Evaluator::eval_batch`]); a case
//! that fails is evaluated again alone so its error is Nix's own, attributed
//! to the feature, file and option ([`EvalError::Nix`]).
//!
//! This crate and the xtask are the only places that run Nix.

pub mod lock;
mod nix;
pub mod replay;
pub mod skip;

use std::collections::BTreeMap;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use dominix_nix::NixError;
pub use lock::{Lock, LockError, LockedInput};

/// Where a configuration is built, and so which of nixpkgs' own definitions
/// it gets (see nix-modules/contract/module-list.nix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// A NixOS system (`nixosConfigurations.*`).
    #[default]
    System,
    /// Its VM variant (`cargo xtask vm`), with the Linux VM adapter.
    Vm,
    /// A node of a branch's NixOS VM test.
    Test,
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Context::System => "system",
            Context::Vm => "vm",
            Context::Test => "test",
        })
    }
}

/// One evaluation: a set of branches (their `requires` are added) on top of
/// the trunk, with extra NixOS settings, in a context, for a guest system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub features: Vec<String>,
    /// A NixOS `config` fragment as JSON, e.g. `{"domi-nix": {"hardening": {"level": "strict"}}}`.
    pub settings: Value,
    /// Dotted option paths to return; `None` = every contract option plus `domi-nix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Vec<String>>,
    pub context: Context,
    /// The guest system, e.g. `x86_64-linux` (what `pkgs.stdenv.hostPlatform` says).
    pub system: String,
    /// For [`Context::Test`]: the node of the first feature's `vm-test.nix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// The guest system evaluations use unless a case says otherwise.
pub const DEFAULT_SYSTEM: &str = "x86_64-linux";

impl Default for Case {
    /// The trunk alone, no settings, as a NixOS system.
    fn default() -> Self {
        Case {
            features: Vec::new(),
            settings: Value::Object(Default::default()),
            select: None,
            context: Context::System,
            system: DEFAULT_SYSTEM.to_owned(),
            node: None,
        }
    }
}

impl Case {
    pub fn feature(name: &str) -> Self {
        Case {
            features: vec![name.to_owned()],
            ..Case::default()
        }
    }

    /// Node `node` of `feature`'s VM test, as the NixOS test framework builds it.
    pub fn test_node(feature: &str, node: &str) -> Self {
        Case {
            context: Context::Test,
            node: Some(node.to_owned()),
            ..Case::feature(feature)
        }
    }

    pub fn with_settings(mut self, settings: Value) -> Self {
        self.settings = settings;
        self
    }

    pub fn in_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    pub fn on_system(mut self, system: &str) -> Self {
        self.system = system.to_owned();
        self
    }
}

/// A domi-nix definition that loses to nixpkgs' own definition of the same
/// option (or attribute of it) in one evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drop {
    pub option: String,
    /// The attribute, for options compared per attribute (sysctls, say).
    pub key: Option<String>,
    /// The domi-nix files whose definitions lose, and their priority.
    pub files: Vec<String>,
    pub priority: i64,
    /// The nixpkgs files (nixpkgs-relative) whose definitions win, and theirs.
    pub nixpkgs: Vec<String>,
    #[serde(rename = "nixpkgsPriority")]
    pub nixpkgs_priority: i64,
}

/// A domi-nix definition that does apply in one evaluation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Applied {
    pub option: String,
    pub key: Option<String>,
    pub file: String,
}

/// A branch's NixOS VM test, as `nix-modules/eval` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VmTest {
    /// The `vm-test.nix` file.
    pub file: String,
    pub name: String,
    pub nodes: Vec<String>,
    #[serde(rename = "testScript")]
    pub test_script: String,
}

/// What an evaluation produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The branches evaluated: the case's features and what they require.
    pub features: Vec<String>,
    /// Messages of failed NixOS assertions.
    pub assertions: Vec<String>,
    pub warnings: Vec<String>,
    /// The selected options' values, keyed by dotted path.
    pub config: Value,
    /// domi-nix definitions that lose to nixpkgs' own here.
    pub drops: Vec<Drop>,
    /// domi-nix definitions that apply here.
    pub applied: Vec<Applied>,
}

/// Why the tier cannot run on this machine (a skip, not a failure, unless
/// `DOMINIX_REQUIRE_EVAL=1`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("`nix` is not on PATH — install Nix ≥ 2.8 (Debian/Ubuntu: `apt-get install nix-bin`)")]
    NoNix,
    #[error(
        "flake input `{input}` ({rev}) is not in the Nix store — run `cargo xtask seed {input} --from <a checkout of {url}>` (or, with network, `cargo xtask seed --all`)"
    )]
    NotSeeded {
        input: String,
        rev: String,
        url: String,
    },
    /// flake.lock is missing, corrupt or lacks an input. Not a reason to
    /// skip: callers report it as a failure.
    #[error("{0}")]
    Lock(String),
    /// Nix is installed but does not answer properly. Not a reason to skip:
    /// callers report it as a failure.
    #[error("{0}")]
    Broken(String),
}

impl Unavailable {
    /// Whether this is a failure (something here is broken) rather than a
    /// tier that cannot run on this machine.
    pub fn is_failure(&self) -> bool {
        matches!(self, Unavailable::Lock(_) | Unavailable::Broken(_))
    }

    /// The `SKIP` line the tiers print: `SKIP module-eval: <reason> — <fix>`.
    pub fn skip_line(&self) -> String {
        format!("SKIP module-eval: {self}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{case}: module evaluation is unavailable: {reason}")]
    Unavailable { case: String, reason: Unavailable },
    /// Nix did not answer: not installed, killed, timed out.
    #[error("{case}: {error}")]
    Run { case: String, error: NixError },
    /// Nix failed; boxed because it carries the whole finding.
    #[error("{0}")]
    Nix(Box<NixFailure>),
    #[error(
        "{case}: unexpected answer from nix-modules/eval: {message}. Fix: check that the `nix-instantiate` on \
         PATH is Nix's own (`nix-instantiate --version`); if it is, report this with the case named"
    )]
    Output { case: String, message: String },
    #[error("module evaluation of `{case}` failed NixOS assertions (features: {}):\n  - {}", nix::list(.features), .messages.join("\n  - "))]
    Assertions {
        case: String,
        features: Vec<String>,
        messages: Vec<String>,
    },
    #[error("{case}: evaluation produced warnings (features: {}):\n  - {}", .features.join(", "), .messages.join("\n  - "))]
    Warnings {
        case: String,
        features: Vec<String>,
        messages: Vec<String>,
    },
}

/// A failed evaluation as Nix reported it, attributed to a feature, file and option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixFailure {
    pub case: String,
    pub features: Vec<String>,
    /// The file Nix blamed, relative to the workspace root when inside it.
    pub file: Option<String>,
    /// The option Nix named.
    pub option: Option<String>,
    /// Nix's own error, trimmed to what matters.
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for NixFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (case, features) = (&self.case, nix::list(&self.features));
        write!(
            f,
            "module evaluation of `{case}` failed (features: {features})"
        )?;
        if let Some(file) = &self.file {
            write!(f, "\n  file:   {file}")?;
        }
        if let Some(option) = &self.option {
            write!(f, "\n  option: {option}")?;
        }
        let message = self.message.replace('\n', "\n          ");
        write!(f, "\n  nix:    {message}\n  fix:    {}", self.hint)
    }
}

/// Runs evaluations for one workspace.
#[derive(Debug, Clone)]
pub struct Evaluator {
    root: Utf8PathBuf,
    timeout: Option<Duration>,
}

/// The flake inputs module evaluation needs (nixpkgs itself is never forced).
pub const EVAL_INPUTS: &[&str] = &["nixpkgs-lib", "flake-parts"];

impl Evaluator {
    pub fn new(root: impl Into<Utf8PathBuf>) -> Self {
        Evaluator {
            root: root.into(),
            // The bound every Nix call of this process gets: 300 s, or
            // what the xtask's command (or its `--timeout`) set.
            timeout: Some(dominix_nix::default_timeout()),
        }
    }

    /// Checks that flake.lock is sound, Nix is installed and the pinned
    /// inputs are in the store. The lock comes first: a broken lock is a
    /// failure whether or not Nix is there.
    pub fn preflight(&self) -> Result<(), Unavailable> {
        let lock_error = |e: LockError| Unavailable::Lock(e.to_string());
        let lock = Lock::read(&self.root.join("flake.lock")).map_err(lock_error)?;
        let inputs = EVAL_INPUTS
            .iter()
            .map(|name| lock.input(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(lock_error)?;
        dominix_nix::available().map_err(|error| match error {
            NixError::NotFound { .. } => Unavailable::NoNix,
            error => Unavailable::Broken(error.to_string()),
        })?;
        for input in inputs {
            let seeded = nix::has_source(&input.nar_hash, self.timeout)
                .map_err(|e| Unavailable::Broken(e.to_string()))?;
            if !seeded {
                return Err(Unavailable::NotSeeded {
                    input: input.name.clone(),
                    rev: input.short_rev(),
                    url: input.url(),
                });
            }
        }
        Ok(())
    }

    /// Evaluates one case in its own Nix process; errors carry Nix's message.
    pub fn eval(&self, id: &str, case: &Case) -> Result<Outcome, EvalError> {
        let cases = BTreeMap::from([(id.to_owned(), case.clone())]);
        let mut answers = self.run("single", &cases, false).map_err(|error| {
            nix::failure(id, case, error, &self.root, || {
                self.run("single", &cases, true)
                    .err()
                    .and_then(|e| e.stderr().map(str::to_owned))
            })
        })?;
        let answer = answers
            .remove(id)
            .ok_or_else(|| EvalError::output(id, "the case is missing from the answer"))?;
        parse_outcome(id, answer)
    }

    /// Evaluates many cases in one Nix process; the cases that fail are
    /// evaluated again one by one to get their own error messages.
    pub fn eval_batch(
        &self,
        cases: &BTreeMap<String, Case>,
    ) -> BTreeMap<String, Result<Outcome, EvalError>> {
        let answers = self.run("batch", cases, false).ok();
        cases
            .iter()
            .map(|(id, case)| {
                let ok = answers
                    .as_ref()
                    .and_then(|a| a.get(id))
                    .filter(|a| a["ok"] == Value::Bool(true));
                let result =
                    ok.map_or_else(|| self.eval(id, case), |a| parse_outcome(id, a.clone()));
                (id.clone(), result)
            })
            .collect()
    }

    /// Evaluates each case in the checkout at its own root — a copy of this
    /// one with a file changed, say — all in one Nix process (the request's
    /// `roots`, nix-modules/eval). A case that fails is `None`: its error is
    /// not asked for (that takes a process of its own, [`Evaluator::eval`]).
    /// `Err` when the process as a whole failed, as it does on an error
    /// `tryEval` cannot catch (an undefined variable, a missing attribute).
    pub fn eval_batch_in(
        &self,
        cases: &BTreeMap<String, (Utf8PathBuf, Case)>,
    ) -> Result<BTreeMap<String, Option<Outcome>>, NixError> {
        let roots: BTreeMap<&str, &str> = cases
            .iter()
            .map(|(id, (root, _))| (id.as_str(), root.as_str()))
            .collect();
        let others: std::collections::BTreeSet<&Utf8Path> =
            cases.values().map(|(root, _)| root.as_path()).collect();
        let others: Vec<&Utf8Path> = others.into_iter().collect();
        let only_cases: BTreeMap<&str, &Case> = cases
            .iter()
            .map(|(id, (_, case))| (id.as_str(), case))
            .collect();
        let request = json!({ "mode": "batch", "cases": only_cases, "roots": roots });
        let stdout = nix::eval_request(&self.root, &others, &request, false, self.timeout)?;
        let answers: BTreeMap<String, Value> =
            serde_json::from_str(&stdout).map_err(|e| self.not_json(e))?;
        Ok(cases
            .keys()
            .map(|id| {
                let outcome = answers
                    .get(id)
                    .filter(|a| a["ok"] == Value::Bool(true))
                    .and_then(|a| serde_json::from_value(a.clone()).ok());
                (id.clone(), outcome)
            })
            .collect())
    }

    /// Every branch's NixOS VM test (`vm-test.nix`): its nodes and script.
    pub fn vm_tests(&self) -> Result<BTreeMap<String, VmTest>, EvalError> {
        self.request("vm-tests", json!({ "mode": "tests" }))
    }

    /// The contract's own description (`describe` in nix-modules/contract), for `contract verify`.
    pub fn describe_contract(&self) -> Result<Value, EvalError> {
        self.request("contract", json!({ "mode": "describe-contract" }))
    }

    /// One request to nix-modules/eval that is not a batch of cases.
    fn request<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        request: Value,
    ) -> Result<T, EvalError> {
        let stdout = nix::eval_request(&self.root, &[], &request, false, self.timeout)
            .map_err(|e| nix::failure(what, &Case::default(), e, &self.root, || None))?;
        serde_json::from_str(&stdout).map_err(|e| EvalError::output(what, e))
    }

    /// Evaluates `file` called with `--arg`-style string arguments; its
    /// JSON. Restricted like every evaluation: only the repository, the
    /// pinned inputs and `allowed` (say, a nixpkgs tree) can be read.
    pub fn eval_json_file(
        &self,
        file: &Utf8Path,
        args: &[(&str, &str)],
        allowed: &[&Utf8Path],
    ) -> Result<Value, EvalError> {
        let allowed: Vec<&Utf8Path> = std::iter::once(self.root.as_path())
            .chain(allowed.iter().copied())
            .collect();
        let stdout = nix::eval_file(file, args, &allowed, false, self.timeout)
            .map_err(|e| nix::failure(file.as_str(), &Case::default(), e, &self.root, || None))?;
        serde_json::from_str(&stdout).map_err(|e| EvalError::output(file.as_str(), e))
    }

    fn run(
        &self,
        mode: &str,
        cases: &BTreeMap<String, Case>,
        show_trace: bool,
    ) -> Result<BTreeMap<String, Value>, NixError> {
        let request = json!({ "mode": mode, "cases": cases });
        let stdout = nix::eval_request(&self.root, &[], &request, show_trace, self.timeout)?;
        serde_json::from_str(&stdout).map_err(|e| self.not_json(e))
    }

    fn not_json(&self, error: serde_json::Error) -> NixError {
        NixError::Failed {
            command: format!(
                "nix-instantiate --eval {}",
                self.root.join("nix-modules/eval")
            ),
            status: "an answer that is not JSON".to_owned(),
            stderr: error.to_string(),
        }
    }
}

fn parse_outcome(id: &str, answer: Value) -> Result<Outcome, EvalError> {
    serde_json::from_value(answer).map_err(|e| EvalError::output(id, e))
}

impl EvalError {
    fn output(case: &str, message: impl ToString) -> Self {
        EvalError::Output {
            case: case.to_owned(),
            message: message.to_string(),
        }
    }
}

impl Outcome {
    /// Turns failed assertions and warnings into errors naming the case and its features.
    pub fn into_checked(self, case: &str) -> Result<Outcome, EvalError> {
        if !self.assertions.is_empty() {
            return Err(EvalError::Assertions {
                case: case.to_owned(),
                features: self.features,
                messages: self.assertions,
            });
        }
        if !self.warnings.is_empty() {
            return Err(EvalError::Warnings {
                case: case.to_owned(),
                features: self.features,
                messages: self.warnings,
            });
        }
        Ok(self)
    }
}
