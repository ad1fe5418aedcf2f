//! Log collectors (`conformance/CONTRACT-LOGS.md`): a case's `[logs]` table ([`spec`]), its runs
//! against one fake ([`run`]), the verdict on what reached the output ([`judge`]) and the checks
//! on how the collector asked ([`wire`]).

pub mod judge;
pub mod run;
pub mod spec;
pub mod wire;

/// The log types of the contract (`DUO_LOG_TYPES`): the fake's names of its logs.
pub fn log_types() -> [&'static str; 6] {
    mock_server::logs::LogKind::ALL.map(mock_server::logs::LogKind::name)
}
