//! The command line. `cargo xtask --help` and `cargo xtask <cmd> --help` teach it.

use std::time::Duration;

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};
use dominix::{Profile, Selection, System};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Compose domi-nix trunks from feature crates and drive Nix",
    long_about = "Compose domi-nix trunks from feature crates and drive Nix.\n\n\
        domi-nix is one small trunk (nix-modules/trunk) plus independent branches, one crate per\n\
        feature under crates/. Every command passes Nix its experimental-feature flags itself.\n\n\
        Examples:\n  \
          cargo xtask list\n  \
          cargo xtask compose --features ui,hardening --out trunk-out\n  \
          cargo xtask vm --features ui,hardening\n  \
          cargo xtask check\n  \
          cargo xtask matrix --json target/matrix.json --junit target/junit.xml\n  \
          cargo xtask mutants hardening\n\n\
        Exit codes: 0 ok, 1 a check or command failed, 2 usage error.",
    disable_help_subcommand = true
)]
pub struct Xtask {
    #[command(subcommand)]
    pub cmd: Cmd,
    /// Stop any Nix call still running after this long, with every process it started,
    /// and fail naming the call: seconds, or a number with s, m or h (90, 15m, 2h).
    /// Default: 5m for list, compose, check, fmt and bench; 15m for seed, contract and mutants;
    /// 3h for build, vm, test and matrix (per Nix call; a VM or interactive driver
    /// you use yourself is never stopped).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
}

impl Cmd {
    /// How long one Nix call of this command may take without `--timeout`.
    pub fn default_timeout(&self) -> Duration {
        const MINUTE: u64 = 60;
        Duration::from_secs(match self {
            Cmd::List(_)
            | Cmd::Compose(_)
            | Cmd::Check(_)
            | Cmd::Audit(_)
            | Cmd::Fmt(_)
            | Cmd::Bench(_) => 5 * MINUTE,
            Cmd::Seed(_) | Cmd::Contract(_) | Cmd::Mutants(_) => 15 * MINUTE,
            Cmd::Build(_) | Cmd::Vm(_) | Cmd::Test(_) | Cmd::Matrix(_) => 3 * 60 * MINUTE,
        })
    }
}

