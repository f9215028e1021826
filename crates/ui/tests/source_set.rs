//! The ui package's source holds this crate and the workspace manifests
//! only, so editing another branch never changes the derivation (see
//! dominix_testing::source_set).

use dominix_testing::source_set as source;

const CRATE: &str = "crates/ui";

#[test]
fn the_source_is_this_crate_and_the_workspace_manifests() {
    source::assert_holds_its_crate_and_the_manifests(
        "ui-source-set",
        CRATE,
        &[
            "crates/ui/src/main.rs",
            "crates/ui/src/lib.rs",
            "crates/ui/src/system.rs",
            "crates/ui/tests/source_set.rs",
        ],
        &[
            "crates/hardening/nixos.nix",
            "crates/status-api/src/lib.rs",
            "xtask/src/main.rs",
        ],
    );
}

#[test]
fn other_members_get_stub_targets_and_cargo_loads_the_workspace() {
    source::assert_other_members_are_stubbed("ui-source-stubs", CRATE, "crates/ui/src/main.rs");
}

#[test]
fn editing_another_branch_leaves_the_ui_source_unchanged() {
    source::assert_only_its_own_edits_change_it(
        "ui-source-edit",
        CRATE,
        &[
            "crates/hardening/nixos.nix",
            "crates/status-api/src/lib.rs",
            "xtask/src/main.rs",
        ],
        "crates/ui/src/main.rs",
    );
}
