//! Keyboard input as CDP `Input.dispatchKeyEvent` parameters.
//!
//! `press` takes Playwright-style names (`Enter`, `Tab`, `ArrowDown`, `a`, `Control+a`,
//! `Shift+Tab`), as OpenClaw's tool does. Pure, so the key table is unit-tested.

use serde_json::{Value, json};

/// CDP modifier bits.
const ALT: u32 = 1;
const CONTROL: u32 = 2;
const META: u32 = 4;
const SHIFT: u32 = 8;

/// Named keys: (name, `code`, Windows virtual key code, text typed).
const NAMED: &[(&str, &str, u32, &str)] = &[
    ("Enter", "Enter", 13, "\r"),
    ("Tab", "Tab", 9, ""),
    ("Escape", "Escape", 27, ""),
    ("Backspace", "Backspace", 8, ""),
    ("Delete", "Delete", 46, ""),
    ("Space", "Space", 32, " "),
    ("ArrowUp", "ArrowUp", 38, ""),
    ("ArrowDown", "ArrowDown", 40, ""),
    ("ArrowLeft", "ArrowLeft", 37, ""),
    ("ArrowRight", "ArrowRight", 39, ""),
    ("Home", "Home", 36, ""),
    ("End", "End", 35, ""),
    ("PageUp", "PageUp", 33, ""),
    ("PageDown", "PageDown", 34, ""),
    ("Insert", "Insert", 45, ""),
];

/// The `keyDown` and `keyUp` events for `spec`, or why it is not a key we know.
pub fn key_events(spec: &str) -> Result<[Value; 2], String> {
    let parts: Vec<&str> = spec.split('+').map(str::trim).collect();
    let (key, mods) = match parts.split_last() {
        // "+" itself, or "Control++".
        Some((k, m)) if k.is_empty() && spec.ends_with('+') => {
            ("+", &m[..m.len().saturating_sub(1)])
        }
        Some((k, m)) => (*k, m),
        None => return Err("press: empty key".into()),
    };
    let mut modifiers = 0;
    for m in mods {
        modifiers |= match m.to_ascii_lowercase().as_str() {
            "alt" => ALT,
            "control" | "ctrl" => CONTROL,
            "meta" | "cmd" | "command" => META,
            "shift" => SHIFT,
            other => {
                return Err(format!(
                    "press: unknown modifier {other:?} in {spec:?} (use Alt, Control, Meta or Shift)"
                ));
            }
        };
    }
    let (key_name, code, vk, text) = if let Some((name, code, vk, text)) = NAMED
        .iter()
        .find(|(n, ..)| n.eq_ignore_ascii_case(key) || (key == " " && *n == "Space"))
    {
        let key_name = if *name == "Space" { " " } else { name };
        (
            key_name.to_string(),
            code.to_string(),
            *vk,
            text.to_string(),
        )
    } else {
        let mut chars = key.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(format!(
                "press: unknown key {key:?}; use a single character or one of {}",
                NAMED.iter().map(|n| n.0).collect::<Vec<_>>().join(", ")
            ));
        };
        let upper = c.to_ascii_uppercase();
        let (code, vk) = if c.is_ascii_alphabetic() {
            (format!("Key{upper}"), upper as u32)
        } else if c.is_ascii_digit() {
            (format!("Digit{c}"), c as u32)
        } else {
            (String::new(), 0)
        };
        let shown = if modifiers & SHIFT != 0 { upper } else { c };
        (shown.to_string(), code, vk, shown.to_string())
    };
    // A chord with Control/Alt/Meta is a shortcut, not typing.
    let text = if modifiers & (CONTROL | ALT | META) != 0 {
        String::new()
    } else {
        text
    };
    let mut down = json!({
        "type": if text.is_empty() { "rawKeyDown" } else { "keyDown" },
        "key": key_name,
        "code": code,
        "windowsVirtualKeyCode": vk,
        "nativeVirtualKeyCode": vk,
        "modifiers": modifiers,
    });
    if !text.is_empty() {
        down["text"] = Value::String(text.clone());
        down["unmodifiedText"] = Value::String(text);
    }
    let up = json!({
        "type": "keyUp",
        "key": key_name,
        "code": code,
        "windowsVirtualKeyCode": vk,
        "nativeVirtualKeyCode": vk,
        "modifiers": modifiers,
    });
    Ok([down, up])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn enter_types_a_carriage_return() {
        let [down, up] = key_events("Enter").unwrap();
        assert_eq!(
            down,
            json!({"type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
                "nativeVirtualKeyCode": 13, "modifiers": 0, "text": "\r", "unmodifiedText": "\r"})
        );
        assert_eq!(up["type"], "keyUp");
    }

    #[test]
    fn letters_chords_and_errors() {
        let [down, _] = key_events("a").unwrap();
        assert_eq!(
            (down["code"].clone(), down["text"].clone()),
            (json!("KeyA"), json!("a"))
        );
        let [down, _] = key_events("Control+a").unwrap();
        assert_eq!(down["type"], "rawKeyDown");
        assert_eq!(down["modifiers"], 2);
        assert!(down.get("text").is_none());
        let [down, _] = key_events("Shift+Tab").unwrap();
        assert_eq!(
            (down["key"].clone(), down["modifiers"].clone()),
            (json!("Tab"), json!(8))
        );
        let [down, _] = key_events("arrowdown").unwrap();
        assert_eq!(down["windowsVirtualKeyCode"], 40);
        assert!(key_events("Hyper+a").unwrap_err().contains("modifier"));
        assert!(key_events("F13x").unwrap_err().contains("unknown key"));
    }
}
