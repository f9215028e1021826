//! `cargo xtask audit`: every systemd service a selection defines, rendered
//! from its module-evaluated `systemd.services.<name>` as nixpkgs renders it
//! (`dominix_audit::unit`), scored by `systemd-analyze security
//! --offline=yes`, and held to its ceiling and, when sandboxed, to the
//! `sandboxing` profile's promises. `check` runs the same judgement as its
//! `audit` tier, on the module-evaluation tier's own results.

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use dominix::{Catalog, Exposure, Profile, Selection};
use dominix_audit::analyze::Analyzer;
use dominix_audit::fixes::{Suggestion, bring_under};
use dominix_audit::{AuditError, Band, Score, sandbox, unit};
use dominix_eval::{Case, Evaluator, Outcome};
use serde::Serialize;
use serde_json::{Map, Value, json};
use xshell::Shell;

use crate::{Failure, Project, Result, compose};

/// What `check` and `audit` select from an evaluation.
pub const SELECT: [&str; 3] = ["systemd.services", "systemd.globalEnvironment", "domi-nix"];

/// The ceiling of a unit domi-nix writes when its branch names none.
pub const DEFAULT_CEILING: Exposure = match Exposure::from_tenths(20) {
    Some(e) => e,
    None => Exposure::MAX,
};

/// A relaxation of the sandboxing profile, as the unit's branch named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    pub directive: String,
    pub value: Value,
    pub reason: String,
}

/// One unit's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// `sshd.service`.
    pub unit: String,
    /// The branch files that define it, or empty for a nixpkgs unit.
    pub defined_by: Vec<String>,
    /// Why it was not scored, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_scored: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    /// Without the sandboxing branch, where it is attached and changes the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<(Exposure, Band)>,
    /// The ceiling, and who set it (a branch, or `domi-nix` for the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<(Exposure, String)>,
    /// The heaviest settings systemd finds failing: name and exposure.
    pub failing: Vec<(String, Exposure)>,
    /// Whether `domi-nix.sandboxing.services` names it.
    pub sandboxed: bool,
    pub exceptions: Vec<Exception>,
    /// What fails the audit.
    pub problems: Vec<String>,
    /// What systemd said while loading the file (an ignored key, say).
    pub warnings: Vec<String>,
    /// The fewest directives that bring it under its ceiling, when it is above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

