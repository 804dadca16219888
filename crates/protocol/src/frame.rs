//! The three frame shapes: request, response, event.
//!
//! Client frames are parsed tolerantly (unknown top-level fields are ignored) because the
//! recorded clients add fields across releases (`traceparent` in v4); params are validated by
//! each method instead.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ErrorShape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Frame {
    Req(RequestFrame),
    Res(ResponseFrame),
    Event(EventFrame),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFrame {
    pub id: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseFrame {
    pub id: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorShape>,
}

impl ResponseFrame {
    pub fn ok(id: impl Into<String>, payload: Value) -> Self {
        Self {
            id: id.into(),
            ok: true,
            payload: Some(payload),
            error: None,
        }
    }

    pub fn err(id: impl Into<String>, error: ErrorShape) -> Self {
        Self {
            id: id.into(),
            ok: false,
            payload: None,
            error: Some(error),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateVersion {
    pub presence: u64,
    pub health: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventFrame {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_version: Option<StateVersion>,
}

impl Frame {
    pub fn to_text(&self) -> String {
        // Serializing these types cannot fail: every field is plain JSON data.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_recorded_connect_request() {
        let text =
            r#"{"type": "req", "id": "c1", "method": "connect", "params": {"minProtocol": 3}}"#;
        let frame: Frame = serde_json::from_str(text).unwrap();
        match frame {
            Frame::Req(r) => {
                assert_eq!(r.id, "c1");
                assert_eq!(r.method, "connect");
                assert_eq!(r.params, Some(json!({"minProtocol": 3})));
            }
            other => panic!("expected req, got {other:?}"),
        }
    }

    #[test]
    fn event_serializes_with_camel_case_state_version() {
        let f = Frame::Event(EventFrame {
            event: "health".into(),
            payload: Some(json!({"ok": true})),
            seq: Some(7),
            state_version: Some(StateVersion {
                presence: 1,
                health: 2,
            }),
        });
        let v: Value = serde_json::from_str(&f.to_text()).unwrap();
        assert_eq!(
            v,
            json!({"type":"event","event":"health","payload":{"ok":true},"seq":7,
                   "stateVersion":{"presence":1,"health":2}})
        );
    }

    #[test]
    fn error_response_omits_payload() {
        let f = Frame::Res(ResponseFrame::err(
            "1",
            ErrorShape::new("INVALID_REQUEST", "bad"),
        ));
        let v: Value = serde_json::from_str(&f.to_text()).unwrap();
        assert_eq!(
            v,
            json!({"type":"res","id":"1","ok":false,"error":{"code":"INVALID_REQUEST","message":"bad"}})
        );
    }
}
