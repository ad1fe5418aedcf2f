//! Integration tests of the fake over real HTTP(S) on loopback: one test binary, one `spawn`
//! helper (see `support`), a module per concern.

mod account;
mod accounts;
mod auth;
mod changes;
mod churn;
mod cli;
mod control;
mod dashboard;
mod devices;
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
mod shapes;
mod support;
mod tools;
mod writes;
