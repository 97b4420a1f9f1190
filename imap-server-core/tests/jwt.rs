//! `JwtVerifier` (feature `jwt`) with tokens signed here by key pairs made at
//! test time: ECDSA P-256 with `ring`, RSA 2048 with `openssl genpkey` when
//! openssl is installed (the RSA tests print why and return otherwise).
#![cfg(feature = "jwt")]

mod common;

use std::process::Command;
use std::sync::Arc;

use imap_proto::encode_base64;
use imap_server_core::{JwksError, JwtVerifier, ServerConfig, TokenVerifier, JWT_LEEWAY};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use common::{store, Client};

const NOW: u64 = 1_700_000_000;
const ISS: &str = "https://issuer.example";
const AUD: &str = "imap.example.org";

fn b64url(b: &[u8]) -> String {
    encode_base64(b)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A fresh P-256 key pair: the signing key and its public JWK.
fn ec_key(kid: &str) -> (EncodingKey, Value) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 || x || y
    assert_eq!(point.len(), 65);
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "kid": kid,
        "x": b64url(&point[1..33]), "y": b64url(&point[33..]),
    });
    (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
}

/// A fresh RSA 2048 key pair from openssl, or `None` (with the reason
/// printed) when openssl cannot make one.
fn rsa_key(kid: &str) -> Option<(EncodingKey, Value)> {
    let dir = std::env::temp_dir().join(format!("imap-jwt-test-{}-{kid}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("key.pem");
    let der = dir.join("key.der");
    let run = |args: &[&str]| -> Option<Vec<u8>> {
        match Command::new("openssl").args(args).output() {
            Ok(o) if o.status.success() => Some(o.stdout),
            Ok(o) => {
                println!(
                    "skipping RSA: openssl {args:?} failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                None
            }
            Err(e) => {
                println!("skipping RSA: cannot run openssl: {e}");
                None
            }
        }
    };
    let pem_s = pem.to_str().unwrap();
    run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        pem_s,
    ])?;
    // PKCS#1 DER, the form ring's RsaKeyPair::from_der takes.
    run(&[
        "rsa",
        "-in",
        pem_s,
        "-traditional",
        "-outform",
        "DER",
        "-out",
        der.to_str().unwrap(),
    ])?;
    let modulus = run(&["rsa", "-in", pem_s, "-noout", "-modulus"])?;
    let hex = String::from_utf8(modulus).unwrap();
    let hex = hex.trim().strip_prefix("Modulus=").unwrap();
    let n: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let key = EncodingKey::from_rsa_der(&std::fs::read(&der).unwrap());
    std::fs::remove_dir_all(&dir).ok();
    let jwk = json!({ "kty": "RSA", "kid": kid, "alg": "RS256", "n": b64url(&n), "e": "AQAB" });
    Some((key, jwk))
}

fn jwks(keys: &[&Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn verifier(jwks: &str) -> JwtVerifier {
    JwtVerifier::from_jwks(jwks, ISS, AUD)
        .unwrap()
        .with_clock(|| NOW)
}

fn claims(sub: &str) -> Value {
    json!({
        "iss": ISS, "aud": AUD, "sub": sub, "email": format!("{sub}@example.org"),
        "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 3600,
    })
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, key).unwrap()
}

#[test]
fn es256_good_token_gives_the_email() {
    let (key, jwk) = ec_key("k1");
    let v = verifier(&jwks(&[&jwk]));
    let t = sign(Algorithm::ES256, Some("k1"), &key, &claims("alice"));
    assert_eq!(v.verify(&t), Ok("alice@example.org".into()));
}

#[test]
fn rs256_good_token_and_bad_signature() {
    let Some((key, jwk)) = rsa_key("r1") else {
        return;
    };
    let (ec, ec_jwk) = ec_key("e1");
    let v = verifier(&jwks(&[&ec_jwk, &jwk]));
    let t = sign(Algorithm::RS256, Some("r1"), &key, &claims("alice"));
    assert_eq!(v.verify(&t), Ok("alice@example.org".into()));
    // The RSA key's kid on an EC-signed token: the JWK's alg pins RS256.
    let t = sign(Algorithm::ES256, Some("r1"), &ec, &claims("alice"));
    assert_eq!(
        v.verify(&t),
        Err("algorithm not allowed for this key".into())
    );
    // Another RSA key under the same kid.
    let Some((other, _)) = rsa_key("r2") else {
        return;
    };
    let t = sign(Algorithm::RS256, Some("r1"), &other, &claims("alice"));
    assert_eq!(v.verify(&t), Err("bad signature".into()));
}

#[test]
fn expired_and_not_yet_valid_with_leeway() {
    let (key, jwk) = ec_key("k1");
    let v = verifier(&jwks(&[&jwk]));
    let leeway = JWT_LEEWAY.as_secs();
    let mut c = claims("alice");
    c["exp"] = json!(NOW - 3600);
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Err("token expired".into()));
    c["exp"] = json!(NOW - leeway / 2);
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert!(v.verify(&t).is_ok(), "within the leeway");
    let mut c = claims("alice");
    c["nbf"] = json!(NOW + 2 * leeway);
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Err("token not yet valid".into()));
    let mut c = claims("alice");
    c.as_object_mut().unwrap().remove("exp");
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Err("missing exp, iss or aud".into()));
}

