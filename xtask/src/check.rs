//! `cargo xtask check`: the static tier and module evaluation of every feature.

use std::collections::BTreeMap;

use dominix::{Catalog, Profile, RenderOptions, Selection, trunk_flake};
use dominix_eval::{Case, EvalError, Evaluator, NixFailure};
use serde::Serialize;
use xshell::{Shell, cmd};

use crate::{Failure, Project, Result, compose, fmt, nix};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Serialize)]
struct Tier {
    name: &'static str,
    status: Status,
    /// What was checked, e.g. "27 files".
    summary: String,
    /// Problems, or the skip reason.
    details: Vec<String>,
}

impl Tier {
    fn from_problems(name: &'static str, summary: String, details: Vec<String>) -> Tier {
        let status = if details.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        };
        Tier {
            name,
            status,
            summary,
            details,
        }
    }

    fn skipped(name: &'static str, reason: String) -> Tier {
        let status = if dominix_eval::skip::required() {
            Status::Failed
        } else {
            Status::Skipped
        };
        Tier {
            name,
            status,
            summary: String::new(),
            details: vec![reason],
        }
    }
}

pub fn run(project: &Project, json: bool) -> Result<()> {
    let sh = Shell::new().map_err(|e| Failure::new(e.to_string()))?;
    sh.change_dir(&project.root);
    let catalog = project.catalog()?;
    let files = fmt::nix_files(&project.root)?;
    let have_nix = nix::available(&sh, "nix-instantiate");

    let mut tiers = vec![metadata(&catalog), resolution(&catalog)];
    if have_nix {
        tiers.push(parse(project, &sh, &files));
        tiers.push(trunks(project, &sh, &catalog)?);
    } else {
        let reason = "SKIP nix-parse: `nix-instantiate` is not on PATH — install Nix ≥ 2.8 (Debian/Ubuntu: `apt-get install nix-bin`)";
        tiers.push(Tier::skipped("nix-parse", reason.to_owned()));
        tiers.push(Tier::skipped(
            "trunks",
            reason.replace("nix-parse", "trunks"),
        ));
    }
    tiers.push(format(project)?);
    tiers.push(deadnix(project, &sh, &files));
    let (eval_tier, evaluated) = module_eval(project, &catalog);
    tiers.push(eval_tier);

    let count = |s: Status| tiers.iter().filter(|t| t.status == s).count();
    let (passed, failed, skipped) = (
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Skipped),
    );
    let total = catalog.features().len();
    if json {
        let report = serde_json::json!({
            "tiers": tiers,
            "passed": passed, "failed": failed, "skipped": skipped,
            "module_eval": { "evaluated": evaluated, "features": total },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for tier in &tiers {
            let label = match tier.status {
                Status::Passed => "ok  ",
                Status::Failed => "FAIL",
                Status::Skipped => "SKIP",
            };
            println!("{label} {:<12} {}", tier.name, tier.summary);
            for detail in &tier.details {
                println!("       {}", detail.replace('\n', "\n       "));
            }
        }
        println!("module-eval: {evaluated}/{total} features evaluated");
        println!("check: {passed} passed, {failed} failed, {skipped} skipped");
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "{failed} check tier(s) failed; see above"
        )))
    }
}

fn metadata(catalog: &Catalog) -> Tier {
    let details = catalog.problems().iter().map(ToString::to_string).collect();
    Tier::from_problems(
        "metadata",
        format!("{} features", catalog.features().len()),
        details,
    )
}

fn resolution(catalog: &Catalog) -> Tier {
    let mut details = Vec::new();
    for feature in catalog.features() {
        if let Err(e) = catalog.resolve(&Selection::features([feature.name.as_str()])) {
            details.push(format!("{}: {e}", feature.name));
        }
    }
    for profile in Profile::ALL {
        if let Err(e) = catalog.resolve(&Selection::profile(profile)) {
            details.push(format!("profile {profile}: {e}"));
        }
    }
    Tier::from_problems(
        "resolve",
        "every feature alone, and both profiles".to_owned(),
        details,
    )
}

fn parse(project: &Project, sh: &Shell, files: &[camino::Utf8PathBuf]) -> Tier {
    let details = nix::parse_files(sh, files)
        .into_iter()
        .map(|(file, e)| {
            let relative = file.strip_prefix(&project.root).unwrap_or(file);
            let e = e.replace(&format!("{}/", project.root), "");
            format!("{relative}: {e}")
        })
        .collect();
    Tier::from_problems("nix-parse", format!("{} files", files.len()), details)
}

