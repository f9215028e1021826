//! `cargo xtask fmt`: alejandra over every Nix file of the repository.

use camino::{Utf8Path, Utf8PathBuf};

use crate::{Failure, Project, Result, fsx};

/// Every `.nix` file of the checkout, sorted; skips target/, .git/ and hidden dirs.
pub fn nix_files(root: &Utf8Path) -> Result<Vec<Utf8PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let cannot = |e: std::io::Error| Failure::new(format!("cannot read {dir}: {e}"));
        for entry in std::fs::read_dir(&dir).map_err(cannot)? {
            let entry = entry.map_err(cannot)?;
            let Ok(path) = Utf8PathBuf::from_path_buf(entry.path()) else {
                continue;
            };
            let name = path.file_name().unwrap_or_default();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if !name.starts_with('.') && !["target", "result", "node_modules"].contains(&name) {
                    stack.push(path);
                }
            } else if name.ends_with(".nix") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// What alejandra made of the repository's Nix files.
#[derive(Debug, Default)]
pub struct Formatting {
    /// Files whose formatting differs from alejandra's (rewritten if asked).
    pub unformatted: Vec<String>,
    /// Files alejandra cannot parse, with its error: formatting cannot fix them.
    pub unparsable: Vec<String>,
}

impl Formatting {
    /// One line per unparsable file, with the fix.
    pub fn unparsable_lines(&self) -> Vec<String> {
        self.unparsable
            .iter()
            .map(|e| format!("{e}. Fix: correct the syntax first (the nix-parse tier of `cargo xtask check` shows Nix's own error); formatting cannot fix it"))
            .collect()
    }
}

/// Runs alejandra over `files` (of the checkout at `root`); rewrites the
/// unformatted ones when `write`.
pub fn unformatted(root: &Utf8Path, files: &[Utf8PathBuf], write: bool) -> Result<Formatting> {
    let mut found = Formatting::default();
    for file in files {
        let before = std::fs::read_to_string(file).map_err(|e| {
            Failure::new(format!(
                "cannot read {file}: {e}. Fix: make it a readable UTF-8 file"
            ))
        })?;
        let relative = file.strip_prefix(root).unwrap_or(file).to_string();
        match alejandra::format::in_memory(relative.clone(), before.clone()) {
            (alejandra::format::Status::Error(e), _) => {
                found
                    .unparsable
                    .push(format!("{relative}: does not parse ({e})"));
            }
            (_, after) if after != before => {
                if write {
                    fsx::write_atomic(file, &after)?;
                }
                found.unformatted.push(relative);
            }
            _ => {}
        }
    }
    Ok(found)
}

impl crate::flags::Fmt {
    pub fn run(self, _sh: &xshell::Shell, project: &Project) -> Result<()> {
        let found = unformatted(&project.root, &nix_files(&project.root)?, !self.check)?;
        if !self.check {
            for f in &found.unformatted {
                println!("formatted {f}");
            }
        }
        let mut problems = found.unparsable_lines();
        if self.check && !found.unformatted.is_empty() {
            problems.push(format!(
                "not formatted with alejandra: {}. Fix: run `cargo xtask fmt`",
                found.unformatted.join(", ")
            ));
        }
        crate::ensure(problems.is_empty(), || problems.join("\n"))
    }
}
