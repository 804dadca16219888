mod behaviour;
mod browser;
mod security;
mod support;
mod warm_shells;
