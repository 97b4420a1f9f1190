//! The schema and its migrations.
//!
//! | table | one row per | what it holds |
//! |---|---|---|
//! | `imap_schema` | applied migration | `version`, when applied |
//! | `imap_users` | user | `id`, `name` |
//! | `imap_mailboxes` | mailbox | name (bytes), UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, the `\Recent` watermark, special-use, keywords in use |
//! | `imap_blobs` | distinct message body | SHA-256 `hash`, the bytes, the ENVELOPE/BODY/BODYSTRUCTURE cache (wire form) |
//! | `imap_messages` | message in a mailbox | UID, MODSEQ, flags, INTERNALDATE, size, `blob` hash, save date, EMAILID |
//! | `imap_expunged` | expunged UID | the MODSEQ of its expunge (the QRESYNC tombstone) |
//! | `imap_subscriptions` | subscribed name | |
//! | `imap_metadata` | METADATA entry | of a mailbox, or of the server (`mailbox_id` NULL) |
//! | `imap_urlauth_keys` | mailbox with a URLAUTH key | the key and the UIDVALIDITY it is bound to |
//! | `imap_credentials` | password or app password | `id`, `user_name`, `label` (NULL for the user's password), the `{SCHEME}hash` string, `created_at` |
//!
//! Invariants: a mailbox row is the lock of its messages (every change to a
//! mailbox's messages first updates or locks its row, so UIDs and MODSEQs are
//! allocated in the writing transaction and two writers of one mailbox never
//! interleave); a user row is the lock of the mailbox list (CREATE, DELETE,
//! RENAME). UIDVALIDITY comes from one database-wide sequence (started at the
//! time the schema was made), so a mailbox made again gets a larger one; EMAILIDs and mailbox ids are sequences too,
//! never reused. A body is stored once per content hash; COPY adds a message
//! row pointing at the same blob. A credential's `id` names exactly one hash:
//! an UPDATE that changes the hash, user or label gives the row a new id (a
//! trigger), and a trigger announces on the `imap_credentials` channel the
//! old id of every row deleted or so renewed, so that sessions opened with
//! it end on every node (see the `auth` module).
//!
//! Migrations run at start-up, each in its own transaction, under an advisory
//! lock so that nodes starting together apply each exactly once. A database
//! whose schema is newer than this program is refused.

use postgres::Client;

/// The advisory-lock key migrations hold (an arbitrary constant: "imap-rs").
const MIGRATION_LOCK: i64 = 0x0069_6d61_702d_7273;

