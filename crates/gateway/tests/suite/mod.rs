pub mod client;
pub mod config;
mod handshake;
mod methods;
mod trace_shapes;
