pub mod config;
pub mod devices;
pub mod doctor;
pub mod force;
pub mod gateway;
pub mod misc;
pub mod onboard;
pub mod rpc;
