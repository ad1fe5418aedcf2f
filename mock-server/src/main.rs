//! `duo-mock`: the fake Duo Admin API server's command line (serve, dump, validate, the tools that make scenarios).

mod cli;
mod cli_tools;

fn main() -> std::process::ExitCode {
    cli::main()
}