#[test]
fn wrong_audience_and_issuer() {
    let (key, jwk) = ec_key("k1");
    let v = verifier(&jwks(&[&jwk]));
    let mut c = claims("alice");
    c["aud"] = json!("other.example.org");
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Err("wrong audience".into()));
    // aud may be an array containing ours.
    c["aud"] = json!(["other.example.org", AUD]);
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert!(v.verify(&t).is_ok());
    let mut c = claims("alice");
    c["iss"] = json!("https://evil.example");
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Err("wrong issuer".into()));
}

#[test]
fn bad_signature_unknown_kid_and_garbage() {
    let (key, jwk) = ec_key("k1");
    let (other, _) = ec_key("k2");
    let v = verifier(&jwks(&[&jwk]));
    // Signed by a key not in the set, under a kid that is.
    let t = sign(Algorithm::ES256, Some("k1"), &other, &claims("alice"));
    assert_eq!(v.verify(&t), Err("bad signature".into()));
    // A good token with its payload swapped.
    let good = sign(Algorithm::ES256, Some("k1"), &key, &claims("alice"));
    let evil = sign(Algorithm::ES256, Some("k1"), &other, &claims("mallory"));
    let g: Vec<&str> = good.split('.').collect();
    let e: Vec<&str> = evil.split('.').collect();
    let forged = format!("{}.{}.{}", g[0], e[1], g[2]);
    assert_eq!(v.verify(&forged), Err("bad signature".into()));
    let t = sign(Algorithm::ES256, Some("nope"), &key, &claims("alice"));
    assert_eq!(v.verify(&t), Err("unknown key id".into()));
    // HS256 "signed" with nothing the server holds.
    let t = sign(
        Algorithm::HS256,
        Some("k1"),
        &EncodingKey::from_secret(b"guess"),
        &claims("alice"),
    );
    assert_eq!(
        v.verify(&t),
        Err("algorithm not allowed for this key".into())
    );
    for junk in ["", "a.b.c", "not a token", "eyJhbGciOiJub25lIn0.e30."] {
        assert_eq!(v.verify(junk), Err("malformed token".into()), "{junk:?}");
    }
}

