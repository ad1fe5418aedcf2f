//! `duo-broken-connector`: the kit's self-test connector (`sync [--breakage NAME]`), correct by
//! default and broken on purpose on demand (see `conformance::broken_connector`).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    conformance::broken_connector::main_with_args(&args)
}
