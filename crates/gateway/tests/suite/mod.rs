pub mod client;
mod handshake;
mod methods;
