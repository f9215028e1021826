//! For the settings `systemd-analyze security` checks, the directive that
//! passes each one, and the fewest of them that bring a unit under a
//! ceiling — found by scoring the unit again with them, not by arithmetic
//! on systemd's weights.

use camino::Utf8Path;
use dominix::Exposure;
use serde::Serialize;

use crate::{Analyzer, AuditError, Score, UnitFile};

/// Capability groups systemd names by pattern, spelled out.
const CAPABILITY_GROUPS: [(&str, &str); 7] = [
    (
        "CAP_(DAC_*|FOWNER|IPC_OWNER)",
        "CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_IPC_OWNER",
    ),
    ("CAP_SYS_(NICE|RESOURCE)", "CAP_SYS_NICE CAP_SYS_RESOURCE"),
    (
        "CAP_NET_(BIND_SERVICE|BROADCAST|RAW)",
        "CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW",
    ),
    (
        "CAP_AUDIT_*",
        "CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE",
    ),
    (
        "CAP_(CHOWN|FSETID|SETFCAP)",
        "CAP_CHOWN CAP_FSETID CAP_SETFCAP",
    ),
    ("CAP_SET(UID|GID|PCAP)", "CAP_SETUID CAP_SETGID CAP_SETPCAP"),
    ("CAP_MAC_*", "CAP_MAC_ADMIN CAP_MAC_OVERRIDE"),
];

/// Settings passed by `<Directive>=true`.
const SWITCHES: [&str; 19] = [
    "NoNewPrivileges",
    "PrivateDevices",
    "PrivateMounts",
    "PrivateNetwork",
    "PrivateTmp",
    "PrivateUsers",
    "ProtectClock",
    "ProtectControlGroups",
    "ProtectHome",
    "ProtectHostname",
    "ProtectKernelLogs",
    "ProtectKernelModules",
    "ProtectKernelTunables",
    "MemoryDenyWriteExecute",
    "LockPersonality",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "RemoveIPC",
    "DynamicUser",
];

/// The `[Service]` line that passes systemd's setting `name` (as
/// `--json=short` names it), where one line can.
pub fn fix_for(name: &str) -> Option<String> {
    if let Some(caps) = name.strip_prefix("CapabilityBoundingSet=~") {
        let caps = CAPABILITY_GROUPS
            .iter()
            .find(|(pattern, _)| *pattern == caps)
            .map_or(caps, |(_, caps)| caps);
        return Some(format!("CapabilityBoundingSet=~{caps}"));
    }
    if let Some(kind) = name.strip_prefix("RestrictNamespaces=~") {
        return Some(format!("RestrictNamespaces=~{kind}"));
    }
    if let Some(group) = name.strip_prefix("SystemCallFilter=~") {
        return Some(format!("SystemCallFilter=~{group}"));
    }
    if let Some(family) = name.strip_prefix("RestrictAddressFamilies=~") {
        return Some(match family {
            "AF_(INET|INET6)" => "RestrictAddressFamilies=~AF_INET AF_INET6".to_owned(),
            "…" => "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6".to_owned(),
            family => format!("RestrictAddressFamilies=~{family}"),
        });
    }
    let fixed = match name {
        "User=/DynamicUser=" => "DynamicUser=true",
        "AmbientCapabilities=" => "AmbientCapabilities=",
        "SupplementaryGroups=" => "SupplementaryGroups=",
        "SystemCallArchitectures=" => "SystemCallArchitectures=native",
        "DeviceAllow=" => "DevicePolicy=closed",
        "ProtectSystem=" => "ProtectSystem=strict",
        "ProtectProc=" => "ProtectProc=invisible",
        "ProcSubset=" => "ProcSubset=pid",
        "KeyringMode=" => "KeyringMode=private",
        "Delegate=" => "Delegate=false",
        "IPAddressDeny=" => "IPAddressDeny=any",
        "NotifyAccess=" => "NotifyAccess=main",
        "UMask=" => "UMask=0077",
        other => {
            let directive = other.strip_suffix('=')?;
            return SWITCHES
                .contains(&directive)
                .then(|| format!("{directive}=true"));
        }
    };
    Some(fixed.to_owned())
}

