//! The command line. `cargo xtask --help` and `cargo xtask <cmd> --help` teach it.

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};
use dominix::{Profile, Selection, System};

use crate::{Project, Result};

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
          cargo xtask matrix --json target/matrix.json --junit target/junit.xml\n\n\
        Exit codes: 0 ok, 1 a check or command failed, 2 usage error.",
    disable_help_subcommand = true
)]
pub struct Xtask {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List the features: name, category, summary, requires, conflicts, systems.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a standalone trunk flake importing the trunk and the resolved features.
    ///
    /// The flake's `imports` list is the one place to edit to attach or detach a branch.
    /// The write is atomic; a directory this command did not create is never overwritten.
    Compose {
        #[command(flatten)]
        select: Select,
        /// Directory to write the trunk flake to.
        #[arg(long)]
        out: Utf8PathBuf,
        /// How the trunk refers to domi-nix (default: this checkout, as git+file://).
        #[arg(long)]
        flake_ref: Option<String>,
    },
    /// Run the static tier and module evaluation of every feature.
    ///
    /// Static: metadata valid, every feature resolves alone, every .nix file parses
    /// (nix-instantiate --parse), every composed trunk parses, Nix files formatted,
    /// deadnix clean. Module evaluation: every feature's real NixOS module evaluated
    /// against the NixOS contract in one batched Nix process.
    /// DOMINIX_REQUIRE_EVAL=1 turns skipped tiers into failures.
    Check {
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
        /// Evaluate only the branches a change since this git revision can affect: those whose
        /// crate changed, and every branch requiring one of them (transitively). A change in
        /// nix-modules/, flake.lock or flake.nix selects every branch. Untracked files count
        /// as changed. The static tiers still cover every file.
        #[arg(long, value_name = "REV")]
        changed_since: Option<String>,
    },
    /// Add pinned flake inputs to the Nix store, for machines without network.
    ///
    /// With --from, DIR is a source tree, a .tar.gz of one, or a git repository containing the locked
    /// revision; its NAR hash must equal flake.lock's (both are shown otherwise).
    /// With --all (needs network), every input is fetched with `nix flake archive`.
    Seed {
        /// Inputs to seed (names in flake.lock), e.g. `flake-parts`.
        inputs: Vec<String>,
        /// A local copy of the input: a source tree, a .tar.gz of one, or a git repository.
        #[arg(long)]
        from: Option<Utf8PathBuf>,
        /// Fetch and seed every input (needs network).
        #[arg(long, conflicts_with = "from")]
        all: bool,
        /// The lock file to read (default: flake.lock of this checkout).
        #[arg(long)]
        lock: Option<Utf8PathBuf>,
    },
    /// The NixOS contract the modules are evaluated against.
    Contract {
        #[command(subcommand)]
        cmd: ContractCmd,
    },
    /// Build a composed system: its VM (default) or its toplevel.
    Build {
        #[command(flatten)]
        select: Select,
        /// Host that runs the VM (default: this machine), e.g. aarch64-darwin.
        #[arg(long)]
        host: Option<String>,
        /// Build the NixOS toplevel instead of the VM.
        #[arg(long, conflicts_with = "host")]
        toplevel: bool,
        /// Evaluate and show what would be built, without building.
        #[arg(long)]
        dry_run: bool,
    },
    /// Build and start a VM of a selection (QEMU; KVM or HVF when available).
    Vm {
        #[command(flatten)]
        select: Select,
        /// Host that runs the VM (default: this machine).
        #[arg(long)]
        host: Option<String>,
    },
    /// Run the NixOS VM tests (`checks.<system>.<feature>`) of features.
    Test {
        /// Features to test (default: every feature supporting the system).
        #[arg(value_delimiter = ',')]
        features: Vec<String>,
        #[arg(long)]
        system: Option<System>,
        /// Start the interactive test driver instead (one feature).
        #[arg(long)]
        interactive: bool,
    },
    /// Build every feature × system VM-test cell and report.
    Matrix {
        /// Only cells of this system (default: both Linux systems).
        #[arg(long)]
        system: Option<System>,
        /// Write a JSON report here.
        #[arg(long)]
        json: Option<Utf8PathBuf>,
        /// Write a JUnit XML report here.
        #[arg(long)]
        junit: Option<Utf8PathBuf>,
        /// Also emit annotations and a step summary for this CI.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// List the cells without building.
        #[arg(long)]
        dry_run: bool,
    },
    /// Measure synthetic catalogs of 10 to 1,000 branches (see BENCHMARKS.md).
    ///
    /// Each size is a copy of this checkout with N generated branches (chains and diamonds
    /// of `requires`, a dozen contract options each, VM tests) in a temporary directory:
    /// planning (list, resolution, compose), the static tier, module evaluation batched
    /// and one Nix process per branch, the evaluator's peak memory, the xtask's overhead
    /// over raw Nix, and `check --changed-since` after a one-branch change.
    Bench {
        /// Catalog sizes: synthetic branches added to this checkout's, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [10, 100, 1000])]
        sizes: Vec<usize>,
        /// Timed runs of each measurement.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Seconds one measurement of one size may take: after the first run, fewer runs
        /// are made when `runs` of them would exceed it (the report says how many ran).
        #[arg(long, default_value_t = 120)]
        budget: u64,
        /// One Nix process per branch for at most this many branches of a size; beyond,
        /// an evenly spread sample is timed and scaled to the whole catalog (the report says so).
        #[arg(long, default_value_t = 100)]
        per_process_sample: usize,
        /// Write the results into BENCHMARKS.md (its generated section) and docs/bench.svg.
        #[arg(long)]
        write: bool,
        /// Keep the generated catalogs (their directories are printed).
        #[arg(long)]
        keep: bool,
    },
    /// Format every Nix file with alejandra.
    Fmt {
        /// Only report files that are not formatted (exit 1 if any).
        #[arg(long)]
        check: bool,
    },
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
        let selection = match self.profile {
            Some(profile) => Selection::profile(profile),
            None => Selection::features(self.features.iter().map(|f| f.trim().to_owned())),
        };
        match self.system {
            Some(system) => selection.with_system(system),
            None => selection,
        }
    }

    /// The command-line words that reproduce this selection.
    pub fn describe(&self) -> String {
        let mut out = match self.profile {
            Some(profile) => format!("--profile {profile}"),
            None => format!("--features {}", self.features.join(",")),
        };
        if let Some(system) = self.system {
            out.push_str(&format!(" --system {system}"));
        }
        out
    }
}

