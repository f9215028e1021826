//! `cargo xtask list`.

use crate::{Project, Result};

impl crate::flags::List {
    pub fn run(self, _sh: &xshell::Shell, project: &Project) -> Result<()> {
        let catalog = project.catalog()?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&catalog.to_json())?);
        } else {
            println!(
                "{:<14} {:<9} {:<28} {:<14} {:<14} SUMMARY",
                "FEATURE", "CATEGORY", "SYSTEMS", "REQUIRES", "CONFLICTS"
            );
            for f in catalog.features() {
                let join = |v: &[String]| {
                    if v.is_empty() {
                        "-".to_owned()
                    } else {
                        v.join(",")
                    }
                };
                let systems: Vec<String> = f.meta.systems.iter().map(ToString::to_string).collect();
                println!(
                    "{:<14} {:<9} {:<28} {:<14} {:<14} {}",
                    f.name,
                    f.meta.category.to_string(),
                    systems.join(","),
                    join(&f.meta.requires),
                    join(&f.meta.conflicts),
                    f.meta.summary
                );
            }
        }
        // The table shows what could be read; the problems fail the command,
        // as they fail every other command.
        let problems = catalog.problems();
        for problem in problems {
            eprintln!("{problem}");
        }
        crate::ensure(problems.is_empty(), || {
            format!(
                "the feature catalog has {} problem(s), listed above with their fixes",
                problems.len()
            )
        })
    }
}
