//! Running Nix for the evaluator (through `dominix-nix`, the one place that
//! builds Nix command lines), and reading its errors — once — into a
//! [`crate::NixFailure`] naming the case, file and option.

use std::time::Duration;

use camino::Utf8Path;
use dominix_nix::{NixCommand, NixError};

use crate::{Case, EvalError, NixFailure};

/// `nix-instantiate --eval --strict --json FILE --argstr NAME VALUE…`, in
/// restricted mode.
///
/// `nix-instantiate` because Nix 2.8's `nix eval --file` does not call the
/// file's function with `--argstr`. Nothing is fetched: [`crate::Evaluator::preflight`]
/// has checked that the pinned inputs are in the store.
///
/// Restricted (`restrict-eval`): only `allowed` (the repository, the request
/// file, a nixpkgs to compare with) and the store paths of the pinned inputs
/// can be read; any other path — `/etc/shadow`, `~/.ssh`, `${/big/dir}`,
/// `<nixpkgs>` — fails naming it, `builtins.getEnv` answers "", and the
/// user's NIX_PATH is not consulted. The verdict depends on the repository
/// and the pinned inputs only, as a flake build's does. Each allowed path is
/// given as written and canonicalised, since Nix checks both.
pub(crate) fn eval_file(
    file: &Utf8Path,
    args: &[(&str, &str)],
    allowed: &[&Utf8Path],
    show_trace: bool,
    timeout: Option<Duration>,
) -> Result<String, NixError> {
    let argv = args
        .iter()
        .flat_map(|(name, value)| ["--argstr", name, value]);
    let mut allow = Vec::new();
    for (i, path) in allowed.iter().enumerate() {
        allow.push(format!("dominix-allowed-{i}={path}"));
        if let Ok(canonical) = path.canonicalize_utf8()
            && canonical != *path
        {
            allow.push(format!("dominix-allowed-{i}-canonical={canonical}"));
        }
    }
    let trace = show_trace.then_some("--show-trace");
    NixCommand::instantiate()
        .args(["--eval", "--strict", "--json"])
        .args(["--option", "restrict-eval", "true"])
        .args(["--option", "nix-path", ""])
        .args(allow.iter().flat_map(|entry| ["-I", entry]))
        .args(trace)
        .arg(file)
        .args(argv)
        .timeout(timeout)
        .output()
        .map(|out| out.stdout)
}

/// `nix-modules/eval` of the checkout at `root`, given `request`; `others`
/// are the other checkouts the request's `roots` name (readable too). The
/// request travels in a temporary file (`--argstr requestFile`): a large
/// catalog's request is over the 128 KiB a single command-line argument may
/// have on Linux.
pub(crate) fn eval_request(
    root: &Utf8Path,
    others: &[&Utf8Path],
    request: &serde_json::Value,
    show_trace: bool,
    timeout: Option<Duration>,
) -> Result<String, NixError> {
    let entry = root.join("nix-modules/eval");
    let spawn = |error| NixError::Spawn {
        command: format!("nix-instantiate --eval {entry}"),
        error,
    };
    let write_error = |e| spawn(format!("cannot write the request to a temporary file: {e}"));
    let file = tempfile::NamedTempFile::new().map_err(write_error)?;
    std::fs::write(file.path(), request.to_string()).map_err(write_error)?;
    let path = Utf8Path::from_path(file.path()).ok_or_else(|| {
        spawn(format!(
            "the temporary file {} has a path that is not UTF-8; set TMPDIR to a UTF-8 path",
            file.path().display()
        ))
    })?;
    let allowed: Vec<&Utf8Path> = [root, path]
        .into_iter()
        .chain(others.iter().copied())
        .collect();
    eval_file(
        &entry,
        &[("requestFile", path.as_str())],
        &allowed,
        show_trace,
        timeout,
    )
}

