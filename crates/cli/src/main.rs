//! `openclaw`: the gateway and its command-line client in one binary.
//!
//! `main` parses flags, runs one command and maps the outcome to an exit code in one place
//! (`exit.rs`): 78 for an invalid config, 1 for other failures, 2 for usage errors (clap).

mod cli;
mod client;
mod commands;
mod context;
mod exit;
mod logging;

use clap::Parser;

use cli::{Cli, Command, GatewayAction};
use exit::CliError;

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(try_main(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

async fn try_main(cli: Cli) -> Result<(), CliError> {
    let ctx = || context::Ctx::from_process(cli.profile.as_deref());
    match &cli.command {
        Command::Gateway(g) => match &g.action {
            None => {
                logging::init(g.run.verbose, true);
                commands::gateway::run(&ctx()?, &g.run).await
            }
            Some(GatewayAction::Run(run)) => {
                logging::init(run.verbose, true);
                commands::gateway::run(&ctx()?, run).await
            }
            Some(GatewayAction::Status(c)) => commands::rpc::gateway_status(&ctx()?, c).await,
            Some(GatewayAction::Health(c)) => commands::rpc::health(&ctx()?, c).await,
            Some(GatewayAction::Call(c)) => commands::rpc::call(&ctx()?, c).await,
        },
        Command::Onboard(a) => commands::onboard::onboard(&ctx()?, a),
        Command::Health(h) => commands::rpc::health(&ctx()?, &h.client).await,
        Command::Status(s) => commands::rpc::status(&ctx()?, &s.client).await,
        Command::Config(c) => commands::config::run(&ctx()?, c),
        Command::Doctor(d) => commands::doctor::run(&ctx()?, d).await,
        Command::Dashboard(d) => commands::misc::dashboard(&ctx()?, d),
        Command::Completion(c) => commands::misc::completion(c),
        Command::Healthcheck(h) => commands::misc::healthcheck(h),
        Command::Devices(d) => commands::devices::run(&ctx()?, d).await,
        Command::Pairing(p) => commands::pairing::run(&ctx()?, p).await,
        Command::Sandbox(s) => commands::sandbox::run(&ctx()?, s).await,
        Command::Agent(a) => commands::agent::agent(&ctx()?, a).await,
        Command::Sessions(s) => commands::agent::sessions(&ctx()?, s).await,
        Command::Message(m) => commands::agent::message(&ctx()?, m).await,
        Command::Channels(c) => commands::channels::run(&ctx()?, c).await,
        Command::Models(m) => commands::models::run(&ctx()?, m).await,
        Command::LocalModelWorker(w) => commands::models::worker(w).await,
    }
}
