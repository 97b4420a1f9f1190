//! Storage quotas (RFC 9208): limits per user, usage, and the check that
//! APPEND-like paths call before they store anything.
//!
//! # Design
//!
//! - **One quota root per user**, named [`QUOTA_ROOT`] (`"User quota"`, the
//!   name Dovecot 2.3's quota plugin gives it in its usual configuration
//!   `quota = count:User quota`). Every mailbox of the user is under it, so a
//!   MOVE between two of them never changes usage, and a COPY adds the size
//!   of the copies.
//! - **Usage comes from the store** ([`Mailstore::quota_usage`]), which must
//!   count every message it holds, including mail another program delivered
//!   (a Maildir's `new/`). Stores keep no separate usage counter: the Maildir
//!   store sums what its folder scan found, so a crash between writing a
//!   message and updating any index cannot leave usage wrong.
//! - **Limits come from configuration**, through [`QuotaPolicy`] in
//!   [`ServerConfig::quota`](crate::ServerConfig::quota). Limits are a policy
//!   of the server, not a property of the mail, so they live beside the
//!   authenticator rather than in the store: the same policy works over every
//!   backend, and a driver can build it from command-line defaults and
//!   per-user fields of its users file ([`StaticQuota`], [`parse_size`]).
//! - The session advertises `QUOTA` only when the store counts usage
//!   ([`StoreFeatures::quota`](crate::StoreFeatures::quota)) **and** a policy
//!   is configured.
//! - Delivery by other programs is not checked (as Dovecot accepts delivery
//!   over quota when told to); the next APPEND then fails with `[OVERQUOTA]`.
//! - The check and the store are separate calls, so two sessions of one user
//!   appending at the same moment may together pass a limit by at most what
//!   each of them added; usage stays exact.
//!
//! [`Mailstore::quota_usage`]: crate::Mailstore::quota_usage

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use crate::store::{StoreError, StoreErrorKind};

/// The name of the one quota root every user has (RFC 9208 §3: a quota root
/// is a named set of resources and limits).
pub const QUOTA_ROOT: &str = "User quota";

/// The unit of the `STORAGE` resource: 1024 octets (RFC 9208 §5.1).
pub const STORAGE_UNIT: u64 = 1024;

/// The text of `NO [OVERQUOTA]`, as Dovecot words it.
pub const OVERQUOTA_TEXT: &str = "Quota exceeded (mailbox for user is full)";

/// A user's limits. `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QuotaLimits {
    /// Total size of the user's messages, in octets (`STORAGE`, RFC 9208
    /// §5.1, which the protocol shows in units of 1024 octets).
    pub storage: Option<u64>,
    /// Number of the user's messages (`MESSAGE`, RFC 9208 §5.2).
    pub messages: Option<u64>,
    /// Number of the user's mailboxes, INBOX included (`MAILBOX`, RFC 9208
    /// §5.3): a CREATE beyond it fails with `NO [OVERQUOTA]`.
    pub mailboxes: Option<u64>,
}

impl QuotaLimits {
    /// No limit at all.
    pub const NONE: Self = Self {
        storage: None,
        messages: None,
        mailboxes: None,
    };

    /// Whether no resource is limited.
    pub fn is_unlimited(&self) -> bool {
        self.storage.is_none() && self.messages.is_none() && self.mailboxes.is_none()
    }

    /// `self`, with each limit `other` sets replacing this one's (per-user
    /// overrides over server defaults).
    pub fn overridden_by(self, other: Self) -> Self {
        Self {
            storage: other.storage.or(self.storage),
            messages: other.messages.or(self.messages),
            mailboxes: other.mailboxes.or(self.mailboxes),
        }
    }
}

/// What a user's mail takes up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QuotaUsage {
    /// Total size of the messages in octets (RFC822.SIZE summed).
    pub storage: u64,
    /// Number of messages.
    pub messages: u64,
}

impl QuotaUsage {
    /// `self + other`, saturating.
    pub fn plus(self, other: Self) -> Self {
        Self {
            storage: self.storage.saturating_add(other.storage),
            messages: self.messages.saturating_add(other.messages),
        }
    }
}

/// Where the session finds each user's limits, and the administrator hook for
/// SETQUOTA (RFC 9208 §4.1.3).
///
/// Implementations must be cheap: [`QuotaPolicy::limits`] is called on every
/// APPEND, COPY and GETQUOTA.
pub trait QuotaPolicy: fmt::Debug + Send + Sync {
    /// The limits of `user`.
    fn limits(&self, user: &str) -> QuotaLimits;