/// Every composed trunk (minimal, full, each feature alone) parses.
fn trunks(project: &Project, sh: &Shell, catalog: &Catalog) -> Result<Tier> {
    let dir = tempfile::tempdir()
        .map_err(|e| Failure::new(format!("cannot create a temporary directory: {e}")))?;
    let mut selections: Vec<(String, Selection)> = Profile::ALL
        .iter()
        .map(|p| (format!("profile {p}"), Selection::profile(*p)))
        .collect();
    selections.extend(
        catalog
            .features()
            .iter()
            .map(|f| (f.name.clone(), Selection::features([f.name.as_str()]))),
    );
    let flake_ref = project.flake_ref();
    let mut written = Vec::new();
    for (i, (label, selection)) in selections.iter().enumerate() {
        let Ok(res) = catalog.resolve(selection) else {
            continue;
        }; // reported by `resolve`
        let opts = RenderOptions {
            flake_ref: flake_ref.clone(),
            system: compose::system_for(&res),
            command: "cargo xtask check".to_owned(),
        };
        let file = camino::Utf8PathBuf::from_path_buf(dir.path().join(format!("trunk-{i}.nix")))
            .map_err(|_| Failure::new("temporary path is not UTF-8"))?;
        std::fs::write(&file, trunk_flake(&res, &opts))
            .map_err(|e| Failure::new(format!("cannot write {file}: {e}")))?;
        written.push((file, label));
    }
    let files: Vec<camino::Utf8PathBuf> = written.iter().map(|(f, _)| f.clone()).collect();
    let details = nix::parse_files(sh, &files)
        .into_iter()
        .map(|(file, e)| {
            let label = written
                .iter()
                .find(|(f, _)| f == file)
                .map_or("?", |(_, l)| l.as_str());
            format!("composed trunk for {label}: {e}")
        })
        .collect();
    Ok(Tier::from_problems(
        "trunks",
        format!("{} composed trunks", selections.len()),
        details,
    ))
}

fn format(project: &Project) -> Result<Tier> {
    let findings = fmt::unformatted(&project.root, false)?;
    let details = findings
        .into_iter()
        .map(|f| format!("{f}: not formatted — run `cargo xtask fmt`"))
        .collect();
    Ok(Tier::from_problems(
        "format",
        "alejandra".to_owned(),
        details,
    ))
}

fn deadnix(project: &Project, sh: &Shell, files: &[camino::Utf8PathBuf]) -> Tier {
    if !nix::available(sh, "deadnix") {
        return Tier::skipped(
            "deadnix",
            "SKIP deadnix: `deadnix` is not on PATH — `cargo install deadnix`".to_owned(),
        );
    }
    let output = cmd!(sh, "deadnix --fail {files...}")
        .quiet()
        .ignore_status()
        .output();
    let details = match output {
        Ok(out) if out.status.success() => Vec::new(),
        Ok(out) => vec![
            String::from_utf8_lossy(&out.stdout)
                .replace(&format!("{}/", project.root), "")
                .trim()
                .to_owned()
                + "\nFix: remove the unused bindings, or prefix them with `_`",
        ],
        Err(e) => vec![format!("cannot run deadnix: {e}")],
    };
    Tier::from_problems("deadnix", format!("{} files", files.len()), details)
}

/// Every feature's module, evaluated alone on the trunk, plus the trunk alone,
/// in one batched Nix process.
fn module_eval(project: &Project, catalog: &Catalog) -> (Tier, usize) {
    let evaluator = Evaluator::new(project.root.clone());
    if let Err(reason) = evaluator.preflight() {
        return (Tier::skipped("module-eval", reason.skip_line()), 0);
    }
    let mut cases: BTreeMap<String, Case> = catalog
        .features()
        .iter()
        .map(|f| (f.name.clone(), Case::feature(&f.name)))
        .collect();
    cases.insert("(trunk)".to_owned(), Case::default());
    let results = evaluator.eval_batch(&cases);
    let mut details = Vec::new();
    // One error shared by several cases (a syntax error in a fragment breaks
    // the whole top level) is reported once, naming every case it broke.
    let mut shared: Vec<NixFailure> = Vec::new();
    let mut evaluated = 0;
    for (id, result) in results {
        match result.and_then(|o| o.into_checked(&id)) {
            Ok(_) if id != "(trunk)" => evaluated += 1,
            Ok(_) => {}
            Err(EvalError::Nix(failure)) => {
                let same = |f: &&mut NixFailure| {
                    (&f.file, &f.option, &f.message)
                        == (&failure.file, &failure.option, &failure.message)
                };
                match shared.iter_mut().find(same) {
                    Some(group) => {
                        group.case = format!("{}`, `{}", group.case, failure.case);
                        group.features.extend(failure.features.iter().cloned());
                    }
                    None => shared.push(*failure),
                }
            }
            Err(e) => details.push(e.to_string()),
        }
    }
    details.extend(shared.iter().map(ToString::to_string));
    let summary = format!(
        "{evaluated}/{} features against the NixOS contract",
        catalog.features().len()
    );
    (
        Tier::from_problems("module-eval", summary, details),
        evaluated,
    )
}
