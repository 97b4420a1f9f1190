//! SASL mechanisms the client can run inside AUTHENTICATE (RFC 9051 §6.2.2):
//! PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), XOAUTH2 (Google) and
//! OAUTHBEARER (RFC 7628).

use bytes::Bytes;
use imap_proto::{AuthMechanism, Secret};

/// Credentials for one AUTHENTICATE exchange.
#[derive(Clone)]
pub(crate) enum Sasl {
    Plain {
        authzid: String,
        user: String,
        password: Secret<String>,
    },
    Login {
        user: String,
        password: Secret<String>,
    },
    XOAuth2 {
        user: String,
        token: Secret<String>,
    },
    OAuthBearer {
        user: String,
        host: String,
        port: u16,
        token: Secret<String>,
    },
}

impl std::fmt::Debug for Sasl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain { .. } => "Sasl::Plain",
            Self::Login { .. } => "Sasl::Login",
            Self::XOAuth2 { .. } => "Sasl::XOAuth2",
            Self::OAuthBearer { .. } => "Sasl::OAuthBearer",
        })
    }
}

impl Sasl {
    pub(crate) fn mechanism(&self) -> AuthMechanism {
        match self {
            Self::Plain { .. } => AuthMechanism::Plain,
            Self::Login { .. } => AuthMechanism::Login,
            Self::XOAuth2 { .. } => AuthMechanism::XOAuth2,
            Self::OAuthBearer { .. } => AuthMechanism::OAuthBearer,
        }
    }

    /// The client's first message, for mechanisms that have one.
    pub(crate) fn initial_response(&self) -> Option<Bytes> {
        match self {
            Self::Plain {
                authzid,
                user,
                password,
            } => {
                let mut v = Vec::new();
                v.extend_from_slice(authzid.as_bytes());
                v.push(0);
                v.extend_from_slice(user.as_bytes());
                v.push(0);
                v.extend_from_slice(password.expose().as_bytes());
                Some(v.into())
            }
            Self::Login { .. } => None,
            Self::XOAuth2 { user, token } => {
                Some(format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into())
            }
            Self::OAuthBearer {
                user,
                host,
                port,
                token,
            } => Some(
                format!(
                    "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {}\x01\x01",
                    gs2_escape(user),
                    token.expose()
                )
                .into(),
            ),
        }
    }

    /// The answer to the `step`-th challenge (0-based), given whether the
    /// initial response was already sent. `None` means cancel (`*`).
    pub(crate) fn respond(&self, step: usize, sent_initial: bool) -> Option<Bytes> {
        match self {
            Self::Login { user, password } => match step {
                0 => Some(Bytes::copy_from_slice(user.as_bytes())),
                1 => Some(Bytes::copy_from_slice(password.expose().as_bytes())),
                _ => None,
            },
            _ if !sent_initial && step == 0 => self.initial_response(),
            // A challenge after the whole response is an error report: XOAUTH2
            // wants an empty reply, OAUTHBEARER a single %x01 (RFC 7628 §3.2.3);
            // the server then fails the command with the real status.
            Self::XOAuth2 { .. } => Some(Bytes::new()),
            Self::OAuthBearer { .. } => Some(Bytes::from_static(b"\x01")),
            Self::Plain { .. } => None,
        }
    }
}

/// RFC 5801 §5 escaping of the authorisation identity (`,` and `=`).
fn gs2_escape(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses() {
        let p = Sasl::Plain {
            authzid: String::new(),
            user: "alice".into(),
            password: Secret::new("secret".into()),
        };
        assert_eq!(p.initial_response().unwrap(), &b"\0alice\0secret"[..]);
        let x = Sasl::XOAuth2 {
            user: "a@b".into(),
            token: Secret::new("T".into()),
        };
        assert_eq!(
            x.initial_response().unwrap(),
            &b"user=a@b\x01auth=Bearer T\x01\x01"[..]
        );
        let o = Sasl::OAuthBearer {
            user: "a,b=c".into(),
            host: "imap.example.org".into(),
            port: 993,
            token: Secret::new("T".into()),
        };
        assert_eq!(
            o.initial_response().unwrap(),
            &b"n,a=a=2Cb=3Dc,\x01host=imap.example.org\x01port=993\x01auth=Bearer T\x01\x01"[..]
        );
        assert_eq!(o.respond(0, true).unwrap(), &b"\x01"[..]);
        let l = Sasl::Login {
            user: "u".into(),
            password: Secret::new("p".into()),
        };
        assert_eq!(l.respond(1, false).unwrap(), &b"p"[..]);
        assert!(l.respond(2, false).is_none());
    }
}