/// Whether the source with this NAR hash is a valid path of the configured
/// store (asked of the store, not the file system: a path on disk may be
/// invalid, and `store = …` may point elsewhere).
pub(crate) fn has_source(nar_hash: &str, timeout: Option<Duration>) -> Result<bool, NixError> {
    let path = NixCommand::store()
        .args(["--print-fixed-path", "--recursive"])
        .args(["sha256", nar_hash, "source"])
        .timeout(timeout)
        .output()?
        .stdout;
    let (status, _) = NixCommand::store()
        .args(["--check-validity", path.trim()])
        .timeout(timeout)
        .run()?;
    Ok(status.success())
}

/// A failed evaluation of `case`: Nix's message read once; when it names no
/// file or option (infinite recursion, errors inside lib), `rerun_with_trace`
/// asks once more with `--show-trace`, only to locate it.
pub(crate) fn failure(
    id: &str,
    case: &Case,
    error: NixError,
    root: &Utf8Path,
    rerun_with_trace: impl FnOnce() -> Option<String>,
) -> EvalError {
    let Some(stderr) = error.stderr() else {
        return EvalError::Run {
            case: id.to_owned(),
            error,
        };
    };
    let mut finding = Finding::from_stderr(stderr, root);
    let unlocated =
        finding.file.is_none() || finding.option.is_none() && finding.kind != Kind::Syntax;
    if unlocated && let Some(trace) = rerun_with_trace() {
        finding.locate(&trace, root);
    }
    EvalError::Nix(Box::new(NixFailure {
        case: id.to_owned(),
        features: case.features.clone(),
        hint: finding.hint(),
        file: finding.file,
        option: finding.option,
        message: finding.message,
    }))
}

/// What an error message of Nix says, in pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub message: String,
    pub file: Option<String>,
    pub option: Option<String>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UndeclaredOption,
    WrongType,
    Conflict,
    InfiniteRecursion,
    Syntax,
    /// A read outside the repository and the pinned inputs.
    Restricted,
    Other,
}

/// Where the contract's model of nixpkgs lives; below it, paths are nixpkgs'.
const CONTRACT_DIR: &str = "nix-modules/contract/";

/// The kind of an error: the first whose phrases all occur in the message.
const KINDS: [(&[&str], Kind); 7] = [
    (&["does not exist", "The option"], Kind::UndeclaredOption),
    (&["is not of type"], Kind::WrongType),
    (&["conflicting definition values"], Kind::Conflict),
    (&["infinite recursion"], Kind::InfiniteRecursion),
    (&["syntax error"], Kind::Syntax),
    (&["is forbidden in restricted mode"], Kind::Restricted),
    (&["was not found in the Nix search path"], Kind::Restricted),
];

/// Lines of Nix's error kept at most.
const MAX_LINES: usize = 24;

impl Finding {
    pub(crate) fn from_stderr(stderr: &str, root: &Utf8Path) -> Finding {
        let root_prefix = format!("{}/", root.as_str().trim_end_matches('/'));
        // Keep the error itself; drop progress noise and the --show-trace advice.
        let start = stderr.find("error:").unwrap_or(0);
        let relevant: Vec<&str> = stderr[start..]
            .lines()
            .filter(|l| !l.contains("--show-trace") && !l.trim().is_empty())
            .collect();
        let mut message = relevant[..relevant.len().min(MAX_LINES)].join("\n");
        let more = relevant.len().saturating_sub(MAX_LINES);
        if more > 0 {
            message.push_str(&format!("\n… ({more} more lines not shown)"));
        }
        let message = message.replace(&root_prefix, "");

        let kind = KINDS
            .iter()
            .find(|(phrases, _)| phrases.iter().all(|p| message.contains(p)))
            .map_or(Kind::Other, |(_, kind)| *kind);
        let option = between(&message, "option `", "'")
            .or_else(|| between(&message, "option '", "'"))
            .or_else(|| between(&message, "option `", "`"))
            .map(str::to_owned);
        // The file to blame is ours, not the contract's model of nixpkgs.
        let ours = message
            .split("In `")
            .skip(1)
            .filter_map(|rest| rest.split_once('\'').map(|(file, _)| file))
            .find(|file| !file.starts_with(CONTRACT_DIR) && !file.contains('\n'));
        let file = ours
            .or_else(|| between(&message, "In `", "'"))
            .or_else(|| between(&message, "In '", "'"))
            .or_else(|| after_at(&message))
            .map(|f| f.strip_prefix(&root_prefix).unwrap_or(f).to_owned());
        Finding {
            message,
            file,
            option,
            kind,
        }
    }

