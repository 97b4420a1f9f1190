//! [`Lazy`]: a value kept as the bytes it arrived as, built when first used.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use bytes::Bytes;

/// A value that a codec received and checked but has not built yet: the
/// ENVELOPE and BODYSTRUCTURE (or BODY) of a FETCH response.
///
/// Building those structures is most of the cost of decoding a mailbox sync
/// (some forty strings and a dozen allocations per message, and as many frees
/// when they are dropped unread), and many readers look at few of them: a
/// client that syncs flags and UIDs, a proxy that passes responses on. So
/// `imap-codec` checks their syntax as it decodes (a malformed ENVELOPE fails
/// the response, as before), keeps their bytes (a zero-copy slice of the
/// received message), and builds the value the first time it is read — through
/// [`Deref`] (`item.subject`), [`Lazy::get`] or [`Lazy::into_inner`]. The
/// value is then kept, so it is built at most once; a `Lazy` is [`Sync`] and
/// can be read from several threads.
///
/// Values built in code (a server answering FETCH ENVELOPE) use [`Lazy::new`]
/// or `From`, and hold no bytes.
///
/// Comparison, hashing and `Debug` use the value, so a `Lazy` from the wire
/// equals one made with [`Lazy::new`] from the same value, whatever the
/// spelling of its bytes.
///
/// ```
/// use imap_proto::{Envelope, Lazy};
/// let mut envelope = Envelope::default();
/// envelope.subject = Some("hello".try_into().unwrap());
/// let lazy = Lazy::new(envelope.clone());
/// assert_eq!(lazy.subject, envelope.subject);
/// assert!(lazy.raw().is_none());
/// assert_eq!(lazy, Lazy::from(envelope));
/// ```
pub struct Lazy<T>(State<T>);

enum State<T> {
    /// Built in code.
    Built(Box<T>),
    /// Received: the bytes, how to build the value from them, and the value
    /// once built.
    Wire {
        raw: Bytes,
        build: fn(&Bytes) -> T,
        value: OnceLock<Box<T>>,
        /// `raw` is in the encoder's own form: it may be written unchanged.
        verbatim: bool,
    },
}

impl<T> Lazy<T> {
    /// A value built in code (no wire bytes).
    pub fn new(value: T) -> Self {
        Self(State::Built(Box::new(value)))
    }

    /// A value to be built from `raw` by `build` when first read. For codecs:
    /// `raw` must be bytes the codec has checked, and `build` must return
    /// the value they spell (it has no way to report an error, and is called
    /// at most once, on first read).
    pub fn from_wire(raw: Bytes, build: fn(&Bytes) -> T) -> Self {
        Self(State::Wire {
            raw,
            build,
            value: OnceLock::new(),
            verbatim: false,
        })
    }

    /// As [`Lazy::from_wire`], for bytes that are already in the form an
    /// encoder would write for the value (a server's cache of structures it
    /// encoded itself): [`Lazy::verbatim`] offers them to encoders, which
    /// copy them instead of building and encoding the value.
    pub fn from_wire_verbatim(raw: Bytes, build: fn(&Bytes) -> T) -> Self {
        Self(State::Wire {
            raw,
            build,
            value: OnceLock::new(),
            verbatim: true,
        })
    }

    /// The value, built now if it has not been yet.
    pub fn get(&self) -> &T {
        match &self.0 {
            State::Built(value) => value,
            State::Wire {
                raw, build, value, ..
            } => value.get_or_init(|| Box::new(build(raw))),
        }
    }

    /// The value, owned (built now if it has not been yet).
    pub fn into_inner(self) -> T {
        match self.0 {
            State::Built(value) => *value,
            State::Wire {
                raw, build, value, ..
            } => match value.into_inner() {
                Some(value) => *value,
                None => build(&raw),
            },
        }
    }

    /// The value, mutably (built now if it has not been yet). The bytes it
    /// was received as are dropped: the value may no longer match them.
    pub fn get_mut(&mut self) -> &mut T {
        if let State::Wire {
            raw, build, value, ..
        } = &mut self.0
        {
            let built = value.take().unwrap_or_else(|| Box::new(build(raw)));
            self.0 = State::Built(built);
        }
        match &mut self.0 {
            State::Built(value) => value,
            // Made `Built` just above (the borrow checker cannot see it).
            State::Wire { .. } => unreachable!("a Lazy is built before it is lent mutably"),
        }
    }

