//! SEARCH keys (RFC 9051 §6.4.4 and extensions). Owned by the command grammar.
