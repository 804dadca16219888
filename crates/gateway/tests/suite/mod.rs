pub mod client;
pub mod config;
mod handshake;
mod methods;
mod pairing;
mod trace_shapes;
