//! Integration tests of `sekisho-hunt` over stores written by the store's own writer, in one
//! binary (each test binary links DataFusion; one link instead of four).

mod common;
mod duckdb;
mod ioc;
mod pruning;
mod sql;
