//! `openclaw config get|set|unset|file|validate|schema`. Edits work on the file as written
//! (so `${VAR}` references survive), are validated as a whole before writing, and are
//! written atomically with a `.bak` of the previous file.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::ConfigCmd;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;
use openclaw_config::edit;

#[derive(Deserialize)]
struct BatchItem {
    path: String,
    value: Value,
}

pub fn run(ctx: &Ctx, cmd: &ConfigCmd) -> Result<(), CliError> {
    match cmd {
        ConfigCmd::File => {
            println!("{}", ctx.paths.config_path.display());
            Ok(())
        }
        ConfigCmd::Schema => print_json(&openclaw_config::config_schema()).map_err(Into::into),
        ConfigCmd::Validate { json } => {
            let loaded = ctx.load_config()?;
            if *json {
                print_json(
                    &json!({"ok": true, "path": loaded.path, "exists": loaded.exists(), "hash": loaded.hash}),
                )?;
            } else {
                println!("{}: valid", loaded.path.display());
            }
            Ok(())
        }
        ConfigCmd::Get { path, json } => {
            let loaded = ctx.load_config()?;
            let redacted = openclaw_config::redact::redact(&loaded.value);
            let v = edit::get(&redacted, path).map_err(CliError::Config)?;
            match (v, json) {
                (Value::String(s), false) => println!("{s}"),
                _ => print_json(v)?,
            }
            Ok(())
        }
        ConfigCmd::Set {
            path,
            value,
            strict_json,
            batch_json,
            dry_run,
        } => {
            let loaded = ctx.load_config()?;
            let mut doc = loaded.parsed.clone();
            if !doc.is_object() {
                doc = json!({});
            }
            if let Some(batch) = batch_json {
                let items: Vec<BatchItem> = serde_json::from_str(batch).map_err(|e| {
                    CliError::msg(format!(
                        "--batch-json must be a JSON array of {{path, value}}: {e}"
                    ))
                })?;
                for item in items {
                    let kp =
                        openclaw_config::KeyPath::parse(&item.path).map_err(CliError::Config)?;
                    edit::set_path(&mut doc, &kp, item.value).map_err(CliError::Config)?;
                }
            } else {
                let (Some(path), Some(raw)) = (path, value) else {
                    return Err(CliError::msg(
                        "usage: openclaw config set <path> <value>  (or --batch-json '[{\"path\":..,\"value\":..}]')",
                    ));
                };
                let new = if *strict_json {
                    serde_json::from_str(raw).map_err(|e| {
                        CliError::msg(format!("--strict-json: value is not JSON: {e}"))
                    })?
                } else {
                    edit::parse_cli_value(raw)
                };
                let kp = openclaw_config::KeyPath::parse(path).map_err(CliError::Config)?;
                edit::set_path(&mut doc, &kp, new).map_err(CliError::Config)?;
            }
            commit(ctx, &loaded, doc, *dry_run)
        }
        ConfigCmd::Unset { path, dry_run } => {
            let loaded = ctx.load_config()?;
            let mut doc = loaded.parsed.clone();
            edit::unset(&mut doc, path).map_err(CliError::Config)?;
            commit(ctx, &loaded, doc, *dry_run)
        }
    }
}

fn commit(
    ctx: &Ctx,
    before: &openclaw_config::LoadedConfig,
    mut doc: Value,
    dry_run: bool,
) -> Result<(), CliError> {
    openclaw_config::stamp_meta(&mut doc, env!("CARGO_PKG_VERSION"), chrono::Utc::now());
    let after = edit::check(&doc, &ctx.paths.config_path, &ctx.env).map_err(CliError::Config)?;
    let plan = openclaw_config::reload::reload_plan(&before.value, &after.value);
    if dry_run {
        print_json(&openclaw_config::redact::redact(&after.value))?;
        println!("(dry run: nothing written) {}", plan.hint());
        return Ok(());
    }
    openclaw_config::write_config(&ctx.paths.config_path, &doc).map_err(CliError::Config)?;
    println!(
        "Updated {}. {}",
        ctx.paths.config_path.display(),
        plan.hint()
    );
    Ok(())
}
