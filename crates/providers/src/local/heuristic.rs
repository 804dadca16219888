//! Gateway-side decisions for the embedded model: when to force a tool call, which tools to
//! offer, and how the transcript is flattened into plain chat messages.
//!
//! The 135M model never calls a tool on its own, so the gateway decides. A tool call is forced
//! when all of these hold:
//! 1. the request offers tools;
//! 2. the latest transcript message is the user's (no tool result follows it yet — after a
//!    result the model answers in free text, which ends the turn);
//! 3. that message contains a backticked span (`` `uname -a` ``) or a command word: run,
//!    execute, exec, read, cat, list, ls (whole words, so "ran" or "already" do not count).
//!
//! The offered tools are then narrowed by intent: a backticked span or run/execute/exec picks
//! `exec`/`bash`/`shell`; read/cat picks `read`; list/ls picks `ls`/`list`, else
//! `exec`. When none of the preferred names is offered, all tools are offered and the grammar
//! lets the model choose.
//!
//! A forced call is generated from the latest user message alone (plus the short system prompt
//! and tool list): with earlier turns in the prompt the 135M model tends to invent arguments.
//!
//! Flattening: tool results become a user message `Tool <name> returned:\n<output>` (output cut
//! to [`MAX_TOOL_OUTPUT`] characters); assistant tool calls are dropped (the result message says
//! which tool ran); images are dropped. A system prompt longer than [`MAX_SYSTEM_CHARS`] (the
//! full OpenClaw agent prompt), or any system prompt when a tool call is forced, is replaced by
//! [`LOCAL_SYSTEM_PROMPT`]: it would fill the small model's context and drown the question.

use openclaw_local_model::wire::{WireMessage, WireTool};
use openclaw_protocol::message::{ContentBlock, Message, UserContent};

use crate::types::ToolSpec;

/// Longest system prompt passed through unchanged.
pub const MAX_SYSTEM_CHARS: usize = 2000;
/// Longest tool output fed back to the model.
pub const MAX_TOOL_OUTPUT: usize = 2000;
/// The system prompt used instead of a long one.
pub const LOCAL_SYSTEM_PROMPT: &str = "You are a helpful assistant running locally on the user's computer. Answer briefly and accurately. When a tool result is given, answer from it.";

const RUN_WORDS: &[&str] = &["run", "execute", "exec"];
const READ_WORDS: &[&str] = &["read", "cat"];
const LIST_WORDS: &[&str] = &["list", "ls"];

/// The tools to force a call among, or `None` to let the model answer in free text.
pub fn forced_tools(messages: &[Message], tools: &[ToolSpec]) -> Option<Vec<ToolSpec>> {
    if tools.is_empty() {
        return None;
    }
    let Some(Message::User(last)) = messages.last() else {
        return None;
    };
    let text = user_text(&last.content).to_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    let backticked = text.matches('`').count() >= 2;
    let preferred: &[&str] = if backticked || has(RUN_WORDS) {
        &["exec", "bash", "shell"]
    } else if has(READ_WORDS) {
        &["read"]
    } else if has(LIST_WORDS) {
        &["ls", "list", "exec"]
    } else {
        return None;
    };
    let narrowed: Vec<ToolSpec> = preferred
        .iter()
        .filter_map(|p| tools.iter().find(|t| t.name == *p))
        .take(1)
        .cloned()
        .collect();
    Some(if narrowed.is_empty() {
        tools.to_vec()
    } else {
        narrowed
    })
}

fn user_text(c: &UserContent) -> String {
    match c {
        UserContent::Text(t) => t.clone(),
        UserContent::Blocks(b) => blocks_text(b),
    }
}

fn blocks_text(blocks: &[ContentBlock]) -> String {
    blocks
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("\n[output truncated]");
    out
}

