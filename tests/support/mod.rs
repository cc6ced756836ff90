//! Test support for the cimd integration tests: a throwaway PKI and a scriptable loopback origin.
//!
//! Included from several test crates with `mod support;`, each using a different subset, hence
//! `dead_code` is allowed. Network safety: everything binds and connects to 127.0.0.1 / [::1] only.
#![allow(dead_code, unused_imports)]

pub mod pki;
pub mod server;

pub use pki::{Leaf, TestPki};
pub use server::{closed_port, wait_until, Framing, Reply, Request, Server, SilentListener};