    /// Whether `user` may change limits with SETQUOTA (advertised as
    /// `QUOTASET`, RFC 9208 §3.1). The default: nobody.
    fn can_set(&self, user: &str) -> bool {
        let _ = user;
        false
    }

    /// SETQUOTA by `user` on its quota root: replace its limits with `limits`
    /// (RFC 9208 §4.1.3: resources not named lose their limit). The default
    /// refuses with [`StoreErrorKind::NoPermission`], as Dovecot does
    /// ("Quota can be changed only by admin").
    fn set_limits(&self, user: &str, limits: QuotaLimits) -> Result<(), StoreError> {
        let _ = (user, limits);
        Err(StoreError::new(
            StoreErrorKind::NoPermission,
            "Quota can be changed only by admin",
        ))
    }
}

/// A [`QuotaPolicy`] from configuration: default limits, per-user overrides,
/// and optionally users allowed to change their own limits with SETQUOTA (an
/// administrator hook; changes are kept in memory only).
#[derive(Debug, Default)]
pub struct StaticQuota {
    default: QuotaLimits,
    users: RwLock<HashMap<String, QuotaLimits>>,
    admins: Vec<String>,
}

impl StaticQuota {
    /// A policy giving every user `default` (e.g. from `--quota-storage` and
    /// `--quota-messages`).
    pub fn new(default: QuotaLimits) -> Self {
        Self {
            default,
            ..Self::default()
        }
    }

    /// Override some limits for `user` (e.g. `quota_storage=` and
    /// `quota_messages=` fields of the users file): each limit `limits` sets
    /// replaces the default.
    pub fn with_user(self, user: &str, limits: QuotaLimits) -> Self {
        if let Ok(mut m) = self.users.write() {
            m.insert(user.to_owned(), self.default.overridden_by(limits));
        }
        self
    }

    /// Let `user` change its limits with SETQUOTA (for administrators and
    /// tests).
    pub fn with_admin(mut self, user: &str) -> Self {
        self.admins.push(user.to_owned());
        self
    }
}

impl QuotaPolicy for StaticQuota {
    fn limits(&self, user: &str) -> QuotaLimits {
        self.users
            .read()
            .ok()
            .and_then(|m| m.get(user).copied())
            .unwrap_or(self.default)
    }

    fn can_set(&self, user: &str) -> bool {
        self.admins.iter().any(|a| a == user)
    }

    fn set_limits(&self, user: &str, limits: QuotaLimits) -> Result<(), StoreError> {
        if !self.can_set(user) {
            return QuotaPolicy::set_limits(&NoSet, user, limits);
        }
        let mut m = self
            .users
            .write()
            .map_err(|_| StoreError::new(StoreErrorKind::Internal, "quota table poisoned"))?;
        m.insert(user.to_owned(), limits);
        Ok(())
    }
}

/// A policy that only carries the default refusal of SETQUOTA.
#[derive(Debug)]
struct NoSet;

impl QuotaPolicy for NoSet {
    fn limits(&self, _: &str) -> QuotaLimits {
        QuotaLimits::NONE
    }
}

/// Fail with [`StoreErrorKind::OverQuota`] if adding `add` to `usage` would
/// pass one of `limits` (RFC 9208 §4.3: the server refuses with `[OVERQUOTA]`
/// and changes nothing). Adding nothing never fails, and mail already there
/// is never looked at again: a user over quota can still delete and expunge.
///
/// Every path that adds messages (APPEND, MULTIAPPEND as one batch, CATENATE,
/// COPY into another root) calls this with the whole batch before storing
/// any of it.
pub fn check_room(
    limits: &QuotaLimits,
    usage: &QuotaUsage,
    add: &QuotaUsage,
) -> Result<(), StoreError> {
    if add.storage == 0 && add.messages == 0 {
        return Ok(());
    }
    let after = usage.plus(*add);
    let over =
        |limit: Option<u64>, value: u64, added: u64| added > 0 && limit.is_some_and(|l| value > l);
    if over(limits.storage, after.storage, add.storage)
        || over(limits.messages, after.messages, add.messages)
    {
        return Err(StoreError::new(StoreErrorKind::OverQuota, OVERQUOTA_TEXT));
    }
    Ok(())
}

/// The largest message that would still fit: the storage room left, or
/// `None` when storage is not limited. 0 when no message fits (storage full,
/// or the message count at its limit).
pub fn room_left(limits: &QuotaLimits, usage: &QuotaUsage) -> Option<u64> {
    if limits.messages.is_some_and(|l| usage.messages >= l) {
        return Some(0);
    }
    limits.storage.map(|l| l.saturating_sub(usage.storage))
}

