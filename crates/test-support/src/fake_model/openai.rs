//! OpenAI `chat.completion.chunk` encoding of a planned answer.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Ctx, Piece, Planned, USAGE_INPUT, USAGE_OUTPUT, argument_fragments, split_sse, sse};

fn chunk(ctx: &Ctx, delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": format!("chatcmpl-{}", ctx.index),
        "object": "chat.completion.chunk",
        "created": 0,
        "model": ctx.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })
}

pub(crate) fn encode(ctx: &Ctx, planned: Planned) -> Vec<Piece> {
    let mut out = vec![sse(
        None,
        &chunk(ctx, json!({"role": "assistant", "content": ""}), None),
    )];
    let finish = match planned {
        Planned::Stall => {
            out.clear();
            out.push(Piece::Hang);
            return out;
        }
        Planned::ErrorMidStream => {
            out.push(sse(None, &chunk(ctx, json!({"content": "partial "}), None)));
            out.push(Piece::Delay(Duration::from_millis(5)));
            out.push(sse(None, &json!({"error": {"message": "injected mid-stream failure", "type": "server_error"}})));
            return out;
        }
        Planned::Text { chunks, delay } => {
            for c in chunks {
                if !delay.is_zero() {
                    out.push(Piece::Delay(delay));
                }
                out.push(sse(None, &chunk(ctx, json!({"content": c}), None)));
            }
            "stop"
        }
        Planned::ToolCall { name, arguments } => {
            let id = format!("call_{}", ctx.index);
            out.push(sse(None, &chunk(ctx, json!({"tool_calls": [{
                "index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""},
            }]}), None)));
            let (a, b) = argument_fragments(&arguments);
            for frag in [a, b] {
                let delta = json!({"tool_calls": [{"index": 0, "function": {"arguments": frag}}]});
                split_sse(None, &chunk(ctx, delta, None), &mut out);
            }
            "tool_calls"
        }
    };
    out.push(sse(None, &chunk(ctx, json!({}), Some(finish))));
    if ctx.include_usage {
        out.push(sse(None, &json!({
            "id": format!("chatcmpl-{}", ctx.index),
            "object": "chat.completion.chunk",
            "created": 0,
            "model": ctx.model,
            "choices": [],
            "usage": {"prompt_tokens": USAGE_INPUT, "completion_tokens": USAGE_OUTPUT, "total_tokens": USAGE_INPUT + USAGE_OUTPUT},
        })));
    }
    out.push(Piece::Bytes(b"data: [DONE]\n\n".to_vec()));
    out
}
