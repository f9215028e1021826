//! `domi-nix-shell`: the banner a domi-nix machine shows at login, and its
//! `features` and `status` subcommands (see `domi-nix-shell --help`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ui::Cli::parse();
    match ui::run(&cli) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("domi-nix-shell: {message}");
            ExitCode::from(1)
        }
    }
}