impl Xtask {
    pub fn run(self, project: &Project) -> Result<()> {
        match self.cmd {
            Cmd::List { json } => crate::list::run(project, json),
            Cmd::Compose {
                select,
                out,
                flake_ref,
            } => {
                let reference = flake_ref.clone().unwrap_or_else(|| project.flake_ref());
                crate::compose::run(project, &select, &out, flake_ref).map(|path| {
                    println!("wrote {path}");
                    // `path:` because a folder inside a git work tree would otherwise
                    // be read as the repository, where the new file is untracked.
                    let dir = std::fs::canonicalize(&out)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| out.to_string());
                    // Building today's domi-nix, not the one a lock file pinned.
                    let next = crate::nix::NixCommand::nix("build")
                        .arg(format!(
                            "path:{dir}#packages.{}.vm",
                            crate::nix::host_system()
                        ))
                        .args(dominix::render::current_input_args(&reference));
                    let line: Vec<String> = next.argv().iter().map(|w| shell_quote(w)).collect();
                    println!("next: {}", line.join(" "));
                })
            }
            Cmd::Check {
                json,
                changed_since,
            } => crate::check::run(project, json, changed_since.as_deref()),
            Cmd::Seed {
                inputs,
                from,
                all,
                lock,
            } => crate::seed::run(project, &inputs, from.as_deref(), all, lock),
            Cmd::Contract {
                cmd: ContractCmd::Verify { nixpkgs },
            } => crate::contract::verify(project, nixpkgs),
            Cmd::Build {
                select,
                host,
                toplevel,
                dry_run,
            } => {
                crate::run::build(project, &select, host.as_deref(), toplevel, dry_run).map(|_| ())
            }
            Cmd::Vm { select, host } => crate::run::vm(project, &select, host.as_deref()),
            Cmd::Test {
                features,
                system,
                interactive,
            } => crate::run::test(project, &features, system, interactive),
            Cmd::Matrix {
                system,
                json,
                junit,
                emit,
                dry_run,
            } => crate::run::matrix(
                project,
                system,
                json.as_deref(),
                junit.as_deref(),
                emit,
                dry_run,
            ),
            Cmd::Fmt { check } => crate::fmt::run(project, check),
            Cmd::Bench {
                sizes,
                runs,
                budget,
                per_process_sample,
                write,
                keep,
            } => crate::bench::run(
                project,
                &crate::bench::Options {
                    sizes,
                    runs,
                    budget: std::time::Duration::from_secs(budget),
                    per_process_sample,
                    write,
                    keep,
                },
            ),
        }
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
    use super::shell_quote;

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
