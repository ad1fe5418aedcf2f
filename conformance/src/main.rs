//! `duo-conformance`: runs a Duo connector against the fake, case by case (`run`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
