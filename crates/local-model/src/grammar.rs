//! GBNF grammars that force a small model to emit one well-formed tool call.
//!
//! A 135M-parameter model never produces a tool call on its own, but with its sampling
//! constrained to `{"name": "<tool>", "arguments": {...}}`, where the name is one of the offered
//! tools and the arguments follow that tool's JSON Schema, it picks the right tool and fills the
//! arguments well. The grammar is built here, in plain Rust, so it is unit-tested without a
//! model; the runner hands the text to llama.cpp's grammar sampler.
//!
//! Schema coverage is deliberately narrow: only *required* properties are emitted (in the
//! schema's `required` order), which keeps the model from wandering into optional knobs; an
//! object without required properties allows at most one of its properties. Supported types:
//! `string` (with `enum`/`const`), `integer`, `number`, `boolean`, `array` (of `items`), nested
//! `object`; anything else accepts any JSON value.

use std::fmt::Write as _;

use serde_json::Value;

use crate::wire::WireTool;

/// Shared terminal rules every grammar uses.
const BASE_RULES: &str = r#"ws ::= [ ]?
string ::= "\"" char* "\""
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])
integer ::= "-"? [0-9]+
number ::= "-"? [0-9]+ ("." [0-9]+)? ([eE] [-+]? [0-9]+)?
boolean ::= "true" | "false"
value ::= object | array | string | number | boolean | "null"
object ::= "{" ws ( string ws ":" ws value ( ws "," ws string ws ":" ws value )* )? ws "}"
array ::= "[" ws ( value ( ws "," ws value )* )? ws "]"
"#;

/// Why no grammar could be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GrammarError {
    #[error("no tools to call: a forced tool call needs at least one tool")]
    NoTools,
}

/// The GBNF grammar (root rule `root`) for one call of any of `tools`.
pub fn tool_call_grammar(tools: &[WireTool]) -> Result<String, GrammarError> {
    if tools.is_empty() {
        return Err(GrammarError::NoTools);
    }
    let mut b = Builder::default();
    let alts: Vec<String> = tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let args = b.schema(&format!("t{i}-args"), &t.parameters, 0);
            let rule = format!("t{i}");
            b.rule(
                &rule,
                &format!(
                    r#"{} ws "," ws "\"arguments\"" ws ":" ws {args} ws "}}""#,
                    json_literal(&Value::String(t.name.clone()))
                ),
            );
            rule
        })
        .collect();
    let mut out = format!(
        "root ::= \"{{\" ws \"\\\"name\\\"\" ws \":\" ws ( {} )\n",
        alts.join(" | ")
    );
    out.push_str(&b.rules);
    out.push_str(BASE_RULES);
    Ok(out)
}

#[derive(Default)]
struct Builder {
    rules: String,
}

impl Builder {
    fn rule(&mut self, name: &str, body: &str) {
        let _ = writeln!(self.rules, "{name} ::= {body}");
    }

