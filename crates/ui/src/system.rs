//! What the banner asks the machine: its name, its addresses, and systemd's
//! view of the domi-nix units (`systemctl show`, bounded in time).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Address, Service};

/// How long systemd may take to answer before the banner goes on without it.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(3);

/// The kernel's host name, or `unknown`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Every address of every interface but loopback, interfaces sorted by name.
pub fn addresses() -> Vec<Address> {
    let mut found: Vec<Address> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .map(|i| Address {
            address: i.ip(),
            interface: i.name,
        })
        .collect();
    found.sort_by(|a, b| {
        (&a.interface, a.address.is_ipv6()).cmp(&(&b.interface, b.address.is_ipv6()))
    });
    found
}

/// The state of each `(unit, feature)`; `unknown` for all when systemd
/// cannot be asked (no systemd, a container, a timeout).
pub fn services(units: &[(String, String)]) -> Vec<Service> {
    if units.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = units.iter().map(|(u, _)| u.as_str()).collect();
    let answer = systemctl_show(&names).unwrap_or_default();
    let states = parse_show(&answer);
    units
        .iter()
        .map(|(unit, feature)| {
            let state = states.iter().find(|s| s.0 == *unit);
            let field =
                |i: usize| state.map_or("unknown".to_owned(), |s| [&s.1, &s.2, &s.3][i].clone());
            Service {
                unit: unit.clone(),
                feature: feature.clone(),
                load: field(0),
                active: field(1),
                sub: field(2),
            }
        })
        .collect()
}

/// `systemctl show` of the units, or `None` when it cannot answer in time.
fn systemctl_show(units: &[&str]) -> Option<String> {
    let mut child = Command::new("systemctl")
        .args([
            "show",
            "--no-pager",
            "--property=Id,LoadState,ActiveState,SubState",
            "--",
        ])
        .args(units)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + SYSTEMCTL_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    Some(out)
}

/// `(Id, LoadState, ActiveState, SubState)` of each block of `systemctl show`.
fn parse_show(text: &str) -> Vec<(String, String, String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let get = |key: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                    .map(str::to_owned)
            };
            Some((
                get("Id")?,
                get("LoadState")?,
                get("ActiveState")?,
                get("SubState")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemctl_show_blocks_are_read_per_unit() {
        let text = "Id=sshd.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\n\
                    LoadState=not-found\nActiveState=inactive\nSubState=dead\nId=gone.service\n";
        assert_eq!(
            parse_show(text),
            vec![
                (
                    "sshd.service".into(),
                    "loaded".into(),
                    "active".into(),
                    "running".into()
                ),
                (
                    "gone.service".into(),
                    "not-found".into(),
                    "inactive".into(),
                    "dead".into()
                ),
            ]
        );
        assert!(parse_show("garbage").is_empty());
    }

    #[test]
    fn no_units_ask_nothing() {
        assert!(services(&[]).is_empty());
    }
}