    /// The bytes the value was received as (exactly as on the wire, from the
    /// opening parenthesis to the closing one), or `None` for a value built
    /// in code.
    pub fn raw(&self) -> Option<&Bytes> {
        match &self.0 {
            State::Built(_) => None,
            State::Wire { raw, .. } => Some(raw),
        }
    }

    /// The bytes to write for this value unchanged, when it was made with
    /// [`Lazy::from_wire_verbatim`] (whether or not it has been built since).
    pub fn verbatim(&self) -> Option<&Bytes> {
        match &self.0 {
            State::Wire {
                raw,
                verbatim: true,
                ..
            } => Some(raw),
            _ => None,
        }
    }

    /// Whether the value has been built (always true for [`Lazy::new`]).
    pub fn is_built(&self) -> bool {
        match &self.0 {
            State::Built(_) => true,
            State::Wire { value, .. } => value.get().is_some(),
        }
    }
}

impl<T> From<Box<T>> for Lazy<T> {
    fn from(value: Box<T>) -> Self {
        Self(State::Built(value))
    }
}

impl<T> From<T> for Lazy<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T> Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

impl<T> DerefMut for Lazy<T> {
    /// See [`Lazy::get_mut`]: the received bytes are dropped.
    fn deref_mut(&mut self) -> &mut T {
        self.get_mut()
    }
}

impl<T> AsRef<T> for Lazy<T> {
    fn as_ref(&self) -> &T {
        self.get()
    }
}

impl<T: Clone> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Self(match &self.0 {
            State::Built(value) => State::Built(value.clone()),
            State::Wire {
                raw,
                build,
                value,
                verbatim,
            } => State::Wire {
                raw: raw.clone(),
                build: *build,
                value: match value.get() {
                    Some(value) => OnceLock::from(value.clone()),
                    None => OnceLock::new(),
                },
                verbatim: *verbatim,
            },
        })
    }
}

impl<T: PartialEq> PartialEq for Lazy<T> {
    fn eq(&self, other: &Self) -> bool {
        if let (Some(a), Some(b)) = (self.raw(), other.raw()) {
            if a == b && !self.is_built() && !other.is_built() {
                return true;
            }
        }
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for Lazy<T> {}

impl<T: Hash> Hash for Lazy<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.get().hash(state);
    }
}

impl<T: fmt::Debug> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl<T: Default> Default for Lazy<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length(raw: &Bytes) -> usize {
        raw.len()
    }

    #[test]
    fn built_once_from_the_bytes() {
        let lazy = Lazy::from_wire(Bytes::from_static(b"(abc)"), length);
        assert!(!lazy.is_built());
        assert_eq!(*lazy, 5);
        assert!(lazy.is_built());
        assert_eq!(lazy.raw().map(|r| &r[..]), Some(&b"(abc)"[..]));
        assert_eq!(lazy.clone().into_inner(), 5);
        assert_eq!(
            Lazy::from_wire(Bytes::from_static(b"xy"), length).into_inner(),
            2
        );
    }

    #[test]
    fn mutable_access_builds_and_drops_the_bytes() {
        let mut lazy = Lazy::from_wire(Bytes::from_static(b"(abc)"), length);
        *lazy += 1;
        assert_eq!(*lazy, 6);
        assert!(lazy.is_built() && lazy.raw().is_none());
        let mut built = Lazy::new(1);
        *built.get_mut() = 2;
        assert_eq!(built.into_inner(), 2);
    }

    #[test]
    fn equality_is_by_value() {
        let wire = Lazy::from_wire(Bytes::from_static(b"(abc)"), length);
        assert_eq!(wire, Lazy::new(5));
        assert_ne!(wire, Lazy::new(4));
        // Same bytes compare equal without building either value.
        let a = Lazy::from_wire(Bytes::from_static(b"(x)"), length);
        let b = Lazy::from_wire(Bytes::from_static(b"(x)"), length);
        assert_eq!(a, b);
        assert!(!a.is_built() && !b.is_built());
        assert_eq!(format!("{wire:?}"), "5");
    }
}
