//! Integration tests of the fake over real HTTP(S) on loopback: one test binary, one `spawn`
//! helper (see `support`), a module per concern.

mod accounts;
mod auth;
mod churn;
mod cli;
mod control;
mod dashboard;
mod endpoints;
mod explain;
mod faults;
mod hostile;
mod journal;
mod limits;
mod logs;
mod paging;
mod probe;
mod properties;
mod proxy;
mod ratelimit;
mod routes;
mod scenarios;
mod support;
mod tools;
mod writes;