/// `90`, `90s`, `15m` or `2h`; at least one second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "`{text}` is not a duration: use seconds, or a number with s, m or h (90, 15m, 2h)"
            ));
        }
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|s| *s > 0)
        .ok_or_else(|| {
            format!("`{text}` is not a duration of at least one second (e.g. 90, 15m, 2h)")
        })?;
    Ok(Duration::from_secs(secs))
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List the features: name, category, summary, requires, conflicts, systems.
    List(List),
    /// Write a standalone trunk flake importing the trunk and the resolved features.
    ///
    /// The flake's `imports` list is the one place to edit to attach or detach a branch.
    /// The write is atomic; a directory this command did not create is never overwritten.
    Compose(Compose),
    /// Run the static tier and module evaluation of every feature.
    ///
    /// Static: metadata valid, every feature resolves alone, every .nix file parses
    /// (nix-instantiate --parse), every composed trunk parses, Nix files formatted,
    /// deadnix clean. Module evaluation: every feature's real NixOS module evaluated
    /// against the NixOS contract in one batched Nix process.
    /// DOMINIX_REQUIRE_EVAL=1 turns skipped tiers into failures.
    Check(Check),
    /// Score every systemd service of a selection with systemd's own analyzer.
    ///
    /// Each unit is rendered from its module-evaluated `systemd.services.<name>` as nixpkgs
    /// renders it and scored by `systemd-analyze security --offline=yes`: exposure, band, the
    /// heaviest failing settings and the sandboxing exceptions with their reasons. A unit above
    /// its ceiling (`ceilings` in a branch's metadata; 2.0 for units domi-nix writes) fails and
    /// names the directives that would bring it under; a sandboxed unit fails when systemd finds
    /// a directive of the profile not kept. With the sandboxing branch attached, each unit is
    /// also scored without it (before → after). Without systemd-analyze ≥ 250: one SKIP line.
    Audit(Audit),
    /// Add pinned flake inputs to the Nix store, for machines without network.
    ///
    /// With --from, DIR is a source tree, a .tar.gz of one, or a git repository containing the locked
    /// revision; its NAR hash must equal flake.lock's (both are shown otherwise).
    /// With --all (needs network), every input is fetched with `nix flake archive`.
    Seed(Seed),
    /// The NixOS contract the modules are evaluated against.
    Contract(Contract),
    /// Build a composed system: its VM (default) or its toplevel.
    Build(Build),
    /// Build and start a VM of a selection (QEMU; KVM or HVF when available).
    ///
    /// --memory, --cores, --forward, --ephemeral and --headless go to the VM's start
    /// script, so they rebuild nothing; --dry-run prints the whole plan and runs nothing.
    Vm(Vm),
    /// Run the NixOS VM tests (`checks.<system>.<feature>`) of features.
    Test(Test),
    /// Run every feature × system × level cell, in parallel and cache-aware, and report.
    ///
    /// Levels: static, module-eval, system-eval, build, vm-test. The offline levels run
    /// batched; every derivation is evaluated in one Nix and every build handed to one
    /// `nix build --keep-going`; a cell already built (locally or in a binary cache) is
    /// `cached`. A cell this machine cannot run is `skipped` with its reason and fix.
    /// Reports: a table, --json, --junit, --emit github. Ctrl-C stops every Nix process
    /// and still writes the reports.
    Matrix(Box<Matrix>),
    /// Measure synthetic catalogs of 10 to 1,000 branches, and the matrix (see BENCHMARKS.md).
    ///
    /// Each size is a copy of this checkout with N generated branches (chains and diamonds
    /// of `requires`, a dozen contract options each, VM tests) in a temporary directory:
    /// planning (list, resolution, compose), the static tier, module evaluation batched
    /// and one Nix process per branch, the evaluator's peak memory, the xtask's overhead
    /// over raw Nix, and `check --changed-since` after a one-branch change.
    Bench(Bench),
    /// Format every Nix file with alejandra.
    Fmt(Fmt),
    /// Mutation testing of a branch's NixOS module: which definitions no test asserts.
    ///
    /// Each definition the module makes (every attribute `config` and the `let` bindings'
    /// attribute sets set, every list element, boolean and integer there, every option's
    /// `default`) is removed or changed, one at a time, in a scratch copy of the tree, and
    /// `cargo test -p <branch>` runs against it. A mutant is killed when a test fails and
    /// survives when all pass; a surviving mutant (exit 1) is a setting no test asserts.
    /// The unmutated tests must pass. The evaluations of many mutants are batched in one
    /// Nix process; the test binaries then read the answers.
    Mutants(Mutants),
}

