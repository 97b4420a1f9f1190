//! Runtime configuration: limits and leniency (quirks).

/// Size and shape limits. Every limit is enforced before memory is committed:
/// an over-long line or an over-large literal is refused when it is announced or
/// when the limit is crossed, never after buffering it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest line (bytes up to and including CRLF, literals excluded).
    pub max_line: usize,
    /// Largest single literal.
    pub max_literal: u64,
    /// Largest whole message: all lines and literals of one command or response.
    pub max_message: u64,
    /// Most literals in one message.
    pub max_literals: usize,
    /// Deepest nesting of parenthesised lists (BODYSTRUCTURE, SEARCH keys).
    pub max_depth: usize,
    /// Most items in one list (flags, sequence ranges, search results…).
    pub max_list_items: usize,
    /// Largest non-synchronising literal (`{n+}`) a client may send; a larger
    /// one refuses the command (its data is read and dropped). A server
    /// offering LITERAL- sets [`LiteralPolicy::MINUS_MAX`] (RFC 7888 §4);
    /// `u64::MAX` (the default) for LITERAL+.
    pub max_non_sync_literal: u64,
}

impl Limits {
    /// Default line limit when decoding commands: 64 KiB, as Dovecot (RFC 7162 §4
    /// asks for at least 8192 octets).
    pub const COMMAND_MAX_LINE: usize = 64 * 1024;
    /// Default literal limit when decoding commands: 64 MiB (APPEND).
    pub const COMMAND_MAX_LITERAL: u64 = 64 * 1024 * 1024;
    /// Default line limit when decoding responses: 16 MiB (long SEARCH/THREAD lines).
    pub const RESPONSE_MAX_LINE: usize = 16 * 1024 * 1024;
    /// Default literal limit when decoding responses: 256 MiB (BODY[] of big mail).
    pub const RESPONSE_MAX_LITERAL: u64 = 256 * 1024 * 1024;
    /// Default limit on literals per message: 1000 (mox's bound; CVE-2024-34055).
    pub const MAX_LITERALS: usize = 1000;
    /// Default nesting limit: 64.
    pub const MAX_DEPTH: usize = 64;
    /// Default limit on items per list: 1,048,576.
    pub const MAX_LIST_ITEMS: usize = 1 << 20;

    /// Limits for a server decoding client commands.
    pub fn commands() -> Self {
        Self {
            max_line: Self::COMMAND_MAX_LINE,
            max_literal: Self::COMMAND_MAX_LITERAL,
            max_message: Self::COMMAND_MAX_LITERAL + 1024 * 1024,
            max_literals: Self::MAX_LITERALS,
            max_depth: Self::MAX_DEPTH,
            max_list_items: Self::MAX_LIST_ITEMS,
            max_non_sync_literal: u64::MAX,
        }
    }

    /// Limits for a client decoding server responses.
    pub fn responses() -> Self {
        Self {
            max_line: Self::RESPONSE_MAX_LINE,
            max_literal: Self::RESPONSE_MAX_LITERAL,
            max_message: 2 * Self::RESPONSE_MAX_LITERAL,
            max_literals: 100_000,
            max_depth: Self::MAX_DEPTH,
            max_list_items: Self::MAX_LIST_ITEMS,
            max_non_sync_literal: u64::MAX,
        }
    }
}

