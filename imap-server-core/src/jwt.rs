//! [`JwtVerifier`]: a [`TokenVerifier`] for OAuth 2.0 access tokens that are
//! signed JWTs (RFC 7519; RFC 9068 "JWT Profile for OAuth 2.0 Access
//! Tokens"), checked against the issuer's public keys held in a JWKS file
//! (RFC 7517 §5). Signature checks are done by the `jsonwebtoken` crate (with
//! `ring`); this module picks the key, pins the algorithm to the key's type,
//! and checks the claims.
//!
//! Feature `jwt`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::oauth::TokenVerifier;

/// Clock skew tolerated when checking `exp` and `nbf` (RFC 7519 §4.1.4: "some
/// small leeway, usually no more than a few minutes").
pub const JWT_LEEWAY: Duration = Duration::from_secs(60);

/// Largest JWKS file [`JwtVerifier::from_jwks_file`] reads (1 MiB; a real one
/// holds a handful of keys in a few KiB).
pub const MAX_JWKS_SIZE: u64 = 1024 * 1024;

/// The claim the account is taken from by default; when the token has none,
/// `sub` is used.
pub const DEFAULT_ACCOUNT_CLAIM: &str = "email";

/// Why a JWKS could not be loaded (a start-up error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The file could not be read.
    #[error("cannot read JWKS file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_JWKS_SIZE`].
    #[error("JWKS file {0} is larger than {MAX_JWKS_SIZE} bytes")]
    TooLarge(String),
    /// The text is not a JWKS (`{"keys":[...]}`), or a key in it is malformed.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
    /// No key in the set can verify signatures.
    #[error("JWKS has no usable signing key")]
    NoKeys,
}

