//! Prompt assembly for the embedded model: the tool section for forced calls, the ChatML
//! fallback renderer, and dropping old turns until the prompt fits the context window.
//!
//! The runner prefers the chat template stored in the GGUF metadata (rendered by llama.cpp);
//! [`chatml`] is used when the file has none or llama.cpp does not know it. SmolLM2 is a ChatML
//! model, so both paths give the same text for it.

use crate::grammar::tool_instructions;
use crate::wire::{WireMessage, WireTool};

/// The messages the model sees: when a tool call is forced, the tool list and output format are
/// appended to the system message (one is created when there is none).
pub fn with_tool_section(
    messages: &[WireMessage],
    tools: &[WireTool],
    force_tool: bool,
) -> Vec<WireMessage> {
    let mut out = messages.to_vec();
    if !force_tool || tools.is_empty() {
        return out;
    }
    let section = tool_instructions(tools);
    match out.first_mut() {
        Some(m) if m.role == "system" => {
            m.content = format!("{}\n\n{section}", m.content.trim_end());
        }
        _ => out.insert(0, WireMessage::new("system", section)),
    }
    out
}

/// ChatML text for `messages`, ending with an open assistant turn.
pub fn chatml(messages: &[WireMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str("<|im_start|>");
        out.push_str(&m.role);
        out.push('\n');
        out.push_str(&m.content);
        out.push_str("<|im_end|>\n");
    }
    out.push_str("<|im_start|>assistant\n");
    out
}

/// Drop the oldest non-system message (never the last one). `false` when nothing can go.
pub fn drop_oldest(messages: &mut Vec<WireMessage>) -> bool {
    let start = usize::from(messages.first().is_some_and(|m| m.role == "system"));
    if messages.len() <= start + 1 {
        return false;
    }
    messages.remove(start);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn chatml_ends_with_open_assistant_turn() {
        let p = chatml(&[
            WireMessage::new("system", "Be brief."),
            WireMessage::new("user", "hi"),
        ]);
        assert_eq!(
            p,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn tool_section_goes_into_the_system_message() {
        let tools = vec![WireTool {
            name: "exec".into(),
            description: "Run".into(),
            parameters: json!({"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}),
        }];
        let user = WireMessage::new("user", "run ls");
        let out = with_tool_section(std::slice::from_ref(&user), &tools, true);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].role, "system");
        assert!(out[0].content.contains("- exec(command: string): Run"));
        let sys = WireMessage::new("system", "Be brief.");
        let out = with_tool_section(&[sys, user.clone()], &tools, true);
        assert!(
            out[0]
                .content
                .starts_with("Be brief.\n\nYou can use tools.")
        );
        assert_eq!(
            with_tool_section(std::slice::from_ref(&user), &tools, false),
            vec![user]
        );
    }

    #[test]
    fn dropping_keeps_system_and_latest() {
        let mut m = vec![
            WireMessage::new("system", "s"),
            WireMessage::new("user", "a"),
            WireMessage::new("assistant", "b"),
            WireMessage::new("user", "c"),
        ];
        assert!(drop_oldest(&mut m));
        assert!(drop_oldest(&mut m));
        assert!(!drop_oldest(&mut m));
        assert_eq!(
            m,
            vec![
                WireMessage::new("system", "s"),
                WireMessage::new("user", "c")
            ]
        );
    }
}
