//! A wrapper that keeps passwords and SASL data out of logs.

use std::fmt;

/// A value whose `Debug` output is redacted (passwords, SASL responses).
///
/// Use [`Secret::expose`] to get at the value deliberately.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wrap a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The wrapped value.
    pub fn expose(&self) -> &T {
        &self.0
    }
    /// Unwrap the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(/* redacted */)")
    }
}