    /// Fills in the file and option Nix's message left out from a
    /// `--show-trace` trace: the innermost module file and option it names.
    pub(crate) fn locate(&mut self, trace: &str, root: &Utf8Path) {
        let root_prefix = format!("{}/", root.as_str().trim_end_matches('/'));
        if self.file.is_none() {
            self.file = between(trace, "while evaluating definitions from `", "'")
                .map(|f| f.strip_prefix(&root_prefix).unwrap_or(f).to_owned());
        }
        if self.option.is_none() {
            self.option = between(trace, "while evaluating the option `", "'").map(str::to_owned);
        }
    }

    /// The nixpkgs file (as the contract mirrors it) named in the message.
    fn nixpkgs_file(&self) -> Option<&str> {
        self.message
            .split(CONTRACT_DIR)
            .nth(1)
            .and_then(|rest| rest.split(['\'', '`', '"', ' ', '\n']).next())
            .filter(|f| f.ends_with(".nix"))
    }

    pub(crate) fn hint(&self) -> String {
        let file = self.file.as_deref().unwrap_or("the module named above");
        let option = self.option.as_deref().unwrap_or("the option named above");
        match self.kind {
            Kind::UndeclaredOption => format!(
                "`{option}` is not declared. If it is a real NixOS option, declare it in the contract file that \
                 mirrors the nixpkgs module declaring it ({CONTRACT_DIR}nixos/modules/…, listed in \
                 {CONTRACT_DIR}module-list.nix) with its nixpkgs type and nixpkgs' own definitions of it \
                 (then run `cargo xtask contract verify`); otherwise correct the name in {file}."
            ),
            Kind::WrongType => format!("give `{option}` a value of the declared type in {file}."),
            Kind::Conflict => match self.nixpkgs_file() {
                Some(theirs) => format!(
                    "nixpkgs' own {theirs} defines `{option}` at the same priority with another value (modelled in \
                     {CONTRACT_DIR}{theirs}), so every real NixOS evaluation fails the same way. In {file}, give yours \
                     a stronger priority to win (a plain definition beats `lib.mkDefault`, `lib.mkForce` beats a plain one), \
                     a weaker one to yield (`lib.mkOverride 1100 …`), or remove it."
                ),
                None => format!(
                    "`{option}` has conflicting definitions: wrap one in `lib.mkDefault`/`lib.mkForce` or remove one ({file})."
                ),
            },
            Kind::InfiniteRecursion => format!(
                "a value depends on itself — look for `config` used to decide `imports` or an option defined from itself in {file}."
            ),
            Kind::Syntax => format!(
                "fix the syntax error in {file} (`nix-instantiate --parse {file}` shows it alone)."
            ),
            Kind::Restricted => {
                let path = between(&self.message, "path '", "'")
                    .or_else(|| between(&self.message, "file '", "'"))
                    .unwrap_or("a path outside the repository");
                format!(
                    "{file} reads {path}, outside the repository and the pinned flake inputs. The offline \
                     verdict may depend on those only, and a flake build (pure) cannot read it either: put \
                     what it needs in the branch's crate and refer to it with a relative path (`./file`), \
                     or make it an option."
                )
            }
            Kind::Other => format!(
                "correct the expression Nix's message points at, in {file} or what it uses."
            ),
        }
    }
}

/// The first text between `open` and `close` that is a name, not source code
/// quoted in the message (Nix shows snippets such as `option \`${showOption loc}'`).
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        let start = at + open.len();
        let len = rest[start..].find(close)?;
        let found = &rest[start..start + len];
        if !found.is_empty() && !found.contains('\n') && !found.contains("${") {
            return Some(found);
        }
        rest = &rest[start..];
    }
    None
}

