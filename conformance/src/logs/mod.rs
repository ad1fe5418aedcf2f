//! Log collectors (`conformance/CONTRACT-LOGS.md`): a case's `[logs]` table ([`spec`]), its runs
//! against one fake ([`run`]), the verdict on what reached the output ([`judge`]) and the checks
//! on how the collector asked ([`wire`]).

pub mod judge;
pub mod run;
pub mod spec;
pub mod wire;

/// The log types of the contract (`DUO_LOG_TYPES`), the fake's names.
pub const LOG_TYPES: [&str; 6] = [
    "authentication",
    "administrator",
    "telephony",
    "activity",
    "offline_enrollment",
    "trust_monitor",
];