#[derive(Debug, Args)]
pub struct List {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Compose {
    #[command(flatten)]
    pub select: Select,
    /// Directory to write the trunk flake to.
    #[arg(long)]
    pub out: Utf8PathBuf,
    /// How the trunk refers to domi-nix (default: this checkout, as git+file://).
    #[arg(long)]
    pub flake_ref: Option<String>,
}

#[derive(Debug, Args)]
pub struct Check {
    /// Print a JSON report.
    #[arg(long)]
    pub json: bool,
    /// Evaluate only the branches a change since this git revision can affect: those whose
    /// crate changed, and every branch requiring one of them (transitively). A change in
    /// nix-modules/, flake.lock or flake.nix selects every branch. Untracked files count
    /// as changed. The static tiers cover the selected branches' files and the changed
    /// files (every file when everything is selected); metadata and resolution always
    /// cover the whole catalog.
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
}

#[derive(Debug, Args)]
pub struct Audit {
    /// Features to audit (their `requires` are added), comma-separated (default: the `full` profile).
    #[arg(long, value_delimiter = ',', conflicts_with = "profile")]
    pub features: Vec<String>,
    /// A profile instead of features: `minimal` (trunk only) or `full`.
    #[arg(long)]
    pub profile: Option<Profile>,
    /// Guest system (default: this machine's CPU), e.g. aarch64-linux.
    #[arg(long)]
    pub system: Option<System>,
    /// Print a JSON report.
    #[arg(long)]
    pub json: bool,
    /// Keep the rendered unit files here (`before/` holds them without sandboxing), to rerun
    /// `systemd-analyze security --offline=yes` on them.
    #[arg(long, value_name = "DIR")]
    pub units_dir: Option<Utf8PathBuf>,
}

#[derive(Debug, Args)]
pub struct Seed {
    /// Inputs to seed (names in flake.lock), e.g. `flake-parts`.
    pub inputs: Vec<String>,
    /// A local copy of the input: a source tree, a .tar.gz of one, or a git repository.
    #[arg(long)]
    pub from: Option<Utf8PathBuf>,
    /// Fetch and seed every input (needs network).
    #[arg(long, conflicts_with = "from")]
    pub all: bool,
    /// The lock file to read (default: flake.lock of this checkout).
    #[arg(long)]
    pub lock: Option<Utf8PathBuf>,
}

#[derive(Debug, Args)]
pub struct Contract {
    #[command(subcommand)]
    pub cmd: ContractCmd,
}

#[derive(Debug, Args)]
pub struct Build {
    #[command(flatten)]
    pub select: Select,
    /// Host that runs the VM (default: this machine), e.g. aarch64-darwin.
    #[arg(long)]
    pub host: Option<String>,
    /// Build the NixOS toplevel instead of the VM.
    #[arg(long, conflicts_with = "host")]
    pub toplevel: bool,
    /// Evaluate and show what would be built, without building.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct Vm {
    #[command(flatten)]
    pub select: Select,
    /// Host that runs the VM (default: this machine).
    #[arg(long)]
    pub host: Option<String>,
    /// Memory of the VM: MiB (4096) or with a unit (4G, 512M). Default: 2048.
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,
    /// Virtual CPUs of the VM. Default: 2.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub cores: Option<usize>,
    /// Forward a host port to a guest port: HOST:GUEST (TCP), or udp:HOST:GUEST; repeatable.
    /// The guest's SSH port 22 is forwarded to a free host port unless a forward names it.
    #[arg(long = "forward", value_name = "HOST:GUEST", value_parser = parse_forward)]
    pub forwards: Vec<Forward>,
    /// Keep no disk image: the VM starts fresh and leaves nothing behind (default: its disk
    /// is kept under target/dominix/vms/<selection>).
    #[arg(long)]
    pub ephemeral: bool,
    /// No display window: the serial console stays in this terminal, SSH is forwarded.
    #[arg(long)]
    pub headless: bool,
    /// Print the compose and build commands and how the VM would be started; run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// A port forward of `vm --forward`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    pub udp: bool,
    pub host: u16,
    pub guest: u16,
}

/// `HOST:GUEST` or `udp:HOST:GUEST` (`tcp:` may be written too).
pub fn parse_forward(text: &str) -> Result<Forward, String> {
    let (udp, ports) = match text.split_once(':') {
        Some(("udp", rest)) => (true, rest),
        Some(("tcp", rest)) => (false, rest),
        _ => (false, text),
    };
    let port = |p: &str| p.trim().parse::<u16>().ok().filter(|p| *p > 0);
    match ports.split_once(':').map(|(h, g)| (port(h), port(g))) {
        Some((Some(host), Some(guest))) => Ok(Forward { udp, host, guest }),
        _ => Err(format!(
            "`{text}` is not a forward: write HOST:GUEST with two ports from 1 to 65535 (e.g. 8080:80, udp:5353:53)"
        )),
    }
}

/// MiB: `4096`, `4096M`, `4G` (also `4GiB`, `512MiB`).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.trim_end_matches("ib").trim_end_matches('b');
    let (number, scale) = match lower.strip_suffix('g') {
        Some(n) => (n, 1024),
        None => (lower.strip_suffix('m').unwrap_or(lower), 1),
    };
    number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| *n >= 128)
        .ok_or_else(|| {
            format!("`{text}` is not a memory size of at least 128 MiB (e.g. 4096, 4G, 512M)")
        })
}

#[derive(Debug, Args)]
pub struct Test {
    /// Features to test (default: every feature supporting the system).
    #[arg(value_delimiter = ',')]
    pub features: Vec<String>,
    #[arg(long)]
    pub system: Option<System>,
    /// Start the interactive test driver instead (one feature).
    #[arg(long)]
    pub interactive: bool,
}

