//! Capabilities (RFC 9051 §7.2.2) and SASL mechanism names.

use std::fmt;

use bytes::Bytes;

use crate::core::Atom;

macro_rules! capabilities {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// A capability name as advertised in `CAPABILITY` and used by `ENABLE`.
        ///
        /// Known names are parsed case-insensitively; anything else is kept as
        /// [`Capability::Other`], so an unknown capability never fails a response.
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Capability {
            $( $(#[$doc])* $variant, )*
            /// `AUTH=<mechanism>` (RFC 9051 §6.2.2).
            Auth(AuthMechanism),
            /// `COMPRESS=<algorithm>` (RFC 4978).
            Compress(Atom),
            /// `THREAD=<algorithm>` (RFC 5256).
            Thread(Atom),
            /// `APPENDLIMIT` or `APPENDLIMIT=<n>` (RFC 7889).
            AppendLimit(Option<u64>),
            /// `RIGHTS=<letters>` (RFC 4314).
            Rights(Atom),
            /// `QUOTA=RES-<resource>` (RFC 9208).
            QuotaRes(Atom),
            /// `I18NLEVEL=<n>` (RFC 5255).
            I18nLevel(u32),
            /// A capability the model does not know, kept as its atom.
            Other(Atom),
        }

        impl Capability {
            /// Recognise a capability from its wire atom.
            pub fn from_atom(atom: Atom) -> Self {
                let b = atom.as_bytes();
                $( if b.eq_ignore_ascii_case($name.as_bytes()) { return Self::$variant; } )*
                if let Some(eq) = b.iter().position(|&c| c == b'=') {
                    let (key, value) = (&b[..eq], &b[eq + 1..]);
                    let value_atom = || Atom::try_from(atom.to_bytes().slice(eq + 1..)).ok();
                    if key.eq_ignore_ascii_case(b"AUTH") {
                        if let Some(a) = value_atom() {
                            return Self::Auth(AuthMechanism::from_atom(a));
                        }
                    } else if key.eq_ignore_ascii_case(b"COMPRESS") {
                        if let Some(a) = value_atom() { return Self::Compress(a); }
                    } else if key.eq_ignore_ascii_case(b"THREAD") {
                        if let Some(a) = value_atom() { return Self::Thread(a); }
                    } else if key.eq_ignore_ascii_case(b"RIGHTS") {
                        if let Some(a) = value_atom() { return Self::Rights(a); }
                    } else if key.eq_ignore_ascii_case(b"QUOTA") && value.len() > 4
                        && value[..4].eq_ignore_ascii_case(b"RES-") {
                        if let Ok(a) = Atom::try_from(atom.to_bytes().slice(eq + 5..)) {
                            return Self::QuotaRes(a);
                        }
                    } else if key.eq_ignore_ascii_case(b"APPENDLIMIT") {
                        if let Some(n) = parse_canonical_u64(value) { return Self::AppendLimit(Some(n)); }
                    } else if key.eq_ignore_ascii_case(b"I18NLEVEL") {
                        if let Some(n) = parse_canonical_u64(value).and_then(|n| u32::try_from(n).ok()) {
                            return Self::I18nLevel(n);
                        }
                    }
                } else if b.eq_ignore_ascii_case(b"APPENDLIMIT") {
                    return Self::AppendLimit(None);
                }
                Self::Other(atom)
            }

            /// The fixed name of a parameterless capability.
            pub fn static_name(&self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => Some($name), )*
                    _ => None,
                }
            }
        }
    };
}

/// A decimal number without leading zeros (so that it re-encodes identically).
fn parse_canonical_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

