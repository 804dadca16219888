mod behaviour;
mod security;
mod support;
