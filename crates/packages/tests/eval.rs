//! Module evaluation of the packages branch against the NixOS contract: the
//! overlay puts every program a branch names into `pkgs.domi-nix`.

use dominix_testing::eval_feature;
use serde_json::{Value, json};

#[test]
fn the_overlay_holds_every_program_of_the_workspace() {
    let Some(config) = eval_feature("packages", json!({})) else {
        return;
    };
    assert_eq!(
        config["domi-nix"]["packages"]["programs"],
        json!(["domi-nix-shell", "domi-nix-status"])
    );
    assert_eq!(
        config["nixpkgs.overlays"],
        json!(["<function>"]),
        "one overlay, added to the host's"
    );
    assert_eq!(
        config["domi-nix"]["features"]["packages"]["category"],
        "packages"
    );
}

#[test]
fn detached_there_is_no_overlay() {
    let Some(config) = eval_feature(
        "packages",
        json!({ "domi-nix": { "packages": { "enable": false } } }),
    ) else {
        return;
    };
    assert_eq!(config["nixpkgs.overlays"], json!([]));
    assert_eq!(config["domi-nix"]["packages"]["programs"], json!([]));
    assert_eq!(config["domi-nix"]["features"]["packages"], Value::Null);
}