capabilities! {
    /// `IMAP4rev1` (RFC 3501).
    Imap4Rev1 => "IMAP4rev1",
    /// `IMAP4rev2` (RFC 9051).
    Imap4Rev2 => "IMAP4rev2",
    /// `STARTTLS`.
    StartTls => "STARTTLS",
    /// `LOGINDISABLED`.
    LoginDisabled => "LOGINDISABLED",
    /// `IDLE` (RFC 2177).
    Idle => "IDLE",
    /// `LITERAL+` (RFC 7888).
    LiteralPlus => "LITERAL+",
    /// `LITERAL-` (RFC 7888).
    LiteralMinus => "LITERAL-",
    /// `UIDPLUS` (RFC 4315).
    UidPlus => "UIDPLUS",
    /// `MOVE` (RFC 6851).
    Move => "MOVE",
    /// `CONDSTORE` (RFC 7162).
    CondStore => "CONDSTORE",
    /// `QRESYNC` (RFC 7162).
    QResync => "QRESYNC",
    /// `ENABLE` (RFC 5161).
    Enable => "ENABLE",
    /// `NAMESPACE` (RFC 2342).
    Namespace => "NAMESPACE",
    /// `ID` (RFC 2971).
    Id => "ID",
    /// `UNSELECT` (RFC 3691).
    Unselect => "UNSELECT",
    /// `SASL-IR` (RFC 4959).
    SaslIr => "SASL-IR",
    /// `ESEARCH` (RFC 4731).
    ESearch => "ESEARCH",
    /// `SEARCHRES` (RFC 5182).
    SearchRes => "SEARCHRES",
    /// `LIST-EXTENDED` (RFC 5258).
    ListExtended => "LIST-EXTENDED",
    /// `LIST-STATUS` (RFC 5819).
    ListStatus => "LIST-STATUS",
    /// `CHILDREN` (RFC 3348).
    Children => "CHILDREN",
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse => "SPECIAL-USE",
    /// `CREATE-SPECIAL-USE` (RFC 6154).
    CreateSpecialUse => "CREATE-SPECIAL-USE",
    /// `BINARY` (RFC 3516).
    Binary => "BINARY",
    /// `MULTIAPPEND` (RFC 3502).
    MultiAppend => "MULTIAPPEND",
    /// `QUOTA` (RFC 9208).
    Quota => "QUOTA",
    /// `QUOTASET` (RFC 9208).
    QuotaSet => "QUOTASET",
    /// `SORT` (RFC 5256).
    Sort => "SORT",
    /// `SORT=DISPLAY` (RFC 5957).
    SortDisplay => "SORT=DISPLAY",
    /// `ESORT` (RFC 5267).
    ESort => "ESORT",
    /// `CONTEXT=SEARCH` (RFC 5267).
    ContextSearch => "CONTEXT=SEARCH",
    /// `CONTEXT=SORT` (RFC 5267).
    ContextSort => "CONTEXT=SORT",
    /// `METADATA` (RFC 5464).
    Metadata => "METADATA",
    /// `METADATA-SERVER` (RFC 5464).
    MetadataServer => "METADATA-SERVER",
    /// `NOTIFY` (RFC 5465).
    Notify => "NOTIFY",
    /// `STATUS=SIZE` (RFC 8438).
    StatusSize => "STATUS=SIZE",
    /// `SAVEDATE` (RFC 8514).
    SaveDate => "SAVEDATE",
    /// `OBJECTID` (RFC 8474).
    ObjectId => "OBJECTID",
    /// `PREVIEW` (RFC 8970).
    Preview => "PREVIEW",
    /// `WITHIN` (RFC 5032).
    Within => "WITHIN",
    /// `UTF8=ACCEPT` (RFC 6855).
    Utf8Accept => "UTF8=ACCEPT",
    /// `UTF8=ONLY` (RFC 6855).
    Utf8Only => "UTF8=ONLY",
    /// `UNAUTHENTICATE` (RFC 8437).
    Unauthenticate => "UNAUTHENTICATE",
    /// `ACL` (RFC 4314).
    Acl => "ACL",
    /// `CATENATE` (RFC 4469).
    Catenate => "CATENATE",
    /// `URLAUTH` (RFC 4467).
    Urlauth => "URLAUTH",
    /// `URLAUTH=BINARY` (RFC 5524).
    UrlauthBinary => "URLAUTH=BINARY",
    /// `UIDONLY` (RFC 9586).
    UidOnly => "UIDONLY",
    /// `REPLACE` (RFC 8508).
    Replace => "REPLACE",
    /// `X-GM-EXT-1` (Gmail's extensions).
    XGmExt1 => "X-GM-EXT-1",
    /// `XLIST` (Gmail's legacy special-use listing).
    XList => "XLIST",
}

