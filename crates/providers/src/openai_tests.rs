use super::*;
use crate::sse::SseParser;
use openclaw_protocol::message::{AssistantMessage, ToolResultMessage, UserMessage};
use pretty_assertions::assert_eq;

/// Feed a whole SSE body through parser + decoder in pieces of `piece` bytes.
fn decode(body: &str, piece: usize) -> Result<Vec<StreamEvent>, ProviderError> {
    let mut p = SseParser::new();
    let mut d = ChunkDecoder::new("t".into());
    let mut out = VecDeque::new();
    for chunk in body.as_bytes().chunks(piece) {
        for ev in p.feed(chunk) {
            if !d.finished() {
                d.on_event(ev, &mut out)?;
            }
        }
    }
    if let Some(ev) = p.finish() {
        d.on_event(ev, &mut out)?;
    }
    if !d.finished() {
        d.on_eof(&mut out)?;
    }
    Ok(out.into_iter().collect())
}

const TOOL_STREAM: &str = concat!(
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"exec\",\"arguments\":\"\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"comm\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"and\\\":\\\"ls\\\"}\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n",
    "data: [DONE]\n\n",
);

#[test]
fn tool_call_fragments_accumulate_across_chunks_and_reads() {
    let expected = vec![
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "exec".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments_fragment: "{\"comm".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments_fragment: "and\":\"ls\"}".into(),
        },
        StreamEvent::ToolCall {
            id: "call_1".into(),
            name: "exec".into(),
            arguments: json!({"command": "ls"}),
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
    for piece in [1, 3, 7, 64, TOOL_STREAM.len()] {
        assert_eq!(
            decode(TOOL_STREAM, piece).unwrap(),
            expected,
            "piece size {piece}"
        );
    }
}

#[test]
fn text_stream_with_crlf_and_keepalive() {
    let body = ": ping\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"po\"}}]}\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"ng\"},\"finish_reason\":\"length\"}]}\r\n\r\ndata: [DONE]\r\n\r\n";
    assert_eq!(
        decode(body, 5).unwrap(),
        vec![
            StreamEvent::TextDelta("po".into()),
            StreamEvent::TextDelta("ng".into()),
            StreamEvent::Done {
                stop_reason: StopReason::Length
            },
        ]
    );
}

#[test]
fn parallel_calls_and_missing_ids_and_stop_with_calls() {
    let body = concat!(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}},{\"index\":1,\"id\":\"x\",\"function\":{\"name\":\"b\",\"arguments\":\"{\\\"k\\\":1}\"}}]},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n"
    );
    let evs = decode(body, 1000).unwrap();
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, StreamEvent::ToolCall { .. }))
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            StreamEvent::ToolCall {
                id: "call_0".into(),
                name: "a".into(),
                arguments: json!({})
            },
            StreamEvent::ToolCall {
                id: "x".into(),
                name: "b".into(),
                arguments: json!({"k": 1})
            },
        ]
    );
    assert_eq!(
        evs.last(),
        Some(&StreamEvent::Done {
            stop_reason: StopReason::ToolUse
        })
    );
}

#[test]
fn reasoning_and_cached_usage() {
    let body = concat!(
        "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"think\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n",
    );
    // No [DONE]: a finish_reason is enough to end cleanly.
    assert_eq!(
        decode(body, 9).unwrap(),
        vec![
            StreamEvent::ThinkingDelta("think".into()),
            StreamEvent::TextDelta("hi".into()),
            StreamEvent::Usage(Usage {
                input: 8,
                output: 3,
                cache_read: 4,
                cache_write: 0,
                total_tokens: 15
            }),
            StreamEvent::Done {
                stop_reason: StopReason::Stop
            },
        ]
    );
}

#[test]
fn truncated_stream_and_error_chunk_are_errors() {
    let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"po\"}}]}\n\n";
    assert!(matches!(
        decode(cut, 100),
        Err(ProviderError::Decode { .. })
    ));
    let err = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
    match decode(err, 100) {
        Err(ProviderError::Remote { kind, message, .. }) => {
            assert_eq!(
                (kind.as_str(), message.as_str()),
                ("server_error", "overloaded")
            );
        }
        other => panic!("expected remote error, got {other:?}"),
    }
    assert!(matches!(
        decode("data: {nope\n\n", 100),
        Err(ProviderError::Decode { .. })
    ));
}

#[test]
fn maps_transcript_to_openai_messages() {
    let transcript = vec![
        Message::User(UserMessage {
            content: UserContent::Text("TOOL exec {}".into()),
            timestamp: 1,
        }),
        Message::Assistant(AssistantMessage {
            content: vec![
                ContentBlock::Thinking {
                    thinking: "plan".into(),
                },
                ContentBlock::text("running"),
                ContentBlock::ToolCall {
                    id: "call_1".into(),
                    name: "exec".into(),
                    arguments: json!({"command": "ls"}),
                },
            ],
            api: None,
            provider: None,
            model: None,
            usage: None,
            stop_reason: Some("toolUse".into()),
            error_message: None,
            timestamp: 2,
        }),
        Message::ToolResult(ToolResultMessage {
            tool_call_id: "call_1".into(),
            tool_name: "exec".into(),
            content: vec![ContentBlock::text("a\nb")],
            details: None,
            is_error: false,
            timestamp: 3,
        }),
        Message::Assistant(AssistantMessage {
            content: vec![],
            api: None,
            provider: None,
            model: None,
            usage: None,
            stop_reason: Some("error".into()),
            error_message: Some("boom".into()),
            timestamp: 4,
        }),
        Message::User(UserMessage {
            content: UserContent::Blocks(vec![
                ContentBlock::text("see"),
                ContentBlock::Image {
                    data: "AAA".into(),
                    mime_type: "image/png".into(),
                },
            ]),
            timestamp: 5,
        }),
    ];
    assert_eq!(
        messages("sys", &transcript),
        vec![
            json!({"role": "system", "content": "sys"}),
            json!({"role": "user", "content": "TOOL exec {}"}),
            json!({"role": "assistant", "content": "running", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "exec", "arguments": "{\"command\":\"ls\"}"}}
            ]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "a\nb"}),
            json!({"role": "user", "content": [
                {"type": "text", "text": "see"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}
            ]}),
        ]
    );
}

#[test]
fn request_body_shape() {
    let mut req = ChatRequest::new("gpt-x", "", vec![Message::user_text("hi", 0)]);
    req.tools.push(crate::types::ToolSpec {
        name: "exec".into(),
        description: "run".into(),
        parameters: json!({"type": "object"}),
    });
    req.max_tokens = Some(100);
    assert_eq!(
        request_body(&req),
        json!({
            "model": "gpt-x",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "function": {"name": "exec", "description": "run", "parameters": {"type": "object"}}}],
            "max_tokens": 100,
        })
    );
}