/// Real-world deviations from the grammar that the decoder tolerates. All are on
/// by default (see ANCHORS part 2 §3 for where each was seen); turn them off for a
/// strict decoder. Encoding is always strict, whatever these say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quirks {
    /// Accept two or more spaces where one is required (SurgeMail, async-imap #131).
    pub extra_spaces: bool,
    /// Accept a space before CRLF or before `)` (imap-proto #190), and just
    /// after the `(` of a list (aioimaplib 2.0.3 sends `ID ( "name" "x" )`).
    pub trailing_space: bool,
    /// Accept a status response without text, `* OK` (Gmail, defects #28).
    pub missing_text: bool,
    /// Accept `STATUS INBOX ()` and other empty lists where one item is required
    /// (163.com, defects #15; Exchange `ID ()`, defects #13).
    pub empty_lists: bool,
    /// Accept NIL as a body parameter value, `("boundary" NIL)` (Mail.ru, imap-codec
    /// #700), read as an empty string.
    pub nil_param_value: bool,
    /// Accept 8-bit bytes in quoted strings (Proton Bridge, defects #38).
    pub eight_bit_quoted: bool,
    /// Accept a bare LF as a line ending (Dovecot and go-imap do).
    pub bare_lf: bool,
    /// Accept `+` without a following space as a continuation request.
    pub bare_continuation: bool,
    /// Accept descending or otherwise unusual sequence ranges in responses (QQ,
    /// defects #40). RFC 9051 allows `4:2`; this also accepts `*:n`.
    pub descending_ranges: bool,
    /// Accept `\*` in a `* FLAGS` list, where only PERMANENTFLAGS allows it
    /// (SurgeMail, Courier); it is dropped.
    pub star_in_flags: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            extra_spaces: true,
            trailing_space: true,
            missing_text: true,
            empty_lists: true,
            nil_param_value: true,
            eight_bit_quoted: true,
            bare_lf: true,
            bare_continuation: true,
            descending_ranges: true,
            star_in_flags: true,
        }
    }
}

impl Quirks {
    /// No leniency: the grammar of RFC 9051 / RFC 3501 as written.
    pub fn strict() -> Self {
        Self {
            extra_spaces: false,
            trailing_space: false,
            missing_text: false,
            empty_lists: false,
            nil_param_value: false,
            eight_bit_quoted: false,
            bare_lf: false,
            bare_continuation: false,
            descending_ranges: false,
            star_in_flags: false,
        }
    }
}

/// Everything that changes how bytes are decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeConfig {
    /// Size limits.
    pub limits: Limits,
    /// Tolerated deviations.
    pub quirks: Quirks,
    /// Mailbox names are UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled) rather than
    /// modified UTF-7.
    pub utf8_mailboxes: bool,
    /// How the ENVELOPE, BODY and BODYSTRUCTURE of a FETCH response are
    /// decoded into their [`Lazy`](imap_proto::Lazy) values. `true` (the
    /// default): their syntax is checked and their bytes kept; each is built
    /// the first time it is read. This is fastest when few are read (a sync
    /// of flags, a proxy): decoding a sync stream costs about a third less.
    /// `false`: built while decoding, in the same pass. This is fastest when
    /// every one is read (a client listing a mailbox): checking first and
    /// building later walks the bytes twice, about half again the cost. The
    /// values and the errors are the same either way.
    pub defer_structures: bool,
}

impl DecodeConfig {
    /// Defaults for a server decoding commands.
    pub fn commands() -> Self {
        Self {
            limits: Limits::commands(),
            quirks: Quirks::default(),
            utf8_mailboxes: false,
            defer_structures: true,
        }
    }
    /// Defaults for a client decoding responses.
    pub fn responses() -> Self {
        Self {
            limits: Limits::responses(),
            quirks: Quirks::default(),
            utf8_mailboxes: false,
            defer_structures: true,
        }
    }
}

/// How a client may send literals, from the server's capabilities (RFC 7888).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LiteralPolicy {
    /// Only synchronising literals `{n}`: wait for `+` before each.
    #[default]
    Sync,
    /// `LITERAL+`: every literal may be `{n+}`.
    Plus,
    /// `LITERAL-`: literals up to 4096 bytes may be `{n+}`.
    Minus,
}

impl LiteralPolicy {
    /// The largest literal LITERAL- allows without synchronising (RFC 7888 §5).
    pub const MINUS_MAX: usize = 4096;

    /// Whether a literal of `len` bytes may be sent without waiting.
    pub fn non_sync(self, len: usize) -> bool {
        match self {
            Self::Sync => false,
            Self::Plus => true,
            Self::Minus => len <= Self::MINUS_MAX,
        }
    }
}

/// Everything that changes how values are encoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EncodeConfig {
    /// Mailbox names as UTF-8 rather than modified UTF-7.
    pub utf8_mailboxes: bool,
    /// Allow UTF-8 in quoted strings (IMAP4rev2 / UTF8=ACCEPT); otherwise 8-bit
    /// strings go out as literals.
    pub utf8_quoted: bool,
    /// Which literals a client may send without waiting (commands only).
    pub literals: LiteralPolicy,
}