impl Capability {
    /// The wire atom.
    pub fn to_wire(&self) -> Bytes {
        if let Some(s) = self.static_name() {
            return Bytes::from_static(s.as_bytes());
        }
        let s = match self {
            Self::Auth(m) => format!("AUTH={m}"),
            Self::Compress(a) => format!("COMPRESS={}", lossy(a)),
            Self::Thread(a) => format!("THREAD={}", lossy(a)),
            Self::AppendLimit(None) => "APPENDLIMIT".to_owned(),
            Self::AppendLimit(Some(n)) => format!("APPENDLIMIT={n}"),
            Self::Rights(a) => format!("RIGHTS={}", lossy(a)),
            Self::QuotaRes(a) => format!("QUOTA=RES-{}", lossy(a)),
            Self::I18nLevel(n) => format!("I18NLEVEL={n}"),
            Self::Other(a) => return a.to_bytes(),
            _ => unreachable!("every parameterless capability has a static name"),
        };
        Bytes::from(s)
    }
}

fn lossy(a: &Atom) -> String {
    String::from_utf8_lossy(a.as_bytes()).into_owned()
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_wire()))
    }
}

impl fmt::Debug for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Capability({self})")
    }
}

impl TryFrom<&str> for Capability {
    type Error = crate::ValidationError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Ok(Self::from_atom(Atom::try_from(s)?))
    }
}

/// A SASL mechanism name (RFC 4422), as in `AUTHENTICATE` and `AUTH=`.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login).
    Login,
    /// `XOAUTH2` (Google).
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628).
    OAuthBearer,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `EXTERNAL` (RFC 4422 App. A).
    External,
    /// `ANONYMOUS` (RFC 4505).
    Anonymous,
    /// `CRAM-MD5` (RFC 2195).
    CramMd5,
    /// Any other mechanism.
    Other(Atom),
}

impl AuthMechanism {
    const TABLE: [(&'static str, Self); 9] = [
        ("PLAIN", Self::Plain),
        ("LOGIN", Self::Login),
        ("XOAUTH2", Self::XOAuth2),
        ("OAUTHBEARER", Self::OAuthBearer),
        ("SCRAM-SHA-1", Self::ScramSha1),
        ("SCRAM-SHA-256", Self::ScramSha256),
        ("EXTERNAL", Self::External),
        ("ANONYMOUS", Self::Anonymous),
        ("CRAM-MD5", Self::CramMd5),
    ];
    /// Recognise a mechanism case-insensitively.
    pub fn from_atom(atom: Atom) -> Self {
        for (name, m) in Self::TABLE {
            if atom.as_bytes().eq_ignore_ascii_case(name.as_bytes()) {
                return m;
            }
        }
        Self::Other(atom)
    }
    /// The wire name.
    pub fn as_bytes(&self) -> &[u8] {
        for (name, m) in &Self::TABLE {
            if m == self {
                return name.as_bytes();
            }
        }
        match self {
            Self::Other(a) => a.as_bytes(),
            _ => unreachable!("every known mechanism is in the table"),
        }
    }
}

impl fmt::Display for AuthMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for AuthMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthMechanism({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises() {
        let c = |s: &str| Capability::try_from(s).unwrap();
        assert_eq!(c("imap4REV1"), Capability::Imap4Rev1);
        assert_eq!(c("AUTH=plain"), Capability::Auth(AuthMechanism::Plain));
        assert_eq!(
            c("APPENDLIMIT=35651584"),
            Capability::AppendLimit(Some(35651584))
        );
        assert_eq!(c("APPENDLIMIT"), Capability::AppendLimit(None));
        assert_eq!(c("QUOTA=RES-STORAGE").to_string(), "QUOTA=RES-STORAGE");
        assert_eq!(c("X-FOO").to_string(), "X-FOO");
        assert!(matches!(c("APPENDLIMIT=01"), Capability::Other(_)));
        assert_eq!(c("sort=display"), Capability::SortDisplay);
    }
}