/// Octets in units of [`STORAGE_UNIT`], rounded up (usage).
pub fn storage_units_up(octets: u64) -> u64 {
    octets.div_ceil(STORAGE_UNIT)
}

/// Why [`parse_size`] refused a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad size {0:?}: expected a number with an optional K, M, G or T suffix (0 = no limit)")]
pub struct SizeError(pub String);

/// Parse a size as the configuration writes it: a decimal number with an
/// optional suffix `K`, `M`, `G` or `T` (powers of 1024, as Dovecot reads
/// them, case-insensitive, an optional trailing `B` allowed: `500M`, `2G`,
/// `10kB`, `1048576`). `0` means no limit and gives `None`.
pub fn parse_size(s: &str) -> Result<Option<u64>, SizeError> {
    let bad = || SizeError(s.to_owned());
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    if num.is_empty() {
        return Err(bad());
    }
    let n: u64 = num.parse().map_err(|_| bad())?;
    let suffix = suffix.to_ascii_uppercase();
    let suffix = suffix.strip_suffix('B').unwrap_or(&suffix);
    let shift = match suffix {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(bad()),
    };
    let v = n.checked_mul(1u64 << shift).ok_or_else(bad)?;
    Ok((v != 0).then_some(v))
}

/// Parse a message count: a decimal number, `0` meaning no limit.
pub fn parse_count(s: &str) -> Result<Option<u64>, SizeError> {
    let n: u64 = s.trim().parse().map_err(|_| SizeError(s.to_owned()))?;
    Ok((n != 0).then_some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(None));
        assert_eq!(parse_size("1024"), Ok(Some(1024)));
        assert_eq!(parse_size("500M"), Ok(Some(500 << 20)));
        assert_eq!(parse_size("2G"), Ok(Some(2 << 30)));
        assert_eq!(parse_size("10kB"), Ok(Some(10 << 10)));
        assert_eq!(parse_size("1t"), Ok(Some(1 << 40)));
        assert_eq!(parse_size("0G"), Ok(None));
        for bad in [
            "",
            "M",
            "-1",
            "1.5G",
            "12X",
            "1 G B",
            "99999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert!(parse_size("20000000T").is_err(), "overflow");
        assert_eq!(parse_count("0"), Ok(None));
        assert_eq!(parse_count("25"), Ok(Some(25)));
        assert!(parse_count("x").is_err());
    }

    #[test]
    fn room() {
        let l = QuotaLimits {
            storage: Some(100),
            messages: Some(3),
            mailboxes: None,
        };
        let u = QuotaUsage {
            storage: 60,
            messages: 2,
        };
        let add = |storage, messages| QuotaUsage { storage, messages };
        assert!(check_room(&l, &u, &add(40, 1)).is_ok());
        let e = check_room(&l, &u, &add(41, 1)).unwrap_err();
        assert_eq!(e.kind, StoreErrorKind::OverQuota);
        assert!(check_room(&l, &u, &add(10, 2)).is_err(), "4 messages > 3");
        assert!(check_room(&l, &u, &add(0, 0)).is_ok());
        assert_eq!(room_left(&l, &u), Some(40));
        assert_eq!(room_left(&l, &add(60, 3)), Some(0));
        assert_eq!(room_left(&QuotaLimits::NONE, &u), None);
        // Over quota already (delivery): adding fails, nothing added passes.
        let over = add(150, 1);
        assert!(check_room(&l, &over, &add(1, 1)).is_err());
        assert!(check_room(&l, &over, &add(0, 0)).is_ok());
        assert_eq!(storage_units_up(0), 0);
        assert_eq!(storage_units_up(1), 1);
        assert_eq!(storage_units_up(1024), 1);
        assert_eq!(storage_units_up(1025), 2);
    }

    #[test]
    fn static_policy() {
        let p = StaticQuota::new(QuotaLimits {
            storage: Some(1000),
            messages: None,
            mailboxes: Some(10),
        })
        .with_user(
            "bob",
            QuotaLimits {
                storage: None,
                messages: Some(5),
                mailboxes: None,
            },
        )
        .with_admin("root");
        assert_eq!(p.limits("alice").storage, Some(1000));
        assert_eq!(
            p.limits("bob"),
            QuotaLimits {
                storage: Some(1000),
                messages: Some(5),
                mailboxes: Some(10),
            }
        );
        assert_eq!(
            p.set_limits("alice", QuotaLimits::NONE).unwrap_err().kind,
            StoreErrorKind::NoPermission
        );
        assert!(p.set_limits("root", QuotaLimits::NONE).is_ok());
        assert!(p.limits("root").is_unlimited());
        assert!(!p.can_set("alice"));
        assert!(p.can_set("root"));
    }
}
