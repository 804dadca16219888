mod commands;
mod config_errors;
pub mod harness;
