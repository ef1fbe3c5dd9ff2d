//! Who is on the other end of a request: the client's address and scheme (believed from
//! `Forwarded` / `X-Forwarded-For` / `X-Forwarded-Proto` only when the peer is a trusted
//! proxy, `server.trusted_proxies`), and the known-device cookie a successful log in sets.
//!
//! The address feeds the log in throttle and the logs; the scheme decides the `Secure`
//! cookie flag behind a TLS-terminating proxy.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;

/// A network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{}` is not an address or network; write e.g. `10.0.0.0/8` or `::1`",
                s.chars().take(100).collect::<String>()
            )
        };
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let bits = |a: IpAddr| -> (u128, u32) {
            match a {
                IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ((a, la), (b, lb)) = (bits(self.net), bits(ip));
        if la != lb {
            return false;
        }
        let shift = la - u32::from(self.prefix);
        shift >= la || (a >> shift) == (b >> shift)
    }
}

/// The client as the server believes it.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client's address (text), or `unknown`.
    pub address: String,
    /// Whether the client spoke HTTPS (to the server, or to a trusted proxy in front).
    pub https: bool,
    /// The known-device cookie, if the request carried one.
    pub device: Option<String>,
}

/// The hops a trusted proxy reports, nearest last: `Forwarded: for=...` (RFC 7239) or
/// `X-Forwarded-For`.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let parse = |v: &str| -> Option<IpAddr> {
        let v = v.trim().trim_matches('"');
        let v = v
            .strip_prefix('[')
            .map_or(v, |r| r.split(']').next().unwrap_or(r));
        v.parse::<IpAddr>()
            .ok()
            .or_else(|| v.parse::<SocketAddr>().ok().map(|s| s.ip()))
    };
    let mut hops = Vec::new();
    for value in headers.get_all("forwarded") {
        for element in value.to_str().unwrap_or_default().split(',') {
            for pair in element.split(';') {
                if let Some((k, v)) = pair.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("for") {
                        if let Some(ip) = parse(v) {
                            hops.push(ip);
                        }
                    }
                }
            }
        }
    }
    if hops.is_empty() {
        for value in headers.get_all("x-forwarded-for") {
            hops.extend(
                value
                    .to_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(parse),
            );
        }
    }
    hops
}

/// The scheme a trusted proxy reports.
fn forwarded_https(headers: &HeaderMap) -> Option<bool> {
    for value in headers.get_all("forwarded") {
        for pair in value.to_str().unwrap_or_default().split([';', ',']) {
            if let Some((k, v)) = pair.split_once('=') {
                if k.trim().eq_ignore_ascii_case("proto") {
                    return Some(v.trim().trim_matches('"').eq_ignore_ascii_case("https"));
                }
            }
        }
    }
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("https")
        })
}

/// The client address and scheme from the peer and the headers: the headers are believed
/// only while the hop before is a trusted proxy; the client is the nearest untrusted hop.
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[Cidr],
) -> (Option<IpAddr>, Option<bool>) {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let Some(peer) = peer else {
        return (None, None);
    };
    if !is_trusted(peer) {
        return (Some(peer), None);
    }
    let mut client = peer;
    for hop in forwarded_for(headers).into_iter().rev() {
        client = hop;
        if !is_trusted(hop) {
            break;
        }
    }
    (Some(client), forwarded_https(headers))
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let settings = &state.0.settings;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let (address, https) = resolve(peer, &parts.headers, &settings.trusted_proxies);
        Ok(Client {
            address: address.map_or_else(|| "unknown".to_owned(), |a| a.to_string()),
            https: https.unwrap_or(settings.secure_cookies),
            device: crate::cookie_value(&parts.headers, DEVICE_COOKIE).map(str::to_owned),
        })
    }
}

/// The known-device cookie's name.
pub const DEVICE_COOKIE: &str = "gatehouse_device";

/// How long a device stays known after a successful log in, in seconds (90 days).
pub const DEVICE_MAX_AGE: i64 = 90 * 24 * 3600;

/// Signs and checks known-device cookies: `<account id>.<expiry>.<HMAC-SHA256 hex>`.
#[derive(Clone)]
pub struct DeviceKeys {
    secret: [u8; 32],
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKeys(<redacted>)")
    }
}

impl DeviceKeys {
    /// Keys from a secret.
    pub fn new(secret: [u8; 32]) -> Self {
        DeviceKeys { secret }
    }

    /// Keys from the hex text of a 32-byte secret (as stored in the database).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<_>>()?;
        Some(DeviceKeys::new(bytes.try_into().ok()?))
    }

    /// A new random secret as hex text, to store.
    pub fn fresh_hex() -> String {
        let secret: [u8; 32] = rand::random();
        secret.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Random keys (cookies are then known to this process only).
    pub fn random() -> Self {
        DeviceKeys::new(rand::random())
    }

    fn mac(&self, payload: &str) -> String {
        // INVARIANT: HMAC takes keys of any length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(payload.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A cookie value saying this device logged in to `account` (valid until `expires`, a
    /// Unix time).
    pub fn sign(&self, account: i64, expires: i64) -> String {
        let payload = format!("{account}.{expires}");
        format!("{payload}.{}", self.mac(&payload))
    }

    /// Whether `cookie` says this device logged in to `account` and has not expired.
    pub fn known(&self, cookie: &str, account: i64, now: i64) -> bool {
        let mut parts = cookie.rsplitn(2, '.');
        let (Some(mac), Some(payload)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Some((who, expires)) = payload.split_once('.') else {
            return false;
        };
        let expected = self.mac(payload);
        // Constant time: compare every byte whatever the first difference.
        let same = mac.len() == expected.len()
            && mac
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        same && who.parse::<i64>() == Ok(account) && expires.parse::<i64>().is_ok_and(|e| e > now)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cidrs() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
    }

    /// Issue 11 failure 3: `X-Forwarded-For` and `Forwarded` were ignored (everyone behind a
    /// proxy shared one address); now they are believed from trusted proxies only.
    #[test]
    fn failure_3_forwarded_headers_only_from_trusted_proxies() {
        let trusted = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.5"),
        );
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let (ip, https) = resolve(Some("127.0.0.1".parse().unwrap()), &h, &trusted);
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(https, Some(true));
        // From an untrusted peer the headers mean nothing.
        let (ip, https) = resolve(Some("198.51.100.1".parse().unwrap()), &h, &trusted);
        assert_eq!(ip, Some("198.51.100.1".parse().unwrap()));
        assert_eq!(https, None);
        // A spoofed left part is ignored past the first untrusted hop.
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 203.0.113.9"),
        );
        let (ip, _) = resolve(Some("127.0.0.1".parse().unwrap()), &h, &trusted);
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
        let mut h = HeaderMap::new();
        h.insert(
            "forwarded",
            HeaderValue::from_static("for=\"[2001:db8::7]:4711\";proto=https"),
        );
        let (ip, https) = resolve(Some("10.9.9.9".parse().unwrap()), &h, &trusted);
        assert_eq!(ip, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(https, Some(true));
    }

    #[test]
    fn device_cookies_are_signed_per_account_and_expire() {
        let keys = DeviceKeys::random();
        let c = keys.sign(7, 1_000);
        assert!(keys.known(&c, 7, 999));
        assert!(!keys.known(&c, 7, 1_000), "expired");
        assert!(!keys.known(&c, 8, 999), "another account");
        assert!(!keys.known(&c.replace("7.", "8."), 8, 999), "forged");
        assert!(
            !DeviceKeys::random().known(&c, 7, 999),
            "another server's secret"
        );
        assert!(!keys.known("garbage", 7, 0));
    }
}
