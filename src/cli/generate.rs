//! `immutabot completions` and `immutabot man`: generated from the clap definition, so they
//! can never disagree with `--help`.

use super::Cli;
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `immutabot completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `immutabot man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (immutabot.1, immutabot-check.1, …) into DIR instead of
    /// printing immutabot.1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Writes the completion script to standard output; exit code 0, or 2 on an I/O error.
pub fn completions(args: &CompletionsArgs) -> u8 {
    // Generated into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "immutabot", &mut script);
    written("completions", std::io::stdout().write_all(&script))
}

/// Writes the man page(s); exit code 0, or 2 on an I/O error.
pub fn man(args: &ManArgs) -> u8 {
    let cmd = Cli::command();
    let result = match &args.out_dir {
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)),
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .and_then(|()| std::io::stdout().write_all(&page))
        }
    };
    written("man", result)
}

fn written(what: &str, result: std::io::Result<()>) -> u8 {
    match result {
        Ok(()) => 0,
        // A reader that stopped early (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("immutabot: {what}: {e}");
            2
        }
    }
}