/// The migrations, in order; the version of the `n`th is `n + 1`. Never edit
/// one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r"
CREATE TABLE imap_users (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);
CREATE SEQUENCE imap_uid_validity AS bigint MINVALUE 1 MAXVALUE 4294967295;
-- UIDVALIDITY starts at the creation time, so a database made again (say,
-- after a wipe) does not hand out the values a client has cached.
SELECT setval('imap_uid_validity', extract(epoch FROM now())::bigint);
CREATE SEQUENCE imap_email_id AS bigint MINVALUE 1;
CREATE TABLE imap_mailboxes (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES imap_users (id) ON DELETE CASCADE,
    name bytea NOT NULL,
    uid_validity bigint NOT NULL,
    uid_next bigint NOT NULL DEFAULT 1,
    highest_modseq bigint NOT NULL DEFAULT 1,
    recent_from bigint NOT NULL DEFAULT 1,
    special_use text,
    keywords text[] NOT NULL DEFAULT '{}',
    UNIQUE (user_id, name)
);
CREATE TABLE imap_blobs (
    hash bytea PRIMARY KEY,
    data bytea NOT NULL,
    envelope bytea,
    body bytea,
    body_structure bytea
);
CREATE TABLE imap_messages (
    mailbox_id bigint NOT NULL REFERENCES imap_mailboxes (id) ON DELETE CASCADE,
    uid bigint NOT NULL,
    modseq bigint NOT NULL,
    flags text[] NOT NULL DEFAULT '{}',
    internal_date bigint NOT NULL,
    zone smallint NOT NULL,
    size bigint NOT NULL,
    blob bytea NOT NULL REFERENCES imap_blobs (hash),
    save_date bigint NOT NULL,
    email_id bigint NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX imap_messages_modseq ON imap_messages (mailbox_id, modseq);
CREATE INDEX imap_messages_blob ON imap_messages (blob);
CREATE TABLE imap_expunged (
    mailbox_id bigint NOT NULL REFERENCES imap_mailboxes (id) ON DELETE CASCADE,
    uid bigint NOT NULL,
    modseq bigint NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX imap_expunged_modseq ON imap_expunged (mailbox_id, modseq);
CREATE TABLE imap_subscriptions (
    user_id bigint NOT NULL REFERENCES imap_users (id) ON DELETE CASCADE,
    name bytea NOT NULL,
    PRIMARY KEY (user_id, name)
);
CREATE TABLE imap_metadata (
    user_id bigint NOT NULL REFERENCES imap_users (id) ON DELETE CASCADE,
    mailbox_id bigint REFERENCES imap_mailboxes (id) ON DELETE CASCADE,
    entry text NOT NULL,
    value bytea NOT NULL
);
CREATE UNIQUE INDEX imap_metadata_key ON imap_metadata (user_id, COALESCE(mailbox_id, 0), entry);
",
    // 2: URLAUTH keys (RFC 4467 §7), one per mailbox, bound to its
    // UIDVALIDITY; they go with the mailbox.
    r"
CREATE TABLE imap_urlauth_keys (
    mailbox_id bigint PRIMARY KEY REFERENCES imap_mailboxes (id) ON DELETE CASCADE,
    uid_validity bigint NOT NULL,
    key bytea NOT NULL
);
",
    // 3: credentials (the user's password and app passwords) for
    // PgAuthenticator; a removed or changed one is announced to every node.
    r"
CREATE TABLE imap_credentials (
    id bigserial PRIMARY KEY,
    user_name text NOT NULL CHECK (user_name <> ''),
    label text CHECK (label <> ''),
    hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_name, label)
);
-- One password (label NULL) per user; UNIQUE above treats NULLs as distinct.
CREATE UNIQUE INDEX imap_credentials_password ON imap_credentials (user_name)
    WHERE label IS NULL;
-- A new hash is a new credential: the sessions of the old one must end.
CREATE FUNCTION imap_credentials_renew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hash IS DISTINCT FROM OLD.hash
        OR NEW.user_name IS DISTINCT FROM OLD.user_name
        OR NEW.label IS DISTINCT FROM OLD.label THEN
        NEW.id := nextval(pg_get_serial_sequence('imap_credentials', 'id'));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER imap_credentials_renew BEFORE UPDATE ON imap_credentials
    FOR EACH ROW EXECUTE PROCEDURE imap_credentials_renew();
CREATE FUNCTION imap_credentials_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.id <> OLD.id THEN
        PERFORM pg_notify('imap_credentials', OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER imap_credentials_gone AFTER UPDATE OR DELETE ON imap_credentials
    FOR EACH ROW EXECUTE PROCEDURE imap_credentials_gone();
CREATE FUNCTION imap_credentials_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('imap_credentials', '*');
    RETURN NULL;
END
$$;
CREATE TRIGGER imap_credentials_truncated AFTER TRUNCATE ON imap_credentials
    FOR EACH STATEMENT EXECUTE PROCEDURE imap_credentials_truncated();
",
];

/// The schema version this program writes and reads.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// A statement failed.
    #[error("schema migration failed: {0}")]
    Database(#[from] postgres::Error),
    /// The database was migrated by a newer program.
    #[error("the database schema is version {found}, newer than this program's {SCHEMA_VERSION}")]
    TooNew {
        /// The version found.
        found: i32,
    },
    /// `imap_schema` holds a version no program writes (below 0).
    #[error("the database schema is version {found}, which is not a version")]
    Damaged {
        /// The version found.
        found: i32,
    },
}

/// Apply the migrations the database lacks; returns the version it is at.
pub(crate) fn migrate(client: &mut Client) -> Result<i32, MigrationError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let r = migrate_locked(client);
    let unlock = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    let v = r?;
    unlock?;
    Ok(v)
}

fn migrate_locked(client: &mut Client) -> Result<i32, MigrationError> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS imap_schema (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )?;
    let row = client.query_one("SELECT COALESCE(max(version), 0) FROM imap_schema", &[])?;
    let found: i32 = row.try_get(0)?;
    if found > SCHEMA_VERSION {
        return Err(MigrationError::TooNew { found });
    }
    let applied = usize::try_from(found).map_err(|_| MigrationError::Damaged { found })?;
    for (version, sql) in (1_i32..).zip(MIGRATIONS).skip(applied) {
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute("INSERT INTO imap_schema (version) VALUES ($1)", &[&version])?;
        tx.commit()?;
    }
    Ok(SCHEMA_VERSION)
}