impl crate::flags::Audit {
    pub fn run(self, _sh: &Shell, project: &Project) -> Result<()> {
        let catalog = project.valid_catalog()?;
        let selection = if self.features.is_empty() {
            Selection::profile(self.profile.unwrap_or(Profile::Full))
        } else {
            Selection::features(self.features.iter().map(String::as_str))
        };
        let selection = match self.system {
            Some(system) => selection.with_system(system),
            None => selection,
        };
        let res = compose::resolve(&catalog, &selection)?;
        let system = compose::system_for(&res);
        let features: Vec<String> = res.names().iter().map(|n| (*n).to_owned()).collect();

        let analyzer = match Analyzer::probe() {
            Ok(analyzer) => analyzer,
            Err(AuditError::Unavailable(reason)) => return skip(&reason.skip_line()),
            Err(error) => return Err(Failure::new(error.to_string())),
        };
        let evaluator = Evaluator::new(project.root.clone());
        if let Err(reason) = evaluator.preflight() {
            if reason.is_failure() {
                return Err(Failure::new(reason.to_string()));
            }
            return skip(&reason.skip_line());
        }
        let case = Case {
            features: features.clone(),
            select: Some(SELECT.iter().map(|s| (*s).to_owned()).collect()),
            ..Case::default()
        }
        .on_system(system.as_str());
        let sandboxing = features.iter().any(|f| f == "sandboxing");
        let mut cases = BTreeMap::from([("after".to_owned(), case.clone())]);
        if sandboxing {
            // The branch stays attached (others may require it) but sandboxes nothing.
            let none = json!({ "domi-nix": { "sandboxing": { "services": { "_override": 50, "value": {} } } } });
            cases.insert("before".to_owned(), case.with_settings(none));
        }
        let mut outcomes = BTreeMap::new();
        for (id, result) in evaluator.eval_batch(&cases) {
            let label = format!("audit of {} on {system}", features.join(", "));
            let outcome = result
                .and_then(|o| o.into_checked(&label))
                .map_err(|e| Failure::new(e.to_string()))?;
            outcomes.insert(id, outcome);
        }
        let (Some(after), before) = (outcomes.get("after"), outcomes.get("before")) else {
            return Err(Failure::new(
                "the evaluation answered no `after` case".to_owned(),
            ));
        };

        let scratch = tempfile::tempdir()
            .map_err(|e| Failure::new(format!("cannot create a temporary directory: {e}")))?;
        let dir = match &self.units_dir {
            Some(dir) => units_dir(dir)?,
            None => Utf8PathBuf::from_path_buf(scratch.path().to_owned())
                .map_err(|_| Failure::new("the temporary directory's path is not UTF-8"))?,
        };
        let ceilings = ceilings(&catalog, &features);
        let reports = judge(&analyzer, project, after, before, &ceilings, &dir)?;
        let failed = reports.iter().filter(|r| !r.problems.is_empty()).count();
        if self.json {
            let report = json!({
                "system": system.as_str(),
                "features": features,
                "analyzer": { "program": "systemd-analyze", "version": analyzer.version },
                "units_dir": self.units_dir.as_ref().map(|_| dir.as_str()),
                "units": reports,
                "failed": failed,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!(
                "{}",
                table(&reports, &features, system.as_str(), analyzer.version)
            );
            if self.units_dir.is_some() {
                println!(
                    "unit files in {dir} (systemd-analyze security --offline=yes {dir}/<unit>.service gives the same numbers; before/ holds them without sandboxing)"
                );
            }
        }
        crate::ensure(failed == 0, || {
            format!(
                "{failed} unit(s) fail the audit; each problem above names the unit and the fix"
            )
        })
    }
}

/// A visible skip: exit 0, or a failure under `DOMINIX_REQUIRE_EVAL=1`.
fn skip(line: &str) -> Result<()> {
    if dominix_eval::skip::required() {
        return Err(Failure::new(format!(
            "{line} ({}=1 forbids skipping)",
            dominix_eval::skip::REQUIRE_ENV
        )));
    }
    println!("{line}");
    Ok(())
}

/// `--units-dir`: created if missing, never a symbolic link.
fn units_dir(dir: &Utf8Path) -> Result<Utf8PathBuf> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Failure::usage(format!(
            "--units-dir {dir} is a symbolic link; the audit writes only into a directory of its own. Fix: choose another --units-dir"
        )));
    }
    std::fs::create_dir_all(dir.join("before")).map_err(|e| {
        Failure::new(format!(
            "cannot create --units-dir {dir}: {e}. Fix: choose a directory you can write"
        ))
    })?;
    Ok(dir.to_owned())
}

/// Every unit's ceiling the selected branches declare, with the branch.
pub fn ceilings(catalog: &Catalog, features: &[String]) -> BTreeMap<String, (Exposure, String)> {
    features
        .iter()
        .filter_map(|name| catalog.get(name))
        .flat_map(|f| {
            f.meta
                .ceilings
                .iter()
                .map(|(unit, c)| (unit.clone(), (*c, f.name.clone())))
        })
        .collect()
}

/// The services of an evaluation (`systemd.services`), its global
/// environment, and what `domi-nix.sandboxing.services` says of each unit.
struct Services<'a> {
    services: &'a Map<String, Value>,
    global: Map<String, Value>,
    sandboxed: BTreeMap<String, Vec<Exception>>,
}

