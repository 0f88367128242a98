use std::process::ExitCode;

use clap::Parser;
use z2jh_policy::cli::{Cli, run};

fn main() -> ExitCode {
    run(Cli::parse())
}
