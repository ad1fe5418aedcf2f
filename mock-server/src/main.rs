//! `duo-mock`: the fake Duo Admin API server's command line (serve, dump, validate).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