/// The settings whose directives bring a unit under its ceiling, and the
/// exposure systemd gives it with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// `(systemd's setting, the [Service] line that passes it)`, heaviest first.
    pub fixes: Vec<(String, String)>,
    pub exposure: Exposure,
}

/// The fewest of `score`'s failing settings (heaviest first) whose
/// directives bring `unit` to at most `ceiling`, checked by scoring the unit
/// with each prefix of them in `scratch`; `None` when even all of them do not.
pub fn bring_under(
    analyzer: &Analyzer,
    scratch: &Utf8Path,
    unit: &UnitFile,
    score: &Score,
    ceiling: Exposure,
) -> Result<Option<Suggestion>, AuditError> {
    let candidates: Vec<(String, String)> = score
        .failing()
        .into_iter()
        .filter_map(|s| Some((s.name.clone(), fix_for(&s.name)?)))
        .collect();
    let stem = unit.name.strip_suffix(".service").unwrap_or(&unit.name);
    let mut files = Vec::new();
    for k in 1..=candidates.len() {
        let lines: Vec<&str> = candidates[..k].iter().map(|(_, l)| l.as_str()).collect();
        let variant = UnitFile {
            name: format!("{stem}-fix-{k}.service"),
            text: with_service_lines(&unit.text, &lines),
        };
        variant.write_to(scratch)?;
        files.push(variant.name);
    }
    let scores = analyzer.score(scratch, &files)?;
    Ok(scores
        .iter()
        .position(|s| s.exposure <= ceiling)
        .map(|k| Suggestion {
            fixes: candidates[..=k].to_vec(),
            exposure: scores[k].exposure,
        }))
}

/// `text` with `lines` added at the end of its `[Service]` section.
fn with_service_lines(text: &str, lines: &[&str]) -> String {
    let added: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let service = text.find("[Service]\n").unwrap_or(0);
    match text[service..].find("\n[").map(|i| service + i + 1) {
        Some(next) => format!("{}{added}{}", &text[..next], &text[next..]),
        None if text.ends_with('\n') || text.is_empty() => format!("{text}{added}"),
        None => format!("{text}\n{added}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_of_the_sandboxing_profile_has_a_fix() {
        for (name, line) in [
            ("PrivateNetwork=", "PrivateNetwork=true"),
            ("User=/DynamicUser=", "DynamicUser=true"),
            ("ProtectSystem=", "ProtectSystem=strict"),
            (
                "CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)",
                "CapabilityBoundingSet=~CAP_SETUID CAP_SETGID CAP_SETPCAP",
            ),
            (
                "CapabilityBoundingSet=~CAP_SYS_ADMIN",
                "CapabilityBoundingSet=~CAP_SYS_ADMIN",
            ),
            ("RestrictNamespaces=~user", "RestrictNamespaces=~user"),
            ("SystemCallFilter=~@mount", "SystemCallFilter=~@mount"),
            (
                "RestrictAddressFamilies=~AF_(INET|INET6)",
                "RestrictAddressFamilies=~AF_INET AF_INET6",
            ),
            ("DeviceAllow=", "DevicePolicy=closed"),
            ("UMask=", "UMask=0077"),
        ] {
            assert_eq!(fix_for(name).as_deref(), Some(line), "{name}");
        }
        assert_eq!(fix_for("RootDirectory=/RootImage="), None);
        assert_eq!(fix_for("Nonsense="), None);
    }

    #[test]
    fn lines_go_at_the_end_of_the_service_section() {
        let unit =
            "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=a\n";
        assert_eq!(
            with_service_lines(unit, &["A=1", "B=2"]),
            "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\nA=1\nB=2\n[Install]\nWantedBy=a\n"
        );
        assert_eq!(
            with_service_lines("[Service]\nExecStart=/bin/true", &["A=1"]),
            "[Service]\nExecStart=/bin/true\nA=1\n"
        );
    }
}