/// The transcript as plain chat messages for the worker (see the module doc). With `forced`
/// the system prompt is always [`LOCAL_SYSTEM_PROMPT`]: the tool section follows it, and any
/// extra text measurably derails the small model's argument choice.
pub fn flatten(system: &str, messages: &[Message], forced: bool) -> Vec<WireMessage> {
    let mut out = Vec::with_capacity(messages.len() + 1);
    let system = if forced || system.chars().count() > MAX_SYSTEM_CHARS {
        LOCAL_SYSTEM_PROMPT
    } else {
        system.trim()
    };
    if !system.is_empty() {
        out.push(WireMessage::new("system", system));
    }
    for m in messages {
        match m {
            Message::User(u) => out.push(WireMessage::new("user", user_text(&u.content))),
            Message::Assistant(a) => {
                let text = blocks_text(&a.content);
                if !text.trim().is_empty() {
                    out.push(WireMessage::new("assistant", text));
                }
            }
            Message::ToolResult(r) => {
                let body = clip(blocks_text(&r.content).trim(), MAX_TOOL_OUTPUT);
                let verb = if r.is_error { "failed" } else { "returned" };
                out.push(WireMessage::new(
                    "user",
                    format!("Tool {} {verb}:\n{body}", r.tool_name),
                ));
            }
        }
    }
    out
}

/// Tool specs in the worker's shape.
pub fn wire_tools(tools: &[ToolSpec]) -> Vec<WireTool> {
    tools
        .iter()
        .map(|t| WireTool {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: t.parameters.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_protocol::message::{AssistantMessage, ToolResultMessage};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn tool(name: &str) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            description: String::new(),
            parameters: json!({"type":"object"}),
        }
    }

    fn names(t: Option<Vec<ToolSpec>>) -> Option<Vec<String>> {
        t.map(|v| v.into_iter().map(|t| t.name).collect())
    }

    fn user(t: &str) -> Message {
        Message::user_text(t, 0)
    }

    fn result(name: &str, text: &str) -> Message {
        Message::ToolResult(ToolResultMessage {
            tool_call_id: "c1".into(),
            tool_name: name.into(),
            content: vec![ContentBlock::text(text)],
            details: None,
            is_error: false,
            timestamp: 0,
        })
    }

    #[test]
    fn forces_by_intent_and_narrows_tools() {
        let tools = vec![tool("read"), tool("exec"), tool("write")];
        let f = |t: &str| names(forced_tools(&[user(t)], &tools));
        assert_eq!(f("run the command `uname -a`"), Some(vec!["exec".into()]));
        assert_eq!(f("what does `date` print?"), Some(vec!["exec".into()]));
        assert_eq!(f("Execute ls /tmp"), Some(vec!["exec".into()]));
        assert_eq!(f("please read notes.txt"), Some(vec!["read".into()]));
        assert_eq!(f("list the files here"), Some(vec!["exec".into()]));
        assert_eq!(f("hello, who are you?"), None);
        assert_eq!(f("I ran into trouble"), None, "word match, not substring");
    }

    #[test]
    fn never_forces_without_tools_or_after_a_result() {
        assert_eq!(names(forced_tools(&[user("run `ls`")], &[])), None);
        let tools = vec![tool("exec")];
        let after = vec![user("run `ls`"), result("exec", "a b")];
        assert_eq!(names(forced_tools(&after, &tools)), None);
        // unknown tool names: all offered, the grammar decides
        let other = vec![tool("web_fetch"), tool("process")];
        assert_eq!(
            names(forced_tools(&[user("run `ls`")], &other)),
            Some(vec!["web_fetch".into(), "process".into()])
        );
    }

    #[test]
    fn flatten_feeds_results_back_as_user_text() {
        let call = Message::Assistant(AssistantMessage {
            content: vec![ContentBlock::ToolCall {
                id: "c1".into(),
                name: "exec".into(),
                arguments: json!({"command":"uname -a"}),
            }],
            api: None,
            provider: None,
            model: None,
            usage: None,
            stop_reason: None,
            error_message: None,
            timestamp: 0,
        });
        let out = flatten(
            "Be brief.",
            &[
                user("run `uname -a`"),
                call,
                result("exec", "Linux box 6.1\n"),
            ],
            false,
        );
        assert_eq!(
            out,
            vec![
                WireMessage::new("system", "Be brief."),
                WireMessage::new("user", "run `uname -a`"),
                WireMessage::new("user", "Tool exec returned:\nLinux box 6.1"),
            ]
        );
        let long = "x".repeat(MAX_SYSTEM_CHARS + 1);
        assert_eq!(flatten(&long, &[], false)[0].content, LOCAL_SYSTEM_PROMPT);
        assert_eq!(
            flatten("Be brief.", &[], true)[0].content,
            LOCAL_SYSTEM_PROMPT
        );
        let big = flatten(
            "",
            &[result("exec", &"y".repeat(MAX_TOOL_OUTPUT + 10))],
            false,
        );
        assert!(big[0].content.ends_with("[output truncated]"));
    }
}
