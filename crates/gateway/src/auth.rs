//! Shared-secret authentication, the auth-failure rate limiter and the browser origin check.
//!
//! Secrets are compared in constant time and never logged. Loopback connections do not bypass
//! token/password auth (as in OpenClaw); they are only exempt from the rate limiter.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openclaw_protocol::{ConnectAuth, ErrorShape, codes, detail_codes};
use serde_json::json;

pub use openclaw_config::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    None,
    Token(Secret),
    Password(Secret),
}

impl AuthConfig {
    pub fn mode_name(&self) -> &'static str {
        match self {
            AuthConfig::None => "none",
            AuthConfig::Token(_) => "token",
            AuthConfig::Password(_) => "password",
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, AuthConfig::None)
    }

    /// Check the HTTP bearer credential (`Authorization: Bearer <token|password>`).
    pub fn check_bearer(&self, bearer: Option<&str>) -> bool {
        match self {
            AuthConfig::None => true,
            AuthConfig::Token(s) | AuthConfig::Password(s) => bearer.is_some_and(|b| s.matches(b)),
        }
    }
}

/// Why a shared-secret check failed. Maps to the baseline's wording and `details.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    TokenMissing,
    TokenMismatch,
    PasswordMissing,
    PasswordMismatch,
    RateLimited { retry_after_ms: u64 },
}

impl AuthFailure {
    pub fn message(self) -> String {
        match self {
            AuthFailure::TokenMissing => "unauthorized: gateway token missing (open the dashboard URL and paste the token in Control UI settings)".into(),
            AuthFailure::TokenMismatch => "unauthorized: gateway token mismatch (open the dashboard URL or update the token in Control UI settings)".into(),
            AuthFailure::PasswordMissing => "unauthorized: gateway password missing (enter the password in Control UI settings)".into(),
            AuthFailure::PasswordMismatch => "unauthorized: gateway password mismatch (update the password in Control UI settings)".into(),
            AuthFailure::RateLimited { retry_after_ms } => format!(
                "unauthorized: too many failed attempts; retry in {}s",
                retry_after_ms.div_ceil(1000)
            ),
        }
    }

    pub fn detail_code(self) -> &'static str {
        match self {
            AuthFailure::TokenMissing => detail_codes::AUTH_TOKEN_MISSING,
            AuthFailure::TokenMismatch => detail_codes::AUTH_TOKEN_MISMATCH,
            AuthFailure::PasswordMissing => detail_codes::AUTH_PASSWORD_MISSING,
            AuthFailure::PasswordMismatch => detail_codes::AUTH_PASSWORD_MISMATCH,
            AuthFailure::RateLimited { .. } => detail_codes::AUTH_RATE_LIMITED,
        }
    }

    pub fn to_error(self) -> ErrorShape {
        let next = match self {
            AuthFailure::RateLimited { .. } => "wait_then_retry",
            AuthFailure::TokenMissing | AuthFailure::PasswordMissing => "update_auth_configuration",
            _ => "update_auth_credentials",
        };
        let mut e = ErrorShape::new(codes::INVALID_REQUEST, self.message()).with_details(json!({
            "code": self.detail_code(),
            "recommendedNextStep": next,
        }));
        if let AuthFailure::RateLimited { retry_after_ms } = self {
            e.retryable = Some(true);
            e.retry_after_ms = Some(retry_after_ms);
        }
        e
    }
}

/// Outcome of a successful shared-secret check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    None,
    Token,
    Password,
    DeviceToken,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Token => "token",
            AuthMethod::Password => "password",
            AuthMethod::DeviceToken => "device-token",
        }
    }
}

/// Check the shared secret a WebSocket client presented in `connect.params.auth`.
pub fn check_connect_auth(
    config: &AuthConfig,
    auth: Option<&ConnectAuth>,
) -> Result<AuthMethod, AuthFailure> {
    match config {
        AuthConfig::None => Ok(AuthMethod::None),
        AuthConfig::Token(secret) => {
            let presented = auth.and_then(|a| a.token.as_deref().or(a.device_token.as_deref()));
            match presented {
                None | Some("") => Err(AuthFailure::TokenMissing),
                Some(t) if secret.matches(t) => Ok(AuthMethod::Token),
                Some(_) => Err(AuthFailure::TokenMismatch),
            }
        }
        AuthConfig::Password(secret) => match auth.and_then(|a| a.password.as_deref()) {
            None | Some("") => Err(AuthFailure::PasswordMissing),
            Some(p) if secret.matches(p) => Ok(AuthMethod::Password),
            Some(_) => Err(AuthFailure::PasswordMismatch),
        },
    }
}

/// Failed-auth limiter keyed by client IP: `max_attempts` failures inside `window` lock the
/// address out for `lockout`. Loopback is exempt unless the attempt came from a browser origin.
pub struct RateLimiter {
    max_attempts: u32,
    window: Duration,
    lockout: Duration,
    state: Mutex<HashMap<IpAddr, Attempts>>,
}

struct Attempts {
    first: Instant,
    count: u32,
    locked_until: Option<Instant>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(10, Duration::from_secs(60), Duration::from_secs(300))
    }
}

impl RateLimiter {
    pub fn new(max_attempts: u32, window: Duration, lockout: Duration) -> Self {
        Self {
            max_attempts,
            window,
            lockout,
            state: Mutex::new(HashMap::new()),
        }
    }