#[derive(Debug, Args)]
pub struct Matrix {
    /// Only cells of this system (default: both Linux systems).
    #[arg(long)]
    pub system: Option<System>,
    /// Only these features, comma-separated (default: every feature).
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// Levels, comma-separated: static, module-eval, system-eval, build, vm-test (default:
    /// all; a cell this machine cannot run is listed `skipped` with its reason and fix).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub levels: Vec<crate::cells::Level>,
    /// Only the features a change since this git revision can affect (the rule of
    /// `check --changed-since`: their crate, their `requires` closure, nix-modules/, flake.lock).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Builds Nix runs at once (its `--max-jobs`): a number, or `auto` (one per CPU; the default).
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<String>,
    /// Stop a derivation still building after this long (90, 15m, 2h); its cell is `timed-out`
    /// and the others go on.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub cell_timeout: Option<Duration>,
    /// Build cells whose outputs are already valid locally or in a binary cache (default:
    /// such a cell is reported `cached`).
    #[arg(long)]
    pub rebuild: bool,
    /// Write the JSON report here (`-`: to stdout, the table then going to stderr).
    #[arg(long)]
    pub json: Option<Utf8PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<Utf8PathBuf>,
    /// Also emit annotations, folded logs and a step summary for this CI.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// Evaluate every cell's derivation and ask the caches, but build nothing: the report
    /// lists every cell, its derivation, whether it is cached, and the exact commands.
    #[arg(long)]
    pub dry_run: bool,
    /// In the report's GitHub matrix (`github.include`), one job per cell instead of one per system.
    #[arg(long)]
    pub split: bool,
    #[command(flatten)]
    pub nix: NixPassThrough,
    /// Push the outputs of every cell that passed to this binary cache (`nix copy --to`).
    #[arg(long, value_name = "STORE-URL")]
    pub copy_to: Option<String>,
    /// The cells are the `checks.<system>.<name>` of this flake instead of the catalog's
    /// features (for tests and `bench`).
    #[arg(long, hide = true, value_name = "FLAKE")]
    pub checks_flake: Option<String>,
    /// One Nix process per cell, one after another (for `bench`: the matrix before it ran in parallel).
    #[arg(long, hide = true)]
    pub sequential: bool,
}

/// Options passed through to Nix as they are.
#[derive(Debug, Args, Clone, Default)]
pub struct NixPassThrough {
    /// Remote build machines, in Nix's `builders` syntax (e.g.
    /// 'ssh-ng://arm aarch64-linux - 8 1 kvm,nixos-test'); checked before any build.
    #[arg(long, value_name = "SPEC")]
    pub builders: Option<String>,
    /// Build in this store, e.g. ssh-ng://host (evaluation stays local: `--eval-store auto`).
    #[arg(long, value_name = "STORE-URL")]
    pub store: Option<String>,
    /// The store evaluation uses with --store (default: `auto`, the local one).
    #[arg(long, value_name = "STORE-URL")]
    pub eval_store: Option<String>,
    /// Binary caches, space-separated, instead of the configured ones ('' for none).
    #[arg(long, value_name = "URLS")]
    pub substituters: Option<String>,
    /// Keys the caches' signatures are checked with, space-separated.
    #[arg(long, value_name = "KEYS")]
    pub trusted_public_keys: Option<String>,
}

/// `auto` or a count of at least one.
fn parse_jobs(text: &str) -> Result<String, String> {
    match text.trim() {
        "auto" => Ok("auto".to_owned()),
        n if n.parse::<u32>().is_ok_and(|n| n > 0) => Ok(n.to_owned()),
        _ => Err(format!(
            "`{text}` is neither `auto` nor a count of at least 1"
        )),
    }
}

#[derive(Debug, Args)]
pub struct Bench {
    /// Catalog sizes: synthetic branches added to this checkout's, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 100, 1000], value_parser = at_least_one)]
    pub sizes: Vec<usize>,
    /// Timed runs of each measurement.
    #[arg(long, default_value_t = 5, value_parser = at_least_one)]
    pub runs: usize,
    /// How long one measurement of one size may take (90, 15m, 2h): after the first
    /// run, fewer runs are made when `runs` of them would exceed it (each cell says how many ran).
    #[arg(long, default_value = "120", value_parser = parse_duration)]
    pub budget: Duration,
    /// One Nix process per branch for at most this many branches of a size; beyond,
    /// an evenly spread sample is timed and scaled to the whole catalog (the report says so).
    #[arg(long, default_value_t = 100, value_parser = at_least_one)]
    pub per_process_sample: usize,
    /// Write the results into BENCHMARKS.md (its generated section) and docs/bench.svg.
    #[arg(long)]
    pub write: bool,
    /// Keep the generated catalogs (their directories are printed).
    #[arg(long)]
    pub keep: bool,
    /// Measure only the matrix (parallel against sequential, and a second run against
    /// evaluation alone, on a flake of tiny derivations), not the synthetic catalogs.
    #[arg(long)]
    pub matrix: bool,
    /// Only the audit and the status service: `audit --profile full`, the sandboxing profile on
    /// a unit with no exception, `domi-nix-status` under `wrk`, and `check` of this catalog
    /// against two branches (BENCHMARKS.md's services section).
    #[arg(long, conflicts_with = "matrix")]
    pub services: bool,
}