/// `… at /path/file.nix:12:3` → `/path/file.nix`.
fn after_at(text: &str) -> Option<&str> {
    text.lines().find_map(|line| {
        let rest = &line[line.find(" at ")? + 4..];
        let path = rest.split(':').next()?.trim();
        // Paths in the workspace are already relative here; an absolute one
        // is inside nixpkgs' lib or the store, which is not what to fix.
        (path.ends_with(".nix") && !path.starts_with('/')).then_some(path)
    })
}

pub(crate) fn list(features: &[String]) -> String {
    if features.is_empty() {
        "trunk only".to_owned()
    } else {
        features.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(stderr: &str) -> Finding {
        Finding::from_stderr(stderr, Utf8Path::new("/src/domi-nix"))
    }

    #[test]
    fn undeclared_option() {
        let f = finding(
            "warning: Git tree is dirty\nerror: The option `boot.kernel.sysctlx' does not exist. Definition values:\n       - In `/src/domi-nix/crates/hardening/nixos.nix': { }\n(use '--show-trace' to show detailed location information)\n",
        );
        assert_eq!(f.option.as_deref(), Some("boot.kernel.sysctlx"));
        assert_eq!(f.file.as_deref(), Some("crates/hardening/nixos.nix"));
        assert!(
            !f.message.contains("show-trace") && !f.message.contains("Git tree"),
            "{}",
            f.message
        );
        assert!(
            f.hint().contains("nix-modules/contract/module-list.nix"),
            "{}",
            f.hint()
        );
    }

    #[test]
    fn wrong_type() {
        let f = finding(
            "error: A definition for option `boot.kernelParams' is not of type `list of string, with spaces inside double quotes'. Definition values:\n       - In `/src/domi-nix/crates/hardening/nixos.nix': \"x\"\n",
        );
        assert_eq!(f.kind, Kind::WrongType);
        assert_eq!(f.option.as_deref(), Some("boot.kernelParams"));
        assert_eq!(f.file.as_deref(), Some("crates/hardening/nixos.nix"));
    }

    #[test]
    fn syntax_error_names_the_file() {
        let f = finding(
            "error: syntax error, unexpected '}'\n\n       at /src/domi-nix/crates/ui/nixos.nix:12:3:\n",
        );
        assert_eq!(f.kind, Kind::Syntax);
        assert_eq!(f.file.as_deref(), Some("crates/ui/nixos.nix"));
        assert_eq!(f.option, None);
    }

    #[test]
    fn quoted_source_is_not_an_option_and_lib_is_not_the_file() {
        let f = finding(
            "error: infinite recursion encountered\n\n       at /nix/store/0123456789abcdfghijklmnpqrsvwxyz-source/lib/modules.nix:1147:7:\n\n         1147|       value = addErrorContext \"while evaluating the option `${showOption loc}':\" value;\n",
        );
        assert_eq!((f.file.as_deref(), f.option.as_deref()), (None, None));
        let mut f = f;
        f.locate(
            "… while evaluating definitions from `/src/domi-nix/crates/hardening/nixos.nix':\n… while evaluating the option `${showOption loc}':\n… while evaluating the option `networking.firewall.enable':\n",
            Utf8Path::new("/src/domi-nix"),
        );
        assert_eq!(f.file.as_deref(), Some("crates/hardening/nixos.nix"));
        assert_eq!(f.option.as_deref(), Some("networking.firewall.enable"));
    }

    #[test]
    fn infinite_recursion_and_unknown_errors() {
        assert_eq!(
            finding("error: infinite recursion encountered\n").kind,
            Kind::InfiniteRecursion
        );
        let other = finding("something odd");
        assert_eq!(other.kind, Kind::Other);
        assert_eq!(other.message, "something odd");
    }

    #[test]
    fn long_errors_are_trimmed() {
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let f = finding(&format!("error: boom\n{long}"));
        assert!(f.message.lines().count() <= MAX_LINES + 1);
        assert!(f.message.contains("more lines"));
    }
}
