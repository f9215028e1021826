//! `cargo xtask seed`: put pinned flake inputs into the Nix store without
//! network, after checking their NAR hash against flake.lock.

use std::fmt::Display;

use camino::{Utf8Path, Utf8PathBuf};
use dominix_eval::{Lock, LockedInput};
use xshell::Shell;

use crate::nix::NixCommand;
use crate::{Failure, Project, Result};

impl crate::flags::Seed {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        if self.all {
            if !self.inputs.is_empty() {
                return Err(Failure::usage(
                    "`--all` seeds every input; do not name inputs with it",
                ));
            }
            NixCommand::nix("flake")
                .args(["archive", &project.flake_ref()])
                .current_dir(sh.current_dir())
                .stderr_to_terminal()
                .output()
                .map_err(|e| {
                    Failure::new(format!(
                        "`nix flake archive` failed: {e}. Without network, use `--from <dir>` per input"
                    ))
                })?;
            println!("seeded every input of flake.lock");
            return Ok(());
        }
        let Some(from) = &self.from else {
            return Err(Failure::usage(
                "say where the input comes from: `cargo xtask seed <input> --from <source tree or git repository>` (or `--all` with network)",
            ));
        };
        let [name] = &self.inputs[..] else {
            return Err(Failure::usage(
                "`--from` seeds one input: name exactly one, e.g. `cargo xtask seed flake-parts --from ../flake-parts`",
            ));
        };
        let lock = self.lock.unwrap_or_else(|| project.root.join("flake.lock"));
        let input = Lock::read(&lock)?.input(name)?;
        let path = seed_one(&input, from)?;
        println!("seeded {name} {} from {from}: {path}", input.short_rev());
        Ok(())
    }
}

/// A failure saying `cannot <what>: <error>`.
fn cannot<E: Display>(what: impl Display) -> impl FnOnce(E) -> Failure {
    move |e| Failure::new(format!("cannot {what}: {e}"))
}

/// Copies exactly the locked revision out of `from` into a folder named
/// `source`, checks its NAR hash, and adds it to the store.
fn seed_one(input: &LockedInput, from: &Utf8Path) -> Result<String> {
    let name = from.as_str();
    let archive = (name.ends_with(".tar.gz") || name.ends_with(".tgz")) && from.is_file();
    if !from.is_dir() && !archive {
        return Err(Failure::usage(format!(
            "{from} is neither a directory nor a .tar.gz archive. Fix: pass a source tree, a git repository, \
             or a .tar.gz of a source tree of `{}`",
            input.name
        )));
    }
    let work = tempfile::tempdir().map_err(cannot("create a temporary directory"))?;
    let work = Utf8PathBuf::from_path_buf(work.path().to_owned())
        .map_err(|_| Failure::new("the temporary directory path is not UTF-8"))?;
    let source = work.join("source");
    std::fs::create_dir(&source).map_err(cannot(format!("create {source}")))?;

    if archive {
        // A source tree packed with one top-level folder (or none).
        let unpacked = work.join("unpacked");
        std::fs::create_dir(&unpacked).map_err(cannot(format!("create {unpacked}")))?;
        NixCommand::tool("tar")
            .args(["-x", "-z", "-f", from.as_str(), "-C", unpacked.as_str()])
            .output()
            .map_err(|_| {
                Failure::new(format!(
                    "cannot unpack {from}: not a gzip-compressed tar archive. Fix: pass a .tar.gz of a source tree of `{}`",
                    input.name
                ))
            })?;
        let entries: Vec<_> = std::fs::read_dir(&unpacked)
            .map_err(cannot(format!("read {unpacked}")))?
            .filter_map(|e| e.ok())
            .collect();
        let tree = match entries.as_slice() {
            [only] if only.path().is_dir() => Utf8PathBuf::from_path_buf(only.path())
                .map_err(|_| Failure::new("the archive's folder name is not UTF-8"))?,
            _ => unpacked.clone(),
        };
        std::fs::remove_dir(&source).map_err(cannot(format!("replace {source}")))?;
        std::fs::rename(&tree, &source).map_err(cannot(format!("move {tree} to {source}")))?;
    } else if is_git(from) {
        let rev = &input.rev;
        let tar = work.join("source.tar");
        NixCommand::tool("git")
            .args(["-C", from.as_str(), "archive", "--format=tar"])
            .arg(format!("--output={tar}"))
            .arg(rev)
            .output()
            .map_err(|_| {
                Failure::new(format!(
                    "{from} does not contain revision {rev} of `{}`. Fix: fetch that revision into it \
                     (`git -C {from} fetch origin {rev}`), or pass a tree of it",
                    input.name
                ))
            })?;
        NixCommand::tool("tar")
            .args(["-x", "-f", tar.as_str(), "-C", source.as_str()])
            .output()
            .map_err(cannot(format!("unpack {tar}")))?;
    } else {
        NixCommand::tool("cp")
            .args(["-R", &format!("{from}/."), source.as_str()])
            .output()
            .map_err(cannot(format!("copy {from}")))?;
    }

    let actual = NixCommand::nix("hash")
        .args(["path", source.as_str()])
        .output()
        .map(|out| out.stdout.trim().to_owned())
        .map_err(cannot(format!("hash {from}")))?;
    if actual != input.nar_hash {
        return Err(Failure::new(format!(
            "{from} is not the locked `{}` ({}): its NAR hash differs.\n  flake.lock: {}\n  {from}: {actual}\nFix: use a copy of exactly revision {} (a git repository containing it is enough)",
            input.name,
            input.short_rev(),
            input.nar_hash,
            input.rev
        )));
    }
    let added = NixCommand::store()
        .args(["--add-fixed", "--recursive", "sha256", source.as_str()])
        .output()
        .map_err(|e| Failure::new(format!("cannot add {from} to the Nix store: {e}. Fix: run as a user who may write to the store")))?;
    Ok(added.stdout.trim().to_owned())
}

fn is_git(dir: &Utf8Path) -> bool {
    dir.join(".git").exists() || (dir.join("HEAD").is_file() && dir.join("objects").is_dir())
}