impl<'a> Services<'a> {
    fn of(outcome: &'a Outcome) -> Option<Services<'a>> {
        let services = outcome.config.get("systemd.services")?.as_object()?;
        let global = outcome
            .config
            .get("systemd.globalEnvironment")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let named = &outcome.config["domi-nix"]["sandboxing"]["services"];
        let sandboxed = named
            .as_object()
            .map(|units| {
                units
                    .iter()
                    .map(|(unit, settings)| (unit.clone(), exceptions_of(settings)))
                    .collect()
            })
            .unwrap_or_default();
        Some(Services {
            services,
            global,
            sandboxed,
        })
    }
}

fn exceptions_of(settings: &Value) -> Vec<Exception> {
    let Some(exceptions) = settings["exceptions"].as_object() else {
        return Vec::new();
    };
    exceptions
        .iter()
        .filter(|(_, e)| !e.is_null())
        .map(|(directive, e)| Exception {
            directive: directive.clone(),
            value: e["value"].clone(),
            reason: e["reason"].as_str().unwrap_or("").to_owned(),
        })
        .collect()
}

/// The branch files (relative to the checkout) that define `unit`.
fn defined_by(outcome: &Outcome, root: &Utf8Path, unit: &str) -> Vec<String> {
    let crates = format!("{root}/crates/");
    let files: BTreeSet<String> = outcome
        .applied
        .iter()
        .filter(|a| a.option == "systemd.services" && a.key.as_deref() == Some(unit))
        .filter_map(|a| a.file.strip_prefix(&crates).map(|f| format!("crates/{f}")))
        .collect();
    files.into_iter().collect()
}

/// Why a unit cannot be scored as a whole file, if it cannot.
fn unscorable(name: &str, service: &Value) -> Option<String> {
    if service["enable"] == Value::Bool(false) {
        return Some("masked (`enable = false`): nixpkgs links it to /dev/null".into());
    }
    if name.ends_with('@') {
        return Some(
            "a template (`<name>@`): systemd scores its instances, not the template".into(),
        );
    }
    let config = &service["serviceConfig"];
    let runs = ["ExecStart", "ExecStop"]
        .iter()
        .any(|d| !config[d].is_null());
    (!runs).then(|| {
        "no ExecStart= or ExecStop=: nixpkgs writes it as a drop-in over a unit systemd or a package ships, which the audit cannot see".into()
    })
}

/// Renders, scores and judges every unit of `after` (and, where the
/// sandboxing branch is attached, of `before`, the same selection without
/// it), writing the unit files into `dir` (`before/` for the latter).
pub fn judge(
    analyzer: &Analyzer,
    project: &Project,
    after: &Outcome,
    before: Option<&Outcome>,
    ceilings: &BTreeMap<String, (Exposure, String)>,
    dir: &Utf8Path,
) -> Result<Vec<UnitReport>> {
    let Some(now) = Services::of(after) else {
        return Ok(Vec::new());
    };
    let then = before.and_then(Services::of);
    let origin = before.unwrap_or(after);
    let mut reports = Vec::new();
    let mut files = Vec::new();
    let mut earlier = Vec::new();
    for (name, service) in now.services {
        let sandboxed = now.sandboxed.get(name);
        let mut report = UnitReport {
            unit: format!("{name}.service"),
            defined_by: defined_by(origin, &project.root, name),
            not_scored: None,
            exposure: None,
            band: None,
            before: None,
            ceiling: None,
            failing: Vec::new(),
            sandboxed: sandboxed.is_some(),
            exceptions: sandboxed.cloned().unwrap_or_default(),
            problems: Vec::new(),
            warnings: Vec::new(),
            suggestion: None,
        };
        report.ceiling = ceilings.get(name).cloned().or_else(|| {
            (!report.defined_by.is_empty()).then(|| (DEFAULT_CEILING, "domi-nix".to_owned()))
        });
        for e in &report.exceptions {
            if e.reason.trim().is_empty() {
                report.problems.push(format!(
                    "{}: the exception of `{}` has no reason. Fix: say why in domi-nix.sandboxing.services.{name}.exceptions.{}.reason",
                    report.unit, e.directive, e.directive
                ));
            }
        }
        if let Some(why) = unscorable(name, service) {
            report.not_scored = Some(why);
            reports.push((report, None));
            continue;
        }
        let rendered = match unit::render(name, service, &now.global) {
            Ok(rendered) => rendered,
            Err(e) => {
                report.problems.push(e.to_string());
                reports.push((report, None));
                continue;
            }
        };
        rendered
            .write_to(dir)
            .map_err(|e| Failure::new(e.to_string()))?;
        files.push(rendered.name.clone());
        if let Some(then) = &then
            && let Some(old) = then.services.get(name)
            && unscorable(name, old).is_none()
            && let Ok(old) = unit::render(name, old, &then.global)
            && old.text != rendered.text
        {
            let before_dir = dir.join("before");
            std::fs::create_dir_all(&before_dir)
                .map_err(|e| Failure::new(format!("cannot create {before_dir}: {e}")))?;
            old.write_to(&before_dir)
                .map_err(|e| Failure::new(e.to_string()))?;
            earlier.push(old.name.clone());
        }
        reports.push((report, Some(rendered)));
    }
    let scores = analyzer
        .score(dir, &files)
        .map_err(|e| Failure::new(e.to_string()))?;
    let before_scores = analyzer
        .score(&dir.join("before"), &earlier)
        .map_err(|e| Failure::new(e.to_string()))?;
    let mut scores: BTreeMap<String, Score> =
        scores.into_iter().map(|s| (s.unit.clone(), s)).collect();
    let before_scores: BTreeMap<String, Score> = before_scores
        .into_iter()
        .map(|s| (s.unit.clone(), s))
        .collect();
    let scratch = tempfile::tempdir()
        .map_err(|e| Failure::new(format!("cannot create a temporary directory: {e}")))?;
    let scratch = Utf8Path::from_path(scratch.path())
        .ok_or_else(|| Failure::new("the temporary directory's path is not UTF-8"))?
        .to_owned();
    let mut out = Vec::new();
    for (mut report, rendered) in reports {
        let (Some(rendered), Some(score)) = (rendered, scores.remove(&report.unit)) else {
            out.push(report);
            continue;
        };
        report.exposure = Some(score.exposure);
        report.band = Some(score.band);
        report.before = before_scores
            .get(&report.unit)
            .map(|s| (s.exposure, s.band));
        report.failing = score
            .failing()
            .iter()
            .take(5)
            .map(|s| (s.name.clone(), s.exposure.unwrap_or_default()))
            .collect();
        report.warnings = score.warnings.clone();
        if report.sandboxed {
            let excepted: BTreeSet<String> = report
                .exceptions
                .iter()
                .map(|e| e.directive.clone())
                .collect();
            for unkept in sandbox::unkept(&score, &excepted) {
                report.problems.push(format!(
                    "{}: sandboxed, but systemd finds `{}` not kept ({}, +{}) and no exception names `{}`. \
                     Fix: the sandboxing profile (crates/sandboxing/nixos.nix) must set `{}`, or name it in \
                     domi-nix.sandboxing.services.{}.exceptions with the reason",
                    report.unit,
                    unkept.setting,
                    unkept.description,
                    unkept.exposure,
                    unkept.directive,
                    unkept.directive,
                    report.unit.trim_end_matches(".service"),
                ));
            }
        }
        if let Some((ceiling, by)) = report.ceiling.clone()
            && score.exposure > ceiling
        {
            let suggestion = bring_under(analyzer, &scratch, &rendered, &score, ceiling)
                .map_err(|e| Failure::new(e.to_string()))?;
            let how = match &suggestion {
                Some(s) => format!(
                    "{} would bring it to {}",
                    s.fixes
                        .iter()
                        .map(|(_, line)| format!("`{line}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.exposure
                ),
                None => "no directive systemd checks brings it that low".to_owned(),
            };
            report.problems.push(format!(
                "{}: exposure {} ({}) is above its ceiling {} (set by {by}). Fix: {how} (in its serviceConfig, or by \
                 dropping the sandboxing exceptions that relax them), or raise the ceiling in the branch's \
                 [package.metadata.dominix] ceilings",
                report.unit, score.exposure, score.band, ceiling
            ));
            report.suggestion = suggestion;
        }
        out.push(report);
    }
    Ok(out)
}

/// The human report.
fn table(reports: &[UnitReport], features: &[String], system: &str, version: u32) -> String {
    let mut out = format!(
        "audit: {system}, features: {} (systemd-analyze {version})\n",
        if features.is_empty() {
            "(trunk only)".to_owned()
        } else {
            features.join(", ")
        }
    );
    if reports.is_empty() {
        out.push_str("  no systemd services defined\n");
    }
    for r in reports {
        let score =
            |e: &Option<(Exposure, Band)>| e.map_or("-".to_owned(), |(e, b)| format!("{e} {b}"));
        let now = score(&r.exposure.zip(r.band));
        let was = r
            .before
            .map(|b| format!("{} → ", score(&Some(b))))
            .unwrap_or_default();
        let ceiling = r
            .ceiling
            .as_ref()
            .map_or("no ceiling".to_owned(), |(c, by)| {
                format!("ceiling {c} ({by})")
            });
        let verdict = if !r.problems.is_empty() {
            "FAIL"
        } else if r.not_scored.is_some() {
            "not scored"
        } else {
            "ok"
        };
        let origin = if r.defined_by.is_empty() {
            "nixpkgs".to_owned()
        } else {
            r.defined_by.join(", ")
        };
        out.push_str(&format!(
            "  {:<40} {was}{now:<12} {ceiling:<28} {verdict}  [{origin}]\n",
            r.unit
        ));
        if let Some(why) = &r.not_scored {
            out.push_str(&format!("      {why}\n"));
        }
        if !r.failing.is_empty() {
            let heaviest: Vec<String> = r.failing.iter().map(|(n, e)| format!("{n} {e}")).collect();
            out.push_str(&format!(
                "      heaviest failing: {}\n",
                heaviest.join(", ")
            ));
        }
        for e in &r.exceptions {
            out.push_str(&format!(
                "      exception {} = {}: {}\n",
                e.directive, e.value, e.reason
            ));
        }
        for w in &r.warnings {
            out.push_str(&format!("      warning: {w}\n"));
        }
        for p in &r.problems {
            out.push_str(&format!("      error: {p}\n"));
        }
    }
    let scored = reports.iter().filter(|r| r.exposure.is_some()).count();
    let failed = reports.iter().filter(|r| !r.problems.is_empty()).count();
    out.push_str(&format!(
        "audit: {scored} unit(s) scored, {failed} failing\n"
    ));
    out
}
