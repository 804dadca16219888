use super::*;
use crate::sse::SseParser;
use openclaw_protocol::message::{AssistantMessage, ToolResultMessage, UserMessage};
use pretty_assertions::assert_eq;

fn decode(body: &str, piece: usize) -> Result<Vec<StreamEvent>, ProviderError> {
    let mut p = SseParser::new();
    let mut d = EventDecoder::new("t".into());
    let mut out = VecDeque::new();
    for chunk in body.as_bytes().chunks(piece) {
        for ev in p.feed(chunk) {
            if !d.finished() {
                d.on_event(ev, &mut out)?;
            }
        }
    }
    if !d.finished() {
        d.on_eof(&mut out)?;
    }
    Ok(out.into_iter().collect())
}

const TOOL_STREAM: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: ping\ndata: {\"type\":\"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"exec\",\"input\":{}}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"command\\\": \\\"ec\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ho hi\\\"}\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":5}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

#[test]
fn decodes_thinking_text_and_split_tool_json() {
    let expected = vec![
        StreamEvent::ThinkingDelta("hmm".into()),
        StreamEvent::TextDelta("ok".into()),
        StreamEvent::ToolCallStart {
            index: 2,
            id: "toolu_1".into(),
            name: "exec".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            arguments_fragment: "{\"command\": \"ec".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            arguments_fragment: "ho hi\"}".into(),
        },
        StreamEvent::ToolCall {
            id: "toolu_1".into(),
            name: "exec".into(),
            arguments: json!({"command": "echo hi"}),
        },
        StreamEvent::Usage(Usage {
            input: 10,
            output: 5,
            total_tokens: 15,
            ..Usage::default()
        }),
        StreamEvent::Done {
            stop_reason: StopReason::ToolUse,
        },
    ];
    for piece in [1, 2, 13, 100, TOOL_STREAM.len()] {
        assert_eq!(
            decode(TOOL_STREAM, piece).unwrap(),
            expected,
            "piece size {piece}"
        );
    }
}

#[test]
fn stop_reasons_map() {
    for (wire, want) in [
        ("end_turn", StopReason::Stop),
        ("max_tokens", StopReason::Length),
        ("stop_sequence", StopReason::Stop),
    ] {
        let body = format!(
            "data: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{wire}\"}},\"usage\":{{\"output_tokens\":1}}}}\n\ndata: {{\"type\":\"message_stop\"}}\n\n"
        );
        assert_eq!(
            decode(&body, 50).unwrap().last(),
            Some(&StreamEvent::Done { stop_reason: want })
        );
    }
}

#[test]
fn error_event_is_remote_error() {
    let body = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let err = decode(body, 10).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.to_string(), "t reported overloaded_error: Overloaded");
    assert!(matches!(
        decode("data: {\"type\":\"message_start\"}\n\n", 10),
        Err(ProviderError::Decode { .. })
    ));
}

fn assistant(content: Vec<ContentBlock>) -> Message {
    Message::Assistant(AssistantMessage {
        content,
        api: None,
        provider: None,
        model: None,
        usage: None,
        stop_reason: None,
        error_message: None,
        timestamp: 0,
    })
}

fn tool_result(id: &str, text: &str, is_error: bool) -> Message {
    Message::ToolResult(ToolResultMessage {
        tool_call_id: id.into(),
        tool_name: "exec".into(),
        content: vec![ContentBlock::text(text)],
        details: None,
        is_error,
        timestamp: 0,
    })
}

#[test]
fn maps_and_merges_messages() {
    let transcript = vec![
        Message::user_text("first", 0),
        Message::User(UserMessage {
            content: UserContent::Text("second".into()),
            timestamp: 0,
        }),
        assistant(vec![
            ContentBlock::Thinking {
                thinking: "x".into(),
            },
            ContentBlock::text("calling"),
            ContentBlock::ToolCall {
                id: "t1".into(),
                name: "exec".into(),
                arguments: json!({"command": "a"}),
            },
            ContentBlock::ToolCall {
                id: "t2".into(),
                name: "exec".into(),
                arguments: json!({"command": "b"}),
            },
        ]),
        tool_result("t1", "out a", false),
        tool_result("t2", "bad", true),
        Message::user_text("and now?", 0),
        assistant(vec![]),
    ];
    assert_eq!(
        messages(&transcript),
        vec![
            json!({"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]}),
            json!({"role": "assistant", "content": [
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "t1", "name": "exec", "input": {"command": "a"}},
                {"type": "tool_use", "id": "t2", "name": "exec", "input": {"command": "b"}},
            ]}),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "out a"}]},
                {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "bad"}], "is_error": true},
                {"type": "text", "text": "and now?"},
            ]}),
        ]
    );
}

#[test]
fn request_body_has_top_level_system_and_max_tokens() {
    let mut req = ChatRequest::new("claude-x", "be brief", vec![Message::user_text("hi", 0)]);
    req.tools.push(crate::types::ToolSpec {
        name: "exec".into(),
        description: "run".into(),
        parameters: json!({"type": "object"}),
    });
    assert_eq!(
        request_body(&req),
        json!({
            "model": "claude-x",
            "max_tokens": DEFAULT_MAX_TOKENS,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "stream": true,
            "system": "be brief",
            "tools": [{"name": "exec", "description": "run", "input_schema": {"type": "object"}}],
        })
    );
}
