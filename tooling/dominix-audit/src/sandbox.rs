//! What the `sandboxing` branch promises, in systemd's own terms: for each
//! setting `systemd-analyze security` checks that the profile covers, the
//! profile directive that passes it and the exposure it may still add.
//!
//! The table is written from systemd's side, not read from the branch, so a
//! profile that loses a directive is caught by systemd's verdict on the
//! units it sandboxes, whatever the branch's own tables say.

use std::collections::BTreeSet;

use dominix::Exposure;
use serde::Serialize;

use crate::Score;

/// `(systemd's setting, or a prefix of a group of them; the profile
/// directive that passes it; the exposure it may still add, in tenths)`.
pub const PROMISES: [(&str, &str, u8); 32] = [
    ("User=/DynamicUser=", "DynamicUser", 0),
    ("ProtectSystem=", "ProtectSystem", 0),
    ("ProtectHome=", "ProtectHome", 0),
    ("PrivateTmp=", "PrivateTmp", 0),
    ("PrivateDevices=", "PrivateDevices", 0),
    ("PrivateUsers=", "PrivateUsers", 0),
    ("PrivateMounts=", "PrivateMounts", 0),
    ("NoNewPrivileges=", "NoNewPrivileges", 0),
    ("CapabilityBoundingSet=~", "CapabilityBoundingSet", 0),
    ("AmbientCapabilities=", "AmbientCapabilities", 0),
    // The profile keeps local and Internet sockets (a service needs one to
    // be reached); everything else is refused.
    (
        "RestrictAddressFamilies=~AF_PACKET",
        "RestrictAddressFamilies",
        0,
    ),
    (
        "RestrictAddressFamilies=~AF_NETLINK",
        "RestrictAddressFamilies",
        0,
    ),
    ("RestrictAddressFamilies=~…", "RestrictAddressFamilies", 0),
    ("RestrictNamespaces=~", "RestrictNamespaces", 0),
    ("SystemCallArchitectures=", "SystemCallArchitectures", 0),
    ("SystemCallFilter=~", "SystemCallFilter", 0),
    ("MemoryDenyWriteExecute=", "MemoryDenyWriteExecute", 0),
    ("LockPersonality=", "LockPersonality", 0),
    ("ProtectKernelTunables=", "ProtectKernelTunables", 0),
    ("ProtectKernelModules=", "ProtectKernelModules", 0),
    ("ProtectKernelLogs=", "ProtectKernelLogs", 0),
    ("ProtectControlGroups=", "ProtectControlGroups", 0),
    ("ProtectClock=", "ProtectClock", 0),
    ("ProtectHostname=", "ProtectHostname", 0),
    ("ProtectProc=", "ProtectProc", 0),
    ("ProcSubset=", "ProcSubset", 0),
    ("RestrictRealtime=", "RestrictRealtime", 0),
    ("RestrictSUIDSGID=", "RestrictSUIDSGID", 0),
    ("RemoveIPC=", "RemoveIPC", 0),
    ("UMask=", "UMask", 0),
    // Loopback only: systemd still counts an allow list of localhost (0.1).
    ("IPAddressDeny=", "IPAddressDeny", 1),
    // `DevicePolicy=closed` with `ProtectClock=` leaves the clock readable (0.1).
    ("DeviceAllow=", "DevicePolicy", 1),
];

/// A promise a sandboxed unit does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unkept {
    /// systemd's setting, e.g. `ProtectHome=`.
    pub setting: String,
    pub description: String,
    pub exposure: Exposure,
    /// The profile directive that should have passed it.
    pub directive: &'static str,
}

/// The directive of the profile that covers systemd's setting `name`.
pub fn directive_of(name: &str) -> Option<&'static str> {
    PROMISES
        .iter()
        .find(|(setting, _, _)| {
            if setting.ends_with('~') {
                name.starts_with(setting)
            } else {
                name == *setting
            }
        })
        .map(|(_, directive, _)| *directive)
}

/// The settings of a sandboxed unit's `score` that the profile promises and
/// systemd says it does not keep, leaving out those whose directive has a
/// named exception (`excepted`).
pub fn unkept(score: &Score, excepted: &BTreeSet<String>) -> Vec<Unkept> {
    score
        .settings
        .iter()
        .filter(|s| s.passed == Some(false))
        .filter_map(|s| {
            let (_, directive, allowed) = PROMISES
                .iter()
                .find(|(_, d, _)| Some(*d) == directive_of(&s.name))?;
            let exposure = s.exposure.unwrap_or_default();
            let kept = exposure.tenths() <= *allowed || excepted.contains(*directive);
            (!kept).then(|| Unkept {
                setting: s.name.clone(),
                description: s.description.clone(),
                exposure,
                directive,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_settings_map_to_one_directive() {
        assert_eq!(
            directive_of("CapabilityBoundingSet=~CAP_SYS_ADMIN"),
            Some("CapabilityBoundingSet")
        );
        assert_eq!(
            directive_of("SystemCallFilter=~@mount"),
            Some("SystemCallFilter")
        );
        assert_eq!(
            directive_of("RestrictNamespaces=~user"),
            Some("RestrictNamespaces")
        );
        assert_eq!(directive_of("ProtectHome="), Some("ProtectHome"));
        // Not promised: the profile allows them on purpose.
        assert_eq!(directive_of("RestrictAddressFamilies=~AF_UNIX"), None);
        assert_eq!(
            directive_of("RestrictAddressFamilies=~AF_(INET|INET6)"),
            None
        );
        assert_eq!(directive_of("PrivateNetwork="), None);
        assert_eq!(directive_of("RootDirectory=/RootImage="), None);
    }
}