    /// The expression matching `schema`; complex parts get their own rule named `name`.
    fn schema(&mut self, name: &str, schema: &Value, depth: usize) -> String {
        if depth > 6 {
            return "value".into();
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.is_empty()
        {
            let alts: Vec<String> = values.iter().map(json_literal).collect();
            return format!("( {} )", alts.join(" | "));
        }
        if let Some(c) = schema.get("const") {
            return json_literal(c);
        }
        match schema_type(schema) {
            Some("string") => "string".into(),
            Some("integer") => "integer".into(),
            Some("number") => "number".into(),
            Some("boolean") => "boolean".into(),
            Some("null") => "\"null\"".into(),
            Some("array") => match schema.get("items") {
                Some(items) => {
                    let item = self.schema(&format!("{name}-item"), items, depth + 1);
                    self.rule(
                        name,
                        &format!(r#""[" ws ( {item} ( ws "," ws {item} )* )? ws "]""#),
                    );
                    name.into()
                }
                None => "array".into(),
            },
            Some("object") => self.object(name, schema, depth),
            _ if schema.get("properties").is_some() => self.object(name, schema, depth),
            _ => "value".into(),
        }
    }

    fn object(&mut self, name: &str, schema: &Value, depth: usize) -> String {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return "object".into();
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut members = Vec::new();
        let keys: Vec<&String> = if required.is_empty() {
            props.keys().collect()
        } else {
            props
                .keys()
                .filter(|k| required.contains(&k.as_str()))
                .collect()
        };
        for (i, key) in keys.iter().enumerate() {
            let Some(sub) = props.get(key.as_str()) else {
                continue;
            };
            let expr = self.schema(&format!("{name}-{i}"), sub, depth + 1);
            members.push(format!(
                "{} ws \":\" ws {expr}",
                json_literal(&Value::String((*key).clone()))
            ));
        }
        let body = if members.is_empty() {
            r#""{" ws "}""#.to_string()
        } else if required.is_empty() {
            format!(r#""{{" ws ( {} )? ws "}}""#, members.join(" | "))
        } else {
            format!(r#""{{" ws {} ws "}}""#, members.join(r#" ws "," ws "#))
        };
        self.rule(name, &body);
        name.into()
    }
}

fn schema_type(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(s) => Some(s),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// A GBNF string literal matching exactly the JSON text of `v`.
fn json_literal(v: &Value) -> String {
    let json = v.to_string();
    let mut out = String::with_capacity(json.len() + 2);
    out.push('"');
    for c in json.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Split the model's constrained output into `(name, arguments)`.
pub fn parse_tool_call(text: &str) -> Option<(String, Value)> {
    let v: Value = serde_json::from_str(text.trim()).ok()?;
    let name = v.get("name")?.as_str()?.to_string();
    let arguments = match v.get("arguments") {
        Some(a @ Value::Object(_)) => a.clone(),
        _ => Value::Object(serde_json::Map::new()),
    };
    Some((name, arguments))
}

/// The system-prompt section that tells the model which tools exist and the output format.
pub fn tool_instructions(tools: &[WireTool]) -> String {
    let mut out = String::from(
        "You can use tools. To call one, answer only with JSON: {\"name\": \"<tool>\", \"arguments\": {...}}.\nTools:\n",
    );
    for t in tools {
        let params: Vec<String> = t
            .parameters
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(|p| {
                        let ty = t
                            .parameters
                            .pointer(&format!("/properties/{p}"))
                            .and_then(schema_type)
                            .unwrap_or("any");
                        format!("{p}: {ty}")
                    })
                    .collect()
            })
            .unwrap_or_default();
        let desc: String = t
            .description
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(160)
            .collect();
        let _ = writeln!(out, "- {}({}): {}", t.name, params.join(", "), desc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn tool(name: &str, parameters: Value) -> WireTool {
        WireTool {
            name: name.into(),
            description: format!("The {name} tool.\nMore."),
            parameters,
        }
    }

    fn exec_and_read() -> Vec<WireTool> {
        vec![
            tool(
                "exec",
                json!({"type":"object","properties":{
                    "command":{"type":"string"},
                    "timeout":{"type":"integer"}},
                    "required":["command"]}),
            ),
            tool(
                "read",
                json!({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}),
            ),
        ]
    }

    #[test]
    fn grammar_offers_each_tool_with_required_arguments_only() {
        let g = tool_call_grammar(&exec_and_read()).unwrap();
        let first = g.lines().next().unwrap();
        assert_eq!(first, r#"root ::= "{" ws "\"name\"" ws ":" ws ( t0 | t1 )"#);
        assert!(
            g.contains(r#"t0-args ::= "{" ws "\"command\"" ws ":" ws string ws "}""#),
            "{g}"
        );
        assert!(
            g.contains(r#"t0 ::= "\"exec\"" ws "," ws "\"arguments\"" ws ":" ws t0-args ws "}""#),
            "{g}"
        );
        assert!(g.contains(r#"t1-args ::= "{" ws "\"path\"" ws ":" ws string ws "}""#));
        assert!(!g.contains("timeout"), "optional props are left out: {g}");
        // every referenced terminal is defined
        for name in ["ws", "string", "char", "value", "object", "array"] {
            assert!(g.contains(&format!("\n{name} ::= ")), "{name} missing");
        }
    }

    #[test]
    fn enums_arrays_nested_objects_and_optional_only_objects() {
        let g = tool_call_grammar(&[tool(
            "t",
            json!({"type":"object","required":["mode","tags","opts","n"],"properties":{
                "mode":{"type":"string","enum":["fast","slow \"q\""]},
                "tags":{"type":"array","items":{"type":"string"}},
                "opts":{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":["integer","null"]}}},
                "n":{"type":"number"}}}),
        )])
        .unwrap();
        assert!(
            g.contains(r#"( "\"fast\"" | "\"slow \\\"q\\\"\"" )"#),
            "{g}"
        );
        assert!(
            g.contains(r#"t0-args-1 ::= "[" ws ( string ( ws "," ws string )* )? ws "]""#),
            "{g}"
        );
        assert!(
            g.contains(
                r#"t0-args-2 ::= "{" ws ( "\"a\"" ws ":" ws boolean | "\"b\"" ws ":" ws integer )? ws "}""#
            ),
            "{g}"
        );
        assert!(g.contains(r#""\"n\"" ws ":" ws number"#), "{g}");
    }

    #[test]
    fn schemaless_tools_take_any_object_and_no_tools_is_an_error() {
        let g = tool_call_grammar(&[tool("ping", Value::Null)]).unwrap();
        assert!(g.contains("ws \":\" ws value ws \"}\""), "{g}");
        assert_eq!(tool_call_grammar(&[]), Err(GrammarError::NoTools));
    }

    #[test]
    fn tool_calls_parse_from_model_output() {
        assert_eq!(
            parse_tool_call(r#" {"name": "exec", "arguments": {"command": "uname -a"}}"#),
            Some(("exec".into(), json!({"command": "uname -a"})))
        );
        assert_eq!(
            parse_tool_call(r#"{"name":"ping","arguments":null}"#),
            Some(("ping".into(), json!({})))
        );
        assert_eq!(parse_tool_call(r#"{"name": "exec", "argu"#), None);
    }

    #[test]
    fn instructions_list_tools_with_required_params() {
        let s = tool_instructions(&exec_and_read());
        assert!(s.contains("- exec(command: string): The exec tool."), "{s}");
        assert!(s.contains("- read(path: string): The read tool."), "{s}");
        assert!(!s.contains("More."));
    }
}