/// One public key from the JWKS.
struct Key {
    kid: Option<String>,
    /// The algorithms this key may verify: fixed by the JWK's `alg` when it
    /// has one, else by its type and curve. Never an HMAC algorithm, so a
    /// token cannot make a public key act as a shared secret.
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// The wall clock, in seconds since the Unix epoch.
type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Verifies JWT access tokens: signature against a key of the JWKS (chosen by
/// the token's `kid`), `iss` equal to the configured issuer, `aud` containing
/// the configured audience, `exp` in the future and `nbf` (when present) in
/// the past, each with [`JWT_LEEWAY`]. The account is the configured claim
/// (default [`DEFAULT_ACCOUNT_CLAIM`], falling back to `sub`); an `email`
/// claim with `email_verified: false` is refused.
///
/// This reads the wall clock (the one exception to the crate's rule, since a
/// token's lifetime is wall-clock time); [`with_clock`](Self::with_clock)
/// replaces it.
pub struct JwtVerifier {
    keys: Vec<Key>,
    issuer: String,
    audience: String,
    claim: Option<String>,
    leeway: Duration,
    scope: Option<String>,
    clock: Clock,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("claim", &self.claim)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier over the JWKS in `jwks` (JSON text), accepting tokens from
    /// `issuer` for `audience`. Keys marked `"use":"enc"` and symmetric
    /// (`oct`) keys are left out; a malformed key is an error.
    pub fn from_jwks(jwks: &str, issuer: &str, audience: &str) -> Result<Self, JwksError> {
        let set: Value =
            serde_json::from_str(jwks).map_err(|e| JwksError::Invalid(e.to_string()))?;
        let list = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwksError::Invalid("no \"keys\" array".into()))?;
        let mut keys = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let jwk: Jwk = serde_json::from_value(v.clone())
                .map_err(|e| JwksError::Invalid(format!("key {i}: {e}")))?;
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let algorithms = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::OctetKey(_), _) => continue,
                (AlgorithmParameters::RSA(_), None) => vec![
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
                (AlgorithmParameters::EllipticCurve(p), None) => match p.curve {
                    EllipticCurve::P256 => vec![Algorithm::ES256],
                    EllipticCurve::P384 => vec![Algorithm::ES384],
                    _ => {
                        return Err(JwksError::Invalid(format!(
                            "key {i}: unsupported curve {:?}",
                            p.curve
                        )))
                    }
                },
                (AlgorithmParameters::OctetKeyPair(_), None) => vec![Algorithm::EdDSA],
                (_, Some(alg)) => {
                    let alg: Algorithm = alg.to_string().parse().map_err(|_| {
                        JwksError::Invalid(format!("key {i}: unsupported alg {alg}"))
                    })?;
                    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                        continue;
                    }
                    vec![alg]
                }
            };
            let key = DecodingKey::from_jwk(&jwk)
                .map_err(|e| JwksError::Invalid(format!("key {i}: {e}")))?;
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                algorithms,
                key,
            });
        }
        if keys.is_empty() {
            return Err(JwksError::NoKeys);
        }
        Ok(Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            claim: None,
            leeway: JWT_LEEWAY,
            scope: None,
            clock: Arc::new(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            }),
        })
    }

    /// [`from_jwks`](Self::from_jwks) on the contents of a file of at most
    /// [`MAX_JWKS_SIZE`] bytes.
    pub fn from_jwks_file(path: &Path, issuer: &str, audience: &str) -> Result<Self, JwksError> {
        use std::io::Read;
        let io = |source| JwksError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_JWKS_SIZE + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_JWKS_SIZE {
            return Err(JwksError::TooLarge(path.display().to_string()));
        }
        Self::from_jwks(&text, issuer, audience)
    }

    /// Take the account from claim `name` (no fallback to `sub`).
    pub fn with_claim(mut self, name: &str) -> Self {
        self.claim = Some(name.to_owned());
        self
    }

    /// Tolerate `leeway` of clock skew on `exp`/`nbf` instead of
    /// [`JWT_LEEWAY`].
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The `scope` reported to clients in the error challenge.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_owned());
        self
    }

    /// Replace the wall clock (seconds since the Unix epoch); for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn check(&self, token: &str) -> Result<String, &'static str> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token")?;
        let key = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                .ok_or("unknown key id")?,
            // Without a kid, only an unambiguous set will do.
            None => match self.keys.as_slice() {
                [k] => k,
                _ => return Err("token has no key id"),
            },
        };
        if !key.algorithms.contains(&header.alg) {
            return Err("algorithm not allowed for this key");
        }
        let mut v = Validation::new(header.alg);
        v.algorithms = vec![header.alg];
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        // exp and nbf are checked below against our clock.
        v.validate_exp = false;
        v.validate_nbf = false;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &v).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => "bad signature",
                    K::InvalidIssuer => "wrong issuer",
                    K::InvalidAudience => "wrong audience",
                    K::MissingRequiredClaim(_) => "missing exp, iss or aud",
                    K::InvalidAlgorithm => "algorithm not allowed for this key",
                    _ => "malformed token",
                }
            })?;
        let claims = data.claims;
        let now = (self.clock)();
        let leeway = self.leeway.as_secs();
        let exp = claims.get("exp").and_then(Value::as_u64).ok_or("bad exp")?;
        if exp.saturating_add(leeway) <= now {
            return Err("token expired");
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_u64().ok_or("bad nbf")?;
            if nbf > now.saturating_add(leeway) {
                return Err("token not yet valid");
            }
        }
        let (name, value) = match &self.claim {
            Some(c) => (c.as_str(), claims.get(c)),
            None => match claims.get(DEFAULT_ACCOUNT_CLAIM) {
                Some(v) => (DEFAULT_ACCOUNT_CLAIM, Some(v)),
                None => ("sub", claims.get("sub")),
            },
        };
        if name == "email" && claims.get("email_verified") == Some(&Value::Bool(false)) {
            return Err("email not verified");
        }
        match value.and_then(Value::as_str) {
            Some(account) if !account.is_empty() => Ok(account.to_owned()),
            _ => Err("no account claim"),
        }
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify(&self, token: &str) -> Result<String, String> {
        self.check(token).map_err(str::to_owned)
    }

    fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}
