//! `duo-connector`: check a Duo Admin API connection, sync it to a snapshot, compare and review.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
