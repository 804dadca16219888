//! The worker loop behind `openclaw local-model-worker --model PATH`.
//!
//! Loads the model, prints one `ready` line, then answers `generate` requests from stdin with
//! event lines on stdout (see [`crate::wire`]) until stdin closes. A failed request is answered
//! with an `error` line and the loop goes on; only a failure to load the model ends the worker
//! (after printing an `error` line, so the gateway can show the reason). Everything here is
//! blocking: the worker is its own process with nothing else to do.

use std::io::{BufRead, Write};
use std::path::Path;

use crate::LocalModelError;
use crate::runner::{Generation, Runner, RunnerOptions};
use crate::wire::{WorkerEvent, WorkerRequest};

/// Serve requests from `input`, writing events to `output`. Returns when `input` ends.
pub fn serve(
    model: &Path,
    options: RunnerOptions,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<(), LocalModelError> {
    let runner = match Runner::load(model, options) {
        Ok(r) => r,
        Err(e) => {
            send(
                &mut output,
                &WorkerEvent::Error {
                    message: e.to_string(),
                },
            )?;
            return Err(e);
        }
    };
    send(&mut output, &runner.ready_event())?;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let WorkerRequest::Generate {
            messages,
            tools,
            force_tool,
            max_tokens,
            temperature,
        } = match WorkerRequest::parse(&line) {
            Ok(r) => r,
            Err(e) => {
                send(
                    &mut output,
                    &WorkerEvent::Error {
                        message: e.to_string(),
                    },
                )?;
                continue;
            }
        };
        let req = Generation {
            messages,
            tools,
            force_tool,
            max_tokens,
            temperature,
        };
        let mut io_err = None;
        let result = runner.generate(&req, &mut |ev| {
            if io_err.is_none()
                && let Err(e) = send(&mut output, &ev)
            {
                io_err = Some(e);
            }
        });
        if let Some(e) = io_err {
            return Err(e);
        }
        if let Err(e) = result {
            send(
                &mut output,
                &WorkerEvent::Error {
                    message: e.to_string(),
                },
            )?;
        }
    }
    Ok(())
}

/// Run the worker on this process's stdin/stdout.
pub fn run(model: &Path) -> Result<(), LocalModelError> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    serve(model, RunnerOptions::default(), stdin.lock(), stdout.lock())
}

fn send(out: &mut impl Write, ev: &WorkerEvent) -> Result<(), LocalModelError> {
    out.write_all(ev.to_line().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
