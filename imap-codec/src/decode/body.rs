//! BODYSTRUCTURE and ENVELOPE (RFC 9051 §7.5.2). Owned by the response grammar.
