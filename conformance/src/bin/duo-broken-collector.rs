//! `duo-broken-collector`: the kit's self-test log collector (`logs [--breakage NAME]`), correct
//! by default and broken on purpose on demand (see `conformance::broken_collector`).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    conformance::broken_collector::main_with_args(&args)
}
