mod agent_turns;
pub mod client;
pub mod config;
mod handshake;
mod methods;
mod openai_http;
mod pairing;
mod sandbox;
mod trace_shapes;
