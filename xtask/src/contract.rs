//! `cargo xtask contract verify`: the contract against real nixpkgs.

use camino::{Utf8Path, Utf8PathBuf};
use dominix_eval::Evaluator;
use xshell::Shell;

use crate::nix::NixCommand;
use crate::{Failure, Project, Result};

/// The nixpkgs source pinned in flake.lock, fetched (needs network or a seeded store).
fn pinned_nixpkgs(sh: &Shell, project: &Project) -> Result<Utf8PathBuf> {
    let flake = project.flake_ref();
    let json = NixCommand::nix("flake")
        .args(["archive", "--json", &flake])
        .current_dir(sh.current_dir())
        .stderr_to_terminal()
        .output()
        .map(|out| out.stdout)
        .map_err(|e| {
            Failure::new(format!(
                "cannot fetch the pinned nixpkgs ({e}). Fix: run where GitHub is reachable, or pass `--nixpkgs <a nixpkgs checkout at the locked revision>`"
            ))
        })?;
    let archive: serde_json::Value = serde_json::from_str(&json)?;
    archive["inputs"]["nixpkgs"]["path"]
        .as_str()
        .map(Utf8PathBuf::from)
        .ok_or_else(|| Failure::new("`nix flake archive --json` did not report a nixpkgs path"))
}

impl crate::flags::Contract {
    pub fn run(self, sh: &Shell, project: &Project) -> Result<()> {
        let crate::flags::ContractCmd::Verify { nixpkgs } = self.cmd;
        let evaluator = Evaluator::new(project.root.clone());
        evaluator
            .preflight()
            .map_err(|reason| Failure::new(reason.skip_line()))?;
        let nixpkgs = nixpkgs.map_or_else(|| pinned_nixpkgs(sh, project), Ok)?;
        if !nixpkgs.join("nixos/lib/eval-config.nix").exists() {
            return Err(Failure::usage(format!(
                "{nixpkgs} is not a nixpkgs source tree (no nixos/lib/eval-config.nix). Fix: pass the root of a nixpkgs checkout"
            )));
        }
        let verify = project.root.join("nix-modules/contract/verify.nix");
        eprintln!(
            "evaluating the real NixOS option declarations and definitions (system, vm, test) of {nixpkgs} …"
        );
        // Restricted like every evaluation; nixpkgs and the store it refers to
        // (a nixpkgs tree may link into it) are readable too.
        let store_dir = std::env::var("NIX_STORE_DIR").unwrap_or_else(|_| "/nix/store".to_owned());
        let mut real = evaluator.eval_json_file(
            &verify,
            &[("nixpkgs", nixpkgs.as_str())],
            &[nixpkgs.as_path(), Utf8Path::new(&store_dir)],
        )?;
        // verify.nix also describes the contract with nixpkgs' own lib, so type
        // descriptions on both sides come from one lib version; the pinned
        // nixpkgs-lib is only the fallback.
        let contract = real.as_object_mut().and_then(|o| o.remove("contract"));
        let contract = contract.map_or_else(|| evaluator.describe_contract(), Ok)?;
        let report = dominix_contract::compare(&contract, &real)?;
        println!("{report}");
        crate::ensure(report.is_ok(), || {
            "the NixOS contract differs from nixpkgs; see the findings above".to_owned()
        })
    }
}
