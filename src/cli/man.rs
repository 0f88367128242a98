//! `z2jh-policy man`: manual pages in roff, generated from the argument
//! definitions — the main page on stdout, or one page per command
//! (`z2jh-policy.1`, `z2jh-policy-compile.1`, …) written into `-o DIR`.

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;

use super::{Cli, exit, report};
use crate::diag::{Diagnostic, ErrorFormat, Loc};
use crate::emit::atomic;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Install: `z2jh-policy man -o /usr/local/share/man/man1`, then `man z2jh-policy`."
)]
pub struct Args {
    /// Directory to write every page into, instead of the main page on stdout.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

/// Every page: file name and roff text, the main page first.
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    collect(cmd, &mut out)?;
    Ok(out)
}

fn collect(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut text = Vec::new();
    man.render(&mut text)?;
    out.push((man.get_filename(), text));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub.clone(), out)?;
    }
    Ok(())
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let pages = match pages() {
        Ok(p) => p,
        Err(e) => {
            report(
                &[Diagnostic::error(format!("cannot render the manual: {e}"))],
                fmt,
            );
            return exit::ERROR;
        }
    };
    let Some(dir) = &a.output else {
        let mut stdout = std::io::stdout().lock();
        let main = pages.first().map(|(_, t)| t.as_slice()).unwrap_or_default();
        return match stdout.write_all(main).and_then(|_| stdout.flush()) {
            Ok(()) => exit::OK,
            Err(_) => exit::ERROR,
        };
    };
    let writes: Vec<(PathBuf, String)> = pages
        .into_iter()
        .map(|(name, text)| (dir.join(name), String::from_utf8_lossy(&text).into_owned()))
        .collect();
    match atomic::apply(&writes, &[]) {
        Ok(written) => {
            if fmt == ErrorFormat::Human {
                eprintln!("wrote {} manual pages to {}", written.len(), dir.display());
            }
            exit::OK
        }
        Err(e) => {
            let path = e.path.display().to_string();
            report(
                &[
                    Diagnostic::error(format!("cannot write `{path}`: {}", e.message))
                        .at(Loc::file(&path)),
                ],
                fmt,
            );
            exit::ERROR
        }
    }
}