/// A count of at least one.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a count of at least 1")),
    }
}

#[derive(Debug, Args)]
pub struct Mutants {
    /// The branch (a crate under crates/) whose module is mutated.
    pub branch: String,
    /// Print a JSON report on stdout (the per-mutant lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Mutants tested at the same time (default: the number of CPUs).
    #[arg(long, value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Stop one mutant's tests after this long and report it `timed-out` (counted as
    /// killed): 90, 15m… Default: ten times the unmutated run, at least 30 s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub mutant_timeout: Option<Duration>,
    /// Let each test start its own Nix processes, as `cargo test` does, instead of
    /// answering them from batch evaluations (slower; for comparison).
    #[arg(long)]
    pub no_batch: bool,
}

#[derive(Debug, Args)]
pub struct Fmt {
    /// Only report files that are not formatted (exit 1 if any).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Subcommand)]
pub enum ContractCmd {
    /// Compare the contract with real nixpkgs: every option exists with the same type,
    /// every stubbed package attribute exists. Needs full nixpkgs (network, or --nixpkgs).
    Verify {
        /// A nixpkgs source tree (default: the revision pinned in flake.lock, fetched).
        #[arg(long)]
        nixpkgs: Option<Utf8PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Emit {
    Github,
}

/// `--features a,b` or `--profile minimal|full`, and `--system`.
#[derive(Debug, Args)]
pub struct Select {
    /// Features to attach (their `requires` are added), comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "profile",
        conflicts_with = "profile"
    )]
    pub features: Vec<String>,
    /// A profile: `minimal` (trunk only) or `full` (every feature).
    #[arg(long)]
    pub profile: Option<Profile>,
    /// Guest system (default: this machine's CPU), e.g. aarch64-linux.
    #[arg(long)]
    pub system: Option<System>,
}

impl Select {
    pub fn selection(&self) -> Selection {
        Selection::from_flags(&self.features, self.profile, self.system)
    }
}

/// `word` as one POSIX shell word: unchanged when it holds only characters
/// no shell treats specially, else single-quoted.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && !word.starts_with('#')
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-#".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, shell_quote};
    use std::time::Duration;

    #[test]
    fn durations_take_seconds_or_a_unit() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        for bad in [
            "",
            "0",
            "0m",
            "m",
            "1.5m",
            "10d",
            "-3",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn forwards_and_memory_sizes() {
        use super::{Forward, parse_forward, parse_memory};
        assert_eq!(
            parse_forward("8080:80"),
            Ok(Forward {
                udp: false,
                host: 8080,
                guest: 80
            })
        );
        assert_eq!(
            parse_forward("udp:5353:53"),
            Ok(Forward {
                udp: true,
                host: 5353,
                guest: 53
            })
        );
        assert_eq!(parse_forward("tcp:2222:22").map(|f| f.udp), Ok(false));
        for bad in ["80", "0:80", "80:70000", "a:b", "sctp:1:2", ""] {
            assert!(parse_forward(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_memory("4096"), Ok(4096));
        assert_eq!(parse_memory("4G"), Ok(4096));
        assert_eq!(parse_memory("4GiB"), Ok(4096));
        assert_eq!(parse_memory("512M"), Ok(512));
        for bad in ["", "64", "lots", "1T", "-1G"] {
            assert!(parse_memory(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("build"), "build");
        assert_eq!(
            shell_quote("path:/a/b#packages.x86_64-linux.vm"),
            "path:/a/b#packages.x86_64-linux.vm"
        );
        assert_eq!(shell_quote("nix-command flakes"), "'nix-command flakes'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("a$b"), "'a$b'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("#x"), "'#x'");
    }
}
