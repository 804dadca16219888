mod agent_cli;
mod commands;
mod config_errors;
mod crash;
pub mod harness;
mod local_model;
mod sandbox;
mod ui_browser;
pub mod webdriver;
