//! The status-api package's source holds this crate and the workspace manifests
//! only, so editing another branch never changes the derivation (see
//! dominix_testing::source_set).

use dominix_testing::source_set as source;

const CRATE: &str = "crates/status-api";

#[test]
fn the_source_is_this_crate_and_the_workspace_manifests() {
    source::assert_holds_its_crate_and_the_manifests(
        "status-api-source-set",
        CRATE,
        &[
            "crates/status-api/src/main.rs",
            "crates/status-api/src/lib.rs",
            "crates/status-api/tests/source_set.rs",
        ],
        &[
            "crates/hardening/nixos.nix",
            "crates/ui/src/lib.rs",
            "xtask/src/main.rs",
        ],
    );
}

#[test]
fn other_members_get_stub_targets_and_cargo_loads_the_workspace() {
    source::assert_other_members_are_stubbed(
        "status-api-source-stubs",
        CRATE,
        "crates/status-api/src/main.rs",
    );
}

#[test]
fn editing_another_branch_leaves_the_status_api_source_unchanged() {
    source::assert_only_its_own_edits_change_it(
        "status-api-source-edit",
        CRATE,
        &[
            "crates/hardening/nixos.nix",
            "crates/ui/src/lib.rs",
            "xtask/src/main.rs",
        ],
        "crates/status-api/src/main.rs",
    );
}
