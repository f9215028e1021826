//! `cargo xtask fmt`: alejandra over every Nix file of the repository.

use camino::{Utf8Path, Utf8PathBuf};

use crate::{Failure, Project, Result, fsx};

/// Every `.nix` file of the checkout, sorted; skips target/, .git/ and hidden dirs.
pub fn nix_files(root: &Utf8Path) -> Result<Vec<Utf8PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Failure::new(format!("cannot read {dir}: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure::new(format!("cannot read {dir}: {e}")))?;
            let Ok(path) = Utf8PathBuf::from_path_buf(entry.path()) else {
                continue;
            };
            let name = path.file_name().unwrap_or_default();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                if !name.starts_with('.')
                    && name != "target"
                    && name != "result"
                    && name != "node_modules"
                {
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

/// Files whose formatting differs from alejandra's, or alejandra's errors.
pub fn unformatted(root: &Utf8Path, write: bool) -> Result<Vec<String>> {
    let mut findings = Vec::new();
    for file in nix_files(root)? {
        let before = std::fs::read_to_string(&file)
            .map_err(|e| Failure::new(format!("cannot read {file}: {e}")))?;
        let relative = file.strip_prefix(root).unwrap_or(&file).to_string();
        match alejandra::format::in_memory(relative.clone(), before.clone()) {
            (alejandra::format::Status::Error(e), _) => findings.push(format!("{relative}: {e}")),
            (_, after) if after != before => {
                if write {
                    fsx::write_atomic(&file, &after)?;
                }
                findings.push(relative);
            }
            _ => {}
        }
    }
    Ok(findings)
}

impl crate::flags::Fmt {
    pub fn run(self, _sh: &xshell::Shell, project: &Project) -> Result<()> {
        run(project, self.check)
    }
}

fn run(project: &Project, check: bool) -> Result<()> {
    let findings = unformatted(&project.root, !check)?;
    if check && !findings.is_empty() {
        return Err(Failure::new(format!(
            "not formatted with alejandra:\n  {}\nFix: run `cargo xtask fmt`",
            findings.join("\n  ")
        )));
    }
    for f in &findings {
        println!("formatted {f}");
    }
    Ok(())
}