    fn exempt(ip: IpAddr, browser: bool) -> bool {
        ip.is_loopback() && !browser
    }

    /// `Err(retry_after)` when the address is locked out right now.
    pub fn check(&self, ip: IpAddr, browser: bool) -> Result<(), Duration> {
        if Self::exempt(ip, browser) {
            return Ok(());
        }
        let now = Instant::now();
        let map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&ip).and_then(|a| a.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: IpAddr, browser: bool) {
        if Self::exempt(ip, browser) {
            return;
        }
        let now = Instant::now();
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory: forget stale entries when the table grows.
        if map.len() > 10_000 {
            map.retain(|_, a| a.locked_until.is_some_and(|u| u > now));
        }
        let entry = map.entry(ip).or_insert(Attempts {
            first: now,
            count: 0,
            locked_until: None,
        });
        if now.duration_since(entry.first) > self.window {
            entry.first = now;
            entry.count = 0;
        }
        entry.count += 1;
        if entry.count >= self.max_attempts {
            entry.locked_until = Some(now + self.lockout);
            entry.count = 0;
            entry.first = now;
        }
    }

    pub fn record_success(&self, ip: IpAddr) {
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&ip);
    }
}

/// Browser origin policy for WebSocket upgrades.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    pub allowed: Vec<String>,
}

impl OriginPolicy {
    /// Allowed: no Origin (not a browser); an explicit allowlist entry or `*`; a loopback
    /// origin; or a same-origin page (Origin host == Host header) on a private address.
    pub fn allows(&self, origin: Option<&str>, host_header: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        let origin = origin.trim_end_matches('/');
        if self
            .allowed
            .iter()
            .any(|a| a == "*" || a.trim_end_matches('/') == origin)
        {
            return true;
        }
        let Some(origin_host) = origin_hostport(origin) else {
            return false;
        };
        let hostname = strip_port(origin_host);
        if is_loopback_host(hostname) {
            return true;
        }
        match host_header {
            Some(h) if h.eq_ignore_ascii_case(origin_host) => is_private_host(hostname),
            _ => false,
        }
    }
}

fn origin_hostport(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))?;
    Some(rest.split('/').next().unwrap_or(rest))
}

fn strip_port(hostport: &str) -> &str {
    if let Some(rest) = hostport.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    hostport
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(hostport)
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_private_host(host: &str) -> bool {
    if host.ends_with(".local") || host.ends_with(".ts.net") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        Ok(IpAddr::V6(v6)) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(t: &str) -> ConnectAuth {
        ConnectAuth {
            token: Some(t.into()),
            ..Default::default()
        }
    }

    #[test]
    fn token_auth_outcomes() {
        let cfg = AuthConfig::Token(Secret::new("T"));
        assert_eq!(
            check_connect_auth(&cfg, Some(&tok("T"))),
            Ok(AuthMethod::Token)
        );
        assert_eq!(
            check_connect_auth(&cfg, Some(&tok("x"))),
            Err(AuthFailure::TokenMismatch)
        );
        assert_eq!(
            check_connect_auth(&cfg, None),
            Err(AuthFailure::TokenMissing)
        );
        assert_eq!(
            check_connect_auth(&cfg, Some(&tok(""))),
            Err(AuthFailure::TokenMissing)
        );
    }

    #[test]
    fn password_auth_ignores_token() {
        let cfg = AuthConfig::Password(Secret::new("pw"));
        assert_eq!(
            check_connect_auth(&cfg, Some(&tok("pw"))),
            Err(AuthFailure::PasswordMissing)
        );
        let a = ConnectAuth {
            password: Some("pw".into()),
            ..Default::default()
        };
        assert_eq!(check_connect_auth(&cfg, Some(&a)), Ok(AuthMethod::Password));
    }

    #[test]
    fn rate_limiter_locks_out_after_max_failures() {
        let rl = RateLimiter::new(3, Duration::from_secs(60), Duration::from_secs(300));
        let ip: IpAddr = "10.0.0.5".parse().unwrap();
        for _ in 0..3 {
            assert!(rl.check(ip, false).is_ok());
            rl.record_failure(ip, false);
        }
        assert!(rl.check(ip, false).is_err());
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..5 {
            rl.record_failure(lo, false);
        }
        assert!(rl.check(lo, false).is_ok(), "loopback CLI is exempt");
        for _ in 0..3 {
            rl.record_failure(lo, true);
        }
        assert!(
            rl.check(lo, true).is_err(),
            "browser origins on loopback are limited"
        );
    }

    #[test]
    fn origin_policy() {
        let p = OriginPolicy {
            allowed: vec!["https://app.example.com".into()],
        };
        assert!(p.allows(None, None));
        assert!(p.allows(Some("http://127.0.0.1:18789"), Some("127.0.0.1:18789")));
        assert!(p.allows(Some("http://localhost:5173"), Some("127.0.0.1:18789")));
        assert!(p.allows(Some("https://app.example.com"), Some("gw:18789")));
        assert!(p.allows(Some("http://192.168.1.4:18789"), Some("192.168.1.4:18789")));
        assert!(!p.allows(Some("http://192.168.1.4:18789"), Some("192.168.1.5:18789")));
        assert!(!p.allows(Some("https://evil.example"), Some("evil.example")));
    }

    #[test]
    fn secret_debug_is_redacted() {
        assert!(!format!("{:?}", Secret::new("abc")).contains("abc"));
    }
}
