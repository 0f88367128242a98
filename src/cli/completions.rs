//! `z2jh-policy completions SHELL`: a shell completion script on stdout,
//! generated from the argument definitions.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, exit, report};
use crate::diag::{Diagnostic, ErrorFormat};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Install, e.g. bash: `z2jh-policy completions bash > /etc/bash_completion.d/z2jh-policy`; \
zsh: `z2jh-policy completions zsh > \"${fpath[1]}/_z2jh-policy\"`; \
fish: `z2jh-policy completions fish > ~/.config/fish/completions/z2jh-policy.fish`."
)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "z2jh-policy", &mut script);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|_| stdout.flush()) {
        Ok(()) => exit::OK,
        Err(e) => {
            report(
                &[Diagnostic::error(format!(
                    "cannot write the completion script: {e}"
                ))],
                fmt,
            );
            exit::ERROR
        }
    }
}
