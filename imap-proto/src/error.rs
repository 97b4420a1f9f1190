//! Validation errors raised by constructors.

/// Why a value was refused by a validating constructor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The value must not be empty.
    #[error("must not be empty")]
    Empty,
    /// A byte is not allowed in this kind of value.
    #[error("byte 0x{byte:02x} at index {index} is not allowed in {kind}")]
    InvalidByte {
        /// What was being built (`"atom"`, `"tag"`, …).
        kind: &'static str,
        /// The offending byte.
        byte: u8,
        /// Its index in the input.
        index: usize,
    },
    /// A number was zero where the grammar needs a non-zero number.
    #[error("must not be zero")]
    Zero,
    /// A number is out of its allowed range.
    #[error("{0} is out of range")]
    OutOfRange(&'static str),
    /// The value does not have the expected syntax.
    #[error("invalid {0}")]
    Syntax(&'static str),
}

/// Check that `bytes` is non-empty and that every byte passes `ok`.
pub(crate) fn check(
    kind: &'static str,
    bytes: &[u8],
    ok: impl Fn(u8) -> bool,
) -> Result<(), ValidationError> {
    if bytes.is_empty() {
        return Err(ValidationError::Empty);
    }
    check_bytes(kind, bytes, ok)
}

/// Check that every byte passes `ok` (the value may be empty).
pub(crate) fn check_bytes(
    kind: &'static str,
    bytes: &[u8],
    ok: impl Fn(u8) -> bool,
) -> Result<(), ValidationError> {
    match bytes.iter().position(|&b| !ok(b)) {
        Some(index) => Err(ValidationError::InvalidByte {
            kind,
            byte: bytes[index],
            index,
        }),
        None => Ok(()),
    }
}
