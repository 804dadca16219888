//! Anthropic Messages stream encoding of a planned answer.

use std::time::Duration;

use serde_json::json;

use super::{Ctx, Piece, Planned, USAGE_INPUT, USAGE_OUTPUT, argument_fragments, split_sse, sse};

pub(crate) fn encode(ctx: &Ctx, planned: Planned) -> Vec<Piece> {
    if planned == Planned::Stall {
        return vec![Piece::Hang];
    }
    let mut out = vec![sse(
        Some("message_start"),
        &json!({
            "type": "message_start",
            "message": {
                "id": format!("msg_{}", ctx.index), "type": "message", "role": "assistant",
                "model": ctx.model, "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": USAGE_INPUT, "output_tokens": 1},
            },
        }),
    )];
    let stop = match planned {
        Planned::Stall => return vec![Piece::Hang],
        Planned::ErrorMidStream => {
            text_start(&mut out);
            out.push(text_delta("partial "));
            out.push(Piece::Delay(Duration::from_millis(5)));
            out.push(sse(Some("error"), &json!({
                "type": "error", "error": {"type": "overloaded_error", "message": "Overloaded (injected)"},
            })));
            return out;
        }
        Planned::Text { chunks, delay } => {
            text_start(&mut out);
            out.push(sse(Some("ping"), &json!({"type": "ping"})));
            for c in chunks {
                if !delay.is_zero() {
                    out.push(Piece::Delay(delay));
                }
                out.push(text_delta(&c));
            }
            out.push(sse(
                Some("content_block_stop"),
                &json!({"type": "content_block_stop", "index": 0}),
            ));
            "end_turn"
        }
        Planned::ToolCall { name, arguments } => {
            out.push(sse(Some("content_block_start"), &json!({
                "type": "content_block_start", "index": 0,
                "content_block": {"type": "tool_use", "id": format!("toolu_{}", ctx.index), "name": name, "input": {}},
            })));
            let (a, b) = argument_fragments(&arguments);
            for frag in [a, b] {
                split_sse(
                    Some("content_block_delta"),
                    &json!({
                        "type": "content_block_delta", "index": 0,
                        "delta": {"type": "input_json_delta", "partial_json": frag},
                    }),
                    &mut out,
                );
            }
            out.push(sse(
                Some("content_block_stop"),
                &json!({"type": "content_block_stop", "index": 0}),
            ));
            "tool_use"
        }
    };
    out.push(sse(
        Some("message_delta"),
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {"output_tokens": USAGE_OUTPUT},
        }),
    ));
    out.push(sse(Some("message_stop"), &json!({"type": "message_stop"})));
    out
}

fn text_start(out: &mut Vec<Piece>) {
    out.push(sse(Some("content_block_start"), &json!({
        "type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""},
    })));
}

fn text_delta(t: &str) -> Piece {
    sse(
        Some("content_block_delta"),
        &json!({
            "type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t},
        }),
    )
}