#[test]
fn account_claim_choice() {
    let (key, jwk) = ec_key("k1");
    let v = verifier(&jwks(&[&jwk]));
    let mut c = claims("alice");
    c.as_object_mut().unwrap().remove("email");
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Ok("alice".into()), "falls back to sub");
    let mut c = claims("alice");
    c["email_verified"] = json!(false);
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Err("email not verified".into()));
    let v = verifier(&jwks(&[&jwk])).with_claim("preferred_username");
    let mut c = claims("alice");
    c["preferred_username"] = json!("al");
    let t = sign(Algorithm::ES256, Some("k1"), &key, &c);
    assert_eq!(v.verify(&t), Ok("al".into()));
    let t = sign(Algorithm::ES256, Some("k1"), &key, &claims("alice"));
    assert_eq!(v.verify(&t), Err("no account claim".into()));
}

#[test]
fn token_without_kid_needs_a_single_key() {
    let (key, jwk) = ec_key("k1");
    let t = sign(Algorithm::ES256, None, &key, &claims("alice"));
    assert!(verifier(&jwks(&[&jwk])).verify(&t).is_ok());
    let (_, jwk2) = ec_key("k2");
    assert_eq!(
        verifier(&jwks(&[&jwk, &jwk2])).verify(&t),
        Err("token has no key id".into())
    );
}

#[test]
fn jwks_that_does_not_parse_is_a_clear_error() {
    let err = |s: &str| JwtVerifier::from_jwks(s, ISS, AUD).unwrap_err();
    assert!(matches!(err("not json"), JwksError::Invalid(_)));
    assert!(matches!(err(r#"{"kids":[]}"#), JwksError::Invalid(_)));
    assert!(matches!(err(r#"{"keys":[]}"#), JwksError::NoKeys));
    let e = err(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA"}]}"#);
    assert!(e.to_string().starts_with("invalid JWKS: key 0"), "{e}");
    let e = err(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"!!","y":"??"}]}"#);
    assert!(matches!(e, JwksError::Invalid(_)), "{e}");
    // Only a shared secret: nothing to verify public signatures with.
    assert!(matches!(
        err(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#),
        JwksError::NoKeys
    ));
    let missing = std::path::Path::new("/nonexistent/jwks.json");
    let e = JwtVerifier::from_jwks_file(missing, ISS, AUD).unwrap_err();
    assert!(
        matches!(e, JwksError::Io { .. }) && e.to_string().contains("/nonexistent/jwks.json"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("imap-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("jwks.json");
    std::fs::write(&f, "{\"keys\": [").unwrap();
    let e = JwtVerifier::from_jwks_file(&f, ISS, AUD).unwrap_err();
    assert!(e.to_string().starts_with("invalid JWKS"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The whole path: AUTHENTICATE with a signed token, and a `user=` that is
/// not the token's account.
#[test]
fn session_logs_in_with_a_jwt_and_refuses_a_user_mismatch() {
    let (key, jwk) = ec_key("k1");
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    cfg.oauth = Some(Arc::new(verifier(&jwks(&[&jwk]))));
    let cfg = Arc::new(cfg);
    let t = sign(Algorithm::ES256, Some("k1"), &key, &claims("alice"));

    let mut c = Client::start(&store(), cfg.clone(), false).0;
    let msg =
        encode_base64(format!("n,a=alice@example.org,\x01auth=Bearer {t}\x01\x01").as_bytes());
    let r = c.send(&format!("a1 AUTHENTICATE OAUTHBEARER {msg}\r\n"));
    assert!(r.starts_with("a1 OK"), "{r}");
    assert_eq!(c.conn.user(), Some("alice@example.org"));

    let mut c = Client::start(&store(), cfg, false).0;
    let msg = encode_base64(format!("user=bob@example.org\x01auth=Bearer {t}\x01\x01").as_bytes());
    let r = c.send(&format!("a1 AUTHENTICATE XOAUTH2 {msg}\r\n"));
    assert!(r.starts_with("+ "), "{r}");
    assert_eq!(c.send("\r\n"), "");
    let t = c.conn.poll_timeout().unwrap();
    c.now = t;
    c.conn.handle_timeout(t);
    let r = c.drain();
    assert!(r.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{r}");
    assert_eq!(c.conn.user(), None);
}
