//! Roles and operator scopes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Scope {
    #[serde(rename = "operator.read")]
    Read,
    #[serde(rename = "operator.write")]
    Write,
    #[serde(rename = "operator.admin")]
    Admin,
    #[serde(rename = "operator.approvals")]
    Approvals,
    #[serde(rename = "operator.pairing")]
    Pairing,
    #[serde(rename = "operator.talk")]
    Talk,
    #[serde(rename = "operator.talk.secrets")]
    TalkSecrets,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::Admin,
        Scope::Approvals,
        Scope::Pairing,
        Scope::Read,
        Scope::TalkSecrets,
        Scope::Write,
        Scope::Talk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "operator.read",
            Scope::Write => "operator.write",
            Scope::Admin => "operator.admin",
            Scope::Approvals => "operator.approvals",
            Scope::Pairing => "operator.pairing",
            Scope::Talk => "operator.talk",
            Scope::TalkSecrets => "operator.talk.secrets",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Whether holding `self` satisfies a requirement for `needed`:
    /// admin implies everything, write implies read and talk.
    pub fn satisfies(self, needed: Scope) -> bool {
        self == needed
            || self == Scope::Admin
            || (self == Scope::Write && matches!(needed, Scope::Read | Scope::Talk))
    }
}

/// Whether any scope in `held` satisfies `needed`.
pub fn scopes_satisfy(held: &[Scope], needed: Scope) -> bool {
    held.iter().any(|s| s.satisfies(needed))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Operator,
    Node,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Node => "node",
            Role::Worker => "worker",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_all_and_write_implies_read() {
        for s in Scope::ALL {
            assert!(Scope::Admin.satisfies(s));
        }
        assert!(Scope::Write.satisfies(Scope::Read));
        assert!(!Scope::Read.satisfies(Scope::Write));
        assert!(!Scope::Write.satisfies(Scope::Admin));
        assert!(!Scope::Pairing.satisfies(Scope::Read));
    }

    #[test]
    fn scope_names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Scope::parse("operator.nope"), None);
    }
}
