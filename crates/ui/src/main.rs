//! `domi-nix-shell`: the banner a domi-nix machine shows at login.
//!
//! Reads the manifest the trunk writes (`/etc/domi-nix/features.json`) and
//! prints the host and the attached branches, as text or (`--json`) as JSON.
//! The feature-set work extends it with addresses and service health.

use std::process::ExitCode;

use ui::{Report, Request};

fn main() -> ExitCode {
    let request = match Request::from_args(std::env::args().skip(1)) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("domi-nix-shell: {message}");
            return ExitCode::from(2);
        }
    };
    if request.help {
        println!("{}", ui::USAGE);
        return ExitCode::SUCCESS;
    }
    match Report::gather(&request) {
        Ok(report) => {
            println!(
                "{}",
                if request.json {
                    report.to_json()
                } else {
                    report.to_text()
                }
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("domi-nix-shell: {message}");
            ExitCode::from(1)
        }
    }
}
