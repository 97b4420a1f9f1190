//! The Maildir++ store: the storage contract, persistence, interoperation
//! with other Maildir programs, repair of damaged state, the process lock,
//! and crash safety under SIGKILL.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};
use imap_server_core::{
    contract, FlagOp, MaildirStore, Mailstore, NewMessage, StoreErrorKind, Waker,
};

const U: &str = "alice";

// ---------------------------------------------------------------- helpers

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let p = std::env::temp_dir().join(format!(
            "imap-rs-maildir-{tag}-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn mbx(s: &str) -> Mailbox {
    Mailbox::from_utf8(s)
}

fn msg(data: &str, flags: &[Flag]) -> NewMessage {
    NewMessage {
        flags: flags.to_vec(),
        internal_date: (1_700_000_000, 60),
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

fn append(s: &MaildirStore, name: &str, data: &str, flags: &[Flag]) -> Uid {
    s.append(U, &mbx(name), msg(data, flags)).unwrap().1
}

fn uids(s: &MaildirStore, name: &str) -> Vec<Uid> {
    s.snapshot(U, &mbx(name))
        .unwrap()
        .messages
        .iter()
        .map(|m| m.uid)
        .collect()
}

fn flags(s: &MaildirStore, name: &str, uid: Uid) -> Vec<Flag> {
    let mut f = s.message(U, &mbx(name), uid).unwrap().entry.flags;
    f.sort_by_key(|f| f.to_string());
    f
}

fn sorted(mut f: Vec<Flag>) -> Vec<Flag> {
    f.sort_by_key(|f| f.to_string());
    f
}

/// The file names in a Maildir subdirectory (dot files left out).
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// Wait until `check` holds. A change by another program shows at once
/// when it moves the directory's time, and otherwise (same clock tick as the
/// store's own last change) at the latest [`MaildirStore::MTIME_SLACK`] later.
#[track_caller]
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let until = Instant::now() + MaildirStore::MTIME_SLACK + Duration::from_secs(1);
    while !check() {
        assert!(Instant::now() < until, "{what}: not seen in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn inbox_dir(s: &MaildirStore) -> PathBuf {
    s.mailbox_path(U, &Mailbox::inbox()).unwrap()
}

// ---------------------------------------------------------------- contract

#[test]
fn contract_suite() {
    let dirs = std::sync::Mutex::new(Vec::new());
    contract::run_all(|| {
        let dir = TempDir::new("contract");
        let store = MaildirStore::open(dir.path()).unwrap();
        dirs.lock().unwrap().push(dir);
        store
    });
}

#[test]
fn contract_without_special_folders() {
    let dirs = std::sync::Mutex::new(Vec::new());
    contract::run_all(|| {
        let dir = TempDir::new("contract-empty");
        let store = MaildirStore::open(dir.path())
            .unwrap()
            .without_special_folders();
        dirs.lock().unwrap().push(dir);
        store
    });
}

// ---------------------------------------------------------------- layout

#[test]
fn special_use_folders_and_layout() {
    let dir = TempDir::new("layout");
    {
        let s = MaildirStore::open(dir.path()).unwrap();
        let list = s.list(U).unwrap();
        let attr = |n: &str| {
            list.iter()
                .find(|i| i.name == mbx(n))
                .unwrap_or_else(|| panic!("{n} missing"))
                .attributes
                .clone()
        };
        assert!(attr("INBOX").is_empty());
        assert_eq!(attr("Sent"), vec![MailboxAttribute::Sent]);
        assert_eq!(attr("Drafts"), vec![MailboxAttribute::Drafts]);
        assert_eq!(attr("Trash"), vec![MailboxAttribute::Trash]);
        assert_eq!(attr("Junk"), vec![MailboxAttribute::Junk]);
        assert_eq!(attr("Archive"), vec![MailboxAttribute::Archive]);
        assert_eq!(list.len(), 6);
        s.create(U, &mbx("Later"), Some(MailboxAttribute::Flagged))
            .unwrap();
        for n in [
            "Lists/rust",
            "Entwürfe",
            "a.b",
            "~home",
            "x/..",
            "back\\slash",
        ] {
            s.create(U, &mbx(n), None).unwrap();
        }
        s.set_subscribed(U, &mbx("Lists/rust"), true).unwrap();
        s.set_subscribed(U, &mbx("Gone"), true).unwrap();
    }
    let user = dir.path().join(U);
    for d in [
        "cur",
        "new",
        "tmp",
        ".Sent/cur",
        ".Drafts/new",
        ".Trash/tmp",
        ".Junk/cur",
        ".Archive/cur",
        ".Lists/cur",
        ".Lists.rust/cur",
        ".Entw&APw-rfe/cur",
        ".a\\2eb/cur",
        ".\\7ehome/cur",
        ".x.\\2e\\2e/cur",
        ".back\\5cslash/cur",
    ] {
        assert!(user.join(d).is_dir(), "{d} missing");
    }
    assert!(user.join(".Lists.rust/maildirfolder").is_file());
    // Reopen: everything persisted.
    let s = MaildirStore::open(dir.path()).unwrap();
    let list = s.list(U).unwrap();
    let find = |n: &str| list.iter().find(|i| i.name == mbx(n)).cloned();
    assert_eq!(
        find("Later").unwrap().attributes,
        vec![MailboxAttribute::Flagged]
    );
    assert_eq!(
        find("Sent").unwrap().attributes,
        vec![MailboxAttribute::Sent]
    );
    for n in [
        "Lists/rust",
        "Entwürfe",
        "a.b",
        "~home",
        "x/..",
        "back\\slash",
    ] {
        assert!(find(n).is_some(), "{n} not listed after reopen");
    }
    assert!(find("Lists/rust").unwrap().subscribed);
    assert!(!find("Lists").unwrap().subscribed);
    // Deleting and re-creating Sent does not bring back the attribute.
    s.delete(U, &mbx("Sent")).unwrap();
    s.create(U, &mbx("Sent"), None).unwrap();
    let again = s.list(U).unwrap();
    let sent = again.iter().find(|i| i.name == mbx("Sent")).unwrap();
    assert!(sent.attributes.is_empty());
    assert!(!user.join(".imap-rs-trash").exists());
    // A second user is separate and set up on first use.
    assert_eq!(s.list("bob@example.org").unwrap().len(), 6);
    assert!(dir.path().join("bob@example.org/.Sent/cur").is_dir());
}

// ---------------------------------------------------------------- persistence

#[test]
fn state_survives_reopen() {
    let dir = TempDir::new("persist");
    let (snap, tombs, work) = {
        let s = MaildirStore::open(dir.path()).unwrap();
        s.create(U, &mbx("Work"), None).unwrap();
        let a = append(&s, "INBOX", "Subject: a\r\n\r\na\r\n", &[Flag::Seen]);
        let b = append(&s, "INBOX", "Subject: b\r\n\r\nb\r\n", &[]);
        let c = append(
            &s,
            "INBOX",
            "Subject: c\r\n\r\nc\r\n",
            &[Flag::keyword("$Work")],
        );
        s.store_flags(
            U,
            &mbx("INBOX"),
            &[b],
            FlagOp::Add,
            &[Flag::Flagged, Flag::keyword("Later")],
            None,
        )
        .unwrap();
        s.store_flags(U, &mbx("INBOX"), &[a], FlagOp::Add, &[Flag::Deleted], None)
            .unwrap();
        assert_eq!(s.expunge(U, &mbx("INBOX"), None).unwrap(), vec![a]);
        s.copy(U, &mbx("INBOX"), &[b, c], &mbx("Work")).unwrap();
        let snap = s.snapshot(U, &mbx("INBOX")).unwrap();
        let tombs = s.changes_since(U, &mbx("INBOX"), 0).unwrap();
        let work = s.snapshot(U, &mbx("Work")).unwrap();
        (snap, tombs, work)
    };
    let s = MaildirStore::open(dir.path()).unwrap();
    assert_eq!(
        s.snapshot(U, &mbx("INBOX")).unwrap(),
        snap,
        "INBOX after reopen"
    );
    assert_eq!(
        s.snapshot(U, &mbx("Work")).unwrap(),
        work,
        "Work after reopen"
    );
    assert_eq!(s.changes_since(U, &mbx("INBOX"), 0).unwrap(), tombs);
    assert_eq!(tombs.expunged.len(), 1);
    let m = s.message(U, &mbx("INBOX"), snap.messages[0].uid).unwrap();
    assert_eq!(&m.data[..], b"Subject: b\r\n\r\nb\r\n");
    assert_eq!(m.internal_date, (1_700_000_000, 60));
    let next = append(&s, "INBOX", "d", &[]);
    assert!(next.get() >= snap.uid_next, "UID reused after reopen");
    let after = s.snapshot(U, &mbx("INBOX")).unwrap();
    assert_eq!(after.uid_validity, snap.uid_validity);
    assert!(after.highest_modseq > snap.highest_modseq);
    // STATUS from the index.
    let st = s.status(U, &mbx("INBOX")).unwrap();
    assert_eq!((st.messages, st.unseen), (3, 3));
    assert_eq!(st.size, 17 + 17 + 1);
}

#[test]
fn recent_claims_survive_reopen() {
    // RFC 3501 §2.3.2: a restart must not make old mail recent again.
    let dir = TempDir::new("recent");
    let (claimed, next) = {
        let s = MaildirStore::open(dir.path()).unwrap();
        append(&s, "INBOX", "Subject: a\r\n\r\na\r\n", &[]);
        append(&s, "INBOX", "Subject: b\r\n\r\nb\r\n", &[]);
        let next = s.snapshot(U, &Mailbox::inbox()).unwrap().uid_next;
        let before = s.claim_recent(U, &Mailbox::inbox(), Some(next)).unwrap();
        assert_eq!(before, 1, "both messages were recent");
        (s.claim_recent(U, &Mailbox::inbox(), None).unwrap(), next)
    };
    assert_eq!(claimed, next);
    let s = MaildirStore::open(dir.path()).unwrap();
    assert_eq!(
        s.claim_recent(U, &Mailbox::inbox(), None).unwrap(),
        next,
        "old mail recent again after reopen"
    );
    let c = append(&s, "INBOX", "Subject: c\r\n\r\nc\r\n", &[]);
    assert_eq!(
        s.claim_recent(U, &Mailbox::inbox(), Some(c.get() + 1))
            .unwrap(),
        c.get(),
        "only the new message is recent"
    );
}

#[test]
fn uidvalidity_grows_across_reopen() {
    let dir = TempDir::new("validity");
    let v1 = {
        let s = MaildirStore::open(dir.path()).unwrap();
        s.create(U, &mbx("X"), None).unwrap();
        let v = s.snapshot(U, &mbx("X")).unwrap().uid_validity;
        s.delete(U, &mbx("X")).unwrap();
        v
    };
    let s = MaildirStore::open(dir.path()).unwrap();
    s.create(U, &mbx("X"), None).unwrap();
    assert!(s.snapshot(U, &mbx("X")).unwrap().uid_validity > v1);
}

// ---------------------------------------------------------------- interop

/// Deliver a message as an MDA does: write in tmp/, rename into new/.
fn mda_deliver(maildir: &Path, name: &str, data: &[u8]) {
    let tmp = maildir.join("tmp").join(name);
    fs::write(&tmp, data).unwrap();
    fs::rename(&tmp, maildir.join("new").join(name)).unwrap();
}

#[test]
fn other_programs_deliver_rename_and_delete() {
    let dir = TempDir::new("interop");
    let s = MaildirStore::open(dir.path()).unwrap();
    let inbox = inbox_dir(&s);
    let own = append(&s, "INBOX", "own", &[]);
    let before = s.snapshot(U, &Mailbox::inbox()).unwrap();

    mda_deliver(
        &inbox,
        "1700000000.M1P1.mda",
        b"Subject: dropped\r\n\r\nhi\r\n",
    );
    eventually("dropped mail", || uids(&s, "INBOX").len() == 2);
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    let new = snap.messages[1].uid;
    assert!(new > own);
    assert!(snap.highest_modseq > before.highest_modseq);
    assert!(files_in(&inbox.join("new")).is_empty(), "new/ not emptied");
    assert!(files_in(&inbox.join("cur")).contains(&"1700000000.M1P1.mda:2,".to_owned()));
    let m = s.message(U, &Mailbox::inbox(), new).unwrap();
    assert_eq!(&m.data[..], b"Subject: dropped\r\n\r\nhi\r\n");
    let ch = s
        .changes_since(U, &Mailbox::inbox(), before.highest_modseq)
        .unwrap();
    assert_eq!(
        ch.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![new]
    );

    // Another MUA marks it seen by renaming.
    let mark = s.snapshot(U, &Mailbox::inbox()).unwrap().highest_modseq;
    fs::rename(
        inbox.join("cur/1700000000.M1P1.mda:2,"),
        inbox.join("cur/1700000000.M1P1.mda:2,S"),
    )
    .unwrap();
    eventually("a rename by another MUA", || {
        flags(&s, "INBOX", new) == vec![Flag::Seen]
    });
    let ch = s.changes_since(U, &Mailbox::inbox(), mark).unwrap();
    assert_eq!(ch.changed.len(), 1);
    assert_eq!(ch.changed[0].uid, new);
    assert_eq!(ch.changed[0].flags, vec![Flag::Seen]);

    // Our STORE keeps the base name and writes sorted letters.
    s.store_flags(
        U,
        &Mailbox::inbox(),
        &[new],
        FlagOp::Add,
        &[Flag::Flagged],
        None,
    )
    .unwrap();
    assert!(files_in(&inbox.join("cur")).contains(&"1700000000.M1P1.mda:2,FS".to_owned()));

    // Another MUA deletes it.
    let mark = s.snapshot(U, &Mailbox::inbox()).unwrap().highest_modseq;
    fs::remove_file(inbox.join("cur/1700000000.M1P1.mda:2,FS")).unwrap();
    eventually("a removal by another MUA", || {
        uids(&s, "INBOX") == vec![own]
    });
    let ch = s.changes_since(U, &Mailbox::inbox(), mark).unwrap();
    assert_eq!(ch.expunged, vec![new]);
    assert!(s.message(U, &Mailbox::inbox(), new).is_err());

    // A message delivered straight into cur/ with flags (as some tools do).
    fs::write(inbox.join("cur/1700000001.M2P2.tool:2,RS"), b"x").unwrap();
    eventually("a file written into cur/", || uids(&s, "INBOX").len() == 2);
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    let last = snap.messages.last().unwrap();
    assert!(last.uid > new, "expunged UID reused");
    assert_eq!(
        sorted(last.flags.clone()),
        sorted(vec![Flag::Answered, Flag::Seen])
    );
}

#[test]
fn cache_is_used_and_verified() {
    let dir = TempDir::new("cache");
    let s = MaildirStore::open(dir.path()).unwrap();
    let cur = inbox_dir(&s).join("cur");
    let a = append(&s, "INBOX", "a", &[]);
    let b = append(&s, "INBOX", "bb", &[Flag::Seen]);
    // Bulk FETCH: in the order asked, missing UIDs left out.
    let missing = Uid::new(b.get() + 10).unwrap();
    let got = s.messages(U, &Mailbox::inbox(), &[b, missing, a]).unwrap();
    let order: Vec<Uid> = got.iter().map(|m| m.entry.uid).collect();
    assert_eq!(order, vec![b, a]);
    assert_eq!(&got[0].data[..], b"bb");
    // Another program renames a file in the same clock tick as our last
    // change (simulated by putting the directory's time back): the cache
    // answers until the verification rescan finds it.
    let time = fs::metadata(&cur).unwrap().modified().unwrap();
    let name = files_in(&cur)
        .into_iter()
        .find(|f| f.ends_with(":2,"))
        .unwrap();
    fs::rename(cur.join(&name), cur.join(format!("{name}F"))).unwrap();
    fs::File::open(&cur).unwrap().set_modified(time).unwrap();
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    assert!(snap.messages[0].flags.is_empty(), "the cache was not used");
    std::thread::sleep(MaildirStore::MTIME_SLACK + Duration::from_millis(100));
    assert_eq!(flags(&s, "INBOX", a), vec![Flag::Flagged], "not verified");
    // Our STORE on a file renamed behind the cache's back finds it by its
    // base name and keeps the other program's flags.
    let time = fs::metadata(&cur).unwrap().modified().unwrap();
    let name = files_in(&cur)
        .into_iter()
        .find(|f| f.ends_with(":2,S"))
        .unwrap();
    fs::rename(cur.join(&name), cur.join(format!("{name}T"))).unwrap();
    fs::File::open(&cur).unwrap().set_modified(time).unwrap();
    s.store_flags(
        U,
        &Mailbox::inbox(),
        &[b],
        FlagOp::Add,
        &[Flag::Answered],
        None,
    )
    .unwrap();
    assert!(
        files_in(&cur).iter().any(|f| f.ends_with(":2,RST")),
        "{:?}",
        files_in(&cur)
    );
    assert_eq!(
        flags(&s, "INBOX", b),
        sorted(vec![Flag::Answered, Flag::Seen, Flag::Deleted])
    );
    // STATUS comes from the index, not the files.
    assert_eq!(s.status(U, &Mailbox::inbox()).unwrap().size, 3);
}

#[test]
fn flag_letters_follow_the_maildir_spec() {
    let dir = TempDir::new("letters");
    let s = MaildirStore::open(dir.path()).unwrap();
    let inbox = inbox_dir(&s);
    let suffix = |uid: Uid| {
        let f = files_in(&inbox.join("cur"))
            .into_iter()
            .find(|f| f.contains(&format!("-{uid}:")))
            .unwrap_or_else(|| panic!("no file for {uid}"));
        f[f.find(':').unwrap()..].to_owned()
    };
    let a = append(&s, "INBOX", "a", &[Flag::Seen, Flag::Flagged]);
    assert_eq!(suffix(a), ":2,FS");
    let b = append(
        &s,
        "INBOX",
        "b",
        &[
            Flag::Seen,
            Flag::Draft,
            Flag::Deleted,
            Flag::Answered,
            Flag::Flagged,
            Flag::Recent,
        ],
    );
    assert_eq!(suffix(b), ":2,DFRST");
    let c = append(&s, "INBOX", "c", &[]);
    assert_eq!(suffix(c), ":2,");
    s.store_flags(
        U,
        &Mailbox::inbox(),
        &[c],
        FlagOp::Set,
        &[Flag::keyword("$Work"), Flag::Seen, Flag::keyword("Junk")],
        None,
    )
    .unwrap();
    assert_eq!(suffix(c), ":2,Sab");
    let kw = fs::read_to_string(inbox.join("dovecot-keywords")).unwrap();
    assert_eq!(kw, "0 $Work\n1 Junk\n");
    // Keywords compare case-insensitively and keep their first spelling.
    s.store_flags(
        U,
        &Mailbox::inbox(),
        &[a],
        FlagOp::Add,
        &[Flag::keyword("$WORK")],
        None,
    )
    .unwrap();
    assert_eq!(suffix(a), ":2,FSa");
    assert!(flags(&s, "INBOX", a).contains(&Flag::keyword("$Work")));
    // A letter we do not map (P, "passed") survives our STOREs.
    let name = files_in(&inbox.join("cur"))
        .into_iter()
        .find(|f| f.ends_with(":2,FSa"))
        .unwrap();
    let base = &name[..name.find(':').unwrap()];
    fs::rename(
        inbox.join("cur").join(&name),
        inbox.join("cur").join(format!("{base}:2,FPSa")),
    )
    .unwrap();
    s.store_flags(U, &Mailbox::inbox(), &[a], FlagOp::Set, &[], None)
        .unwrap();
    assert_eq!(suffix(a), ":2,P");
    assert!(flags(&s, "INBOX", a).is_empty());
    // 26 keywords fit; the 27th is refused with Limit.
    let kws: Vec<Flag> = (0..24)
        .map(|i| Flag::try_from(format!("k{i}").as_str()).unwrap())
        .collect();
    s.store_flags(U, &Mailbox::inbox(), &[c], FlagOp::Add, &kws, None)
        .unwrap();
    let err = s
        .store_flags(
            U,
            &Mailbox::inbox(),
            &[c],
            FlagOp::Add,
            &[Flag::keyword("TooMany")],
            None,
        )
        .unwrap_err();
    assert_eq!(err.kind, StoreErrorKind::Limit);
}

// ---------------------------------------------------------------- repair

/// A store whose INBOX holds four messages (see `expected_bodies`) after
/// appends, an expunge and a STORE; returns (dir, UIDVALIDITY, UIDs).
fn three_messages(tag: &str) -> (TempDir, u32, Vec<Uid>) {
    let dir = TempDir::new(tag);
    let s = MaildirStore::open(dir.path()).unwrap();
    append(&s, "INBOX", "one", &[Flag::Seen]);
    let two = append(&s, "INBOX", "two", &[]);
    append(&s, "INBOX", "three", &[Flag::Flagged]);
    // Make UIDs non-contiguous and the log non-trivial.
    let gone = append(&s, "INBOX", "gone", &[Flag::Deleted]);
    s.expunge(U, &Mailbox::inbox(), Some(&[gone])).unwrap();
    s.store_flags(
        U,
        &Mailbox::inbox(),
        &[two],
        FlagOp::Add,
        &[Flag::Answered],
        None,
    )
    .unwrap();
    append(&s, "INBOX", "four", &[Flag::keyword("$Work")]);
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    let v = snap.uid_validity;
    (dir, v, snap.messages.iter().map(|m| m.uid).collect())
}

fn bodies(s: &MaildirStore) -> Vec<(Uid, String, Vec<Flag>)> {
    uids(s, "INBOX")
        .into_iter()
        .map(|u| {
            let m = s.message(U, &Mailbox::inbox(), u).unwrap();
            (
                u,
                String::from_utf8_lossy(&m.data).into_owned(),
                sorted(m.entry.flags),
            )
        })
        .collect()
}

fn expected_bodies(uids: &[Uid]) -> Vec<(Uid, String, Vec<Flag>)> {
    let want = [
        ("one", vec![Flag::Seen]),
        ("two", vec![Flag::Answered]),
        ("three", vec![Flag::Flagged]),
        ("four", vec![Flag::keyword("$Work")]),
    ];
    uids.iter()
        .zip(want)
        .map(|(u, (b, f))| (*u, b.to_owned(), sorted(f)))
        .collect()
}

fn index_path(dir: &TempDir) -> PathBuf {
    dir.path().join(U).join("imap-rs-uidlist")
}

#[test]
fn torn_index_keeps_uids() {
    let (dir, v, u) = three_messages("torn");
    // Cut the index in the middle of its last records (as a torn write or a
    // truncation would).
    let path = index_path(&dir);
    let len = fs::metadata(&path).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 30).unwrap();
    drop(f);
    let s = MaildirStore::open(dir.path()).unwrap();
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    assert_eq!(
        snap.uid_validity, v,
        "UIDVALIDITY changed for a torn record"
    );
    assert_eq!(bodies(&s), expected_bodies(&u), "UIDs or flags not kept");
    // The repaired index is whole again.
    drop(s);
    let s = MaildirStore::open(dir.path()).unwrap();
    assert_eq!(bodies(&s), expected_bodies(&u));
    let next = append(&s, "INBOX", "five", &[]);
    assert!(next > *u.last().unwrap());
}

#[test]
fn damaged_index_is_rebuilt_with_new_uidvalidity() {
    for (tag, damage) in [
        ("garbage-middle", 0),
        ("garbage-all", 1),
        ("missing", 2),
        ("empty", 3),
        ("bad-header", 4),
    ] {
        let (dir, v, _) = three_messages(tag);
        let path = index_path(&dir);
        let text = fs::read(&path).unwrap();
        match damage {
            0 => {
                let mut t = text.clone();
                let at = t.iter().position(|&b| b == b'\n').unwrap() + 1;
                t.splice(at..at, b"\x00\x01garbage line\n".iter().copied());
                fs::write(&path, t).unwrap();
            }
            1 => fs::write(&path, b"\xff\xfe\x00 not an index at all \x00\n\n").unwrap(),
            2 => fs::remove_file(&path).unwrap(),
            3 => fs::write(&path, b"").unwrap(),
            _ => {
                let mut t = text.clone();
                t[0] = b'X';
                fs::write(&path, t).unwrap();
            }
        }
        let s = MaildirStore::open(dir.path()).unwrap();
        let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
        assert!(snap.uid_validity > v, "{tag}: UIDVALIDITY not changed");
        let got = bodies(&s);
        assert_eq!(got.len(), 4, "{tag}: mail lost: {got:?}");
        let renumbered: Vec<Uid> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            got,
            expected_bodies(&renumbered),
            "{tag}: order, bodies or flags changed"
        );
        // The rebuilt index is stable.
        drop(s);
        let s = MaildirStore::open(dir.path()).unwrap();
        assert_eq!(s.snapshot(U, &Mailbox::inbox()).unwrap(), snap, "{tag}");
        // Special-use attributes come back from the name when the index of
        // a special folder is lost.
        if damage == 2 {
            fs::remove_file(dir.path().join(U).join(".Sent/imap-rs-uidlist")).unwrap();
            drop(s);
            let s = MaildirStore::open(dir.path()).unwrap();
            let sent = s
                .list(U)
                .unwrap()
                .into_iter()
                .find(|i| i.name == mbx("Sent"));
            assert_eq!(sent.unwrap().attributes, vec![MailboxAttribute::Sent]);
        }
    }
}

#[test]
fn crash_between_delivery_and_logging_keeps_the_uid() {
    let (dir, v, u) = three_messages("pin");
    // Simulate a crash after the rename into cur/ but before the index
    // record: remove the last record.
    let path = index_path(&dir);
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    assert!(last.starts_with("+ "), "{last}");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let s = MaildirStore::open(dir.path()).unwrap();
    assert_eq!(s.snapshot(U, &Mailbox::inbox()).unwrap().uid_validity, v);
    assert_eq!(bodies(&s), expected_bodies(&u));
}

#[test]
fn stray_and_unsafe_files_are_adopted_or_ignored() {
    let dir = TempDir::new("stray");
    let outside = TempDir::new("outside");
    fs::write(outside.path().join("secret"), b"secret").unwrap();
    let s = MaildirStore::open(dir.path()).unwrap();
    s.list(U).unwrap();
    let inbox = inbox_dir(&s);
    let cur = inbox.join("cur");
    fs::write(cur.join("no-info-suffix"), b"stray").unwrap();
    fs::write(cur.join(".hidden"), b"dot file").unwrap();
    fs::write(
        cur.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"bad\xffname\x01")),
        b"odd name",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), cur.join("link:2,S")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), inbox.join("new/link2")).unwrap();
    fs::create_dir(cur.join("subdir:2,")).unwrap();
    let got = bodies(&s);
    let texts: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
    assert_eq!(texts.len(), 2, "{got:?}");
    assert!(texts.contains(&"stray") && texts.contains(&"odd name"));
    assert!(!texts.contains(&"secret"), "a symbolic link was followed");
    let names = files_in(&cur);
    assert!(names.contains(&"no-info-suffix:2,".to_owned()), "{names:?}");
    assert!(
        names.contains(&"link:2,S".to_owned()),
        "links are left alone"
    );
    assert!(files_in(&inbox.join("new")).contains(&"link2".to_owned()));
    // Swapping a known message for a link is caught when it is read.
    let victim = got.iter().find(|g| g.1 == "stray").unwrap().0;
    let file = names
        .iter()
        .find(|n| n.starts_with("no-info-suffix"))
        .unwrap()
        .clone();
    let m = s.message(U, &Mailbox::inbox(), victim).unwrap();
    assert_eq!(&m.data[..], b"stray");
    fs::remove_file(cur.join(&file)).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), cur.join(&file)).unwrap();
    let r = s.message(U, &Mailbox::inbox(), victim);
    assert!(r.is_err(), "a symbolic link was followed: {r:?}");
}

/// Files named with their size (`,S=`) are adopted without a `stat`: the
/// size comes from the name, the internal date (the file's time) is read
/// when asked for, also after a reopen, and new UIDs follow the delivery
/// time the name starts with.
#[test]
fn files_named_with_their_size_are_adopted_without_a_stat() {
    let dir = TempDir::new("named-size");
    let s = MaildirStore::open(dir.path()).unwrap();
    s.list(U).unwrap();
    let cur = inbox_dir(&s).join("cur");
    let put = |name: &str, data: &str, mtime: u64| {
        let p = cur.join(name);
        fs::write(&p, data).unwrap();
        let t = std::time::UNIX_EPOCH + Duration::from_secs(mtime);
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    };
    // Delivered later (by its name) but with an older file time.
    put("1700000300.M2P1.host,S=5:2,S", "hello", 1_600_000_000);
    put("1700000100.M1P1.host,S=3:2,", "abc", 1_650_000_000);
    // No size in the name: looked at, ordered by its file time.
    put("plain-name:2,", "xyz!", 1_500_000_000);
    let inbox = Mailbox::inbox();
    let check = |s: &MaildirStore| {
        let got = uids(s, "INBOX");
        assert_eq!(got.len(), 3);
        let expect = [
            ("xyz!", 1_500_000_000, 4),
            ("abc", 1_650_000_000, 3),
            ("hello", 1_600_000_000, 5),
        ];
        let cached = s.cached_messages(U, &inbox, &got).unwrap();
        for ((uid, (data, date, size)), c) in got.iter().zip(expect).zip(&cached) {
            let m = s.message(U, &inbox, *uid).unwrap();
            assert_eq!(&m.data[..], data.as_bytes(), "UID {uid}");
            assert_eq!(m.internal_date.0, date, "UID {uid}: the file's time");
            assert_eq!((c.uid, c.internal_date.0, c.size), (*uid, date, size));
        }
    };
    check(&s);
    drop(s);
    // Reopened from the index (dates not yet read are recorded as such).
    let s = MaildirStore::open(dir.path()).unwrap();
    check(&s);
}

#[test]
fn unsafe_names_never_leave_the_data_directory() {
    let dir = TempDir::new("names");
    let s = MaildirStore::open(dir.path()).unwrap();
    for bad in [
        "a\0b", "a\rb", "a\u{1}b", "a\u{7f}b", "", "/abs", "a//b", "a/", "*", "x%",
    ] {
        let e = s.create(U, &mbx(bad), None).unwrap_err();
        assert_eq!(e.kind, StoreErrorKind::Cannot, "{bad:?}");
    }
    let latin1 = Mailbox::from_decoded(Bytes::from_static(b"caf\xe9"));
    assert_eq!(
        s.create(U, &latin1, None).unwrap_err().kind,
        StoreErrorKind::Cannot
    );
    let long = "x".repeat(300);
    assert_eq!(
        s.create(U, &mbx(&long), None).unwrap_err().kind,
        StoreErrorKind::Cannot
    );
    // Dots and dot-dot levels are names like any other, stored escaped.
    for ok in ["..", "../x", "a/../../b", ".hidden", "a/."] {
        s.create(U, &mbx(ok), None).unwrap();
        append(&s, ok, "x", &[]);
        assert_eq!(uids(&s, ok).len(), 1, "{ok}");
    }
    // Users are directories inside the data directory too.
    s.list("../escape").unwrap();
    s.list("/etc").unwrap();
    let parent = dir.path().parent().unwrap();
    assert!(!parent.join("escape").exists());
    let mut top = files_in(dir.path());
    top.sort();
    assert_eq!(top, vec!["%2E.%2Fescape", "%2Fetc", U], "{top:?}");
    for entry in walk(dir.path()) {
        let meta = fs::symlink_metadata(&entry).unwrap();
        assert!(!meta.file_type().is_symlink(), "{entry:?}");
        assert!(entry.starts_with(dir.path()));
    }
    // Looking up names that cannot exist is a clean NonExistent.
    for missing in ["a\0b", "nope", "caf\u{1}"] {
        let e = s.snapshot(U, &mbx(missing)).unwrap_err();
        assert_eq!(e.kind, StoreErrorKind::NonExistent);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

// ---------------------------------------------------------------- lock

#[test]
fn second_open_is_refused_while_the_first_lives() {
    let dir = TempDir::new("lock");
    let first = MaildirStore::open(dir.path()).unwrap();
    let e = MaildirStore::open(dir.path()).unwrap_err();
    assert_eq!(e.kind, StoreErrorKind::Unavailable);
    let text = e.to_string();
    assert!(text.contains("in use"), "{text}");
    assert!(text.contains(&std::process::id().to_string()), "{text}");
    assert!(text.contains(".imap-rs.lock"), "{text}");
    drop(first);
    MaildirStore::open(dir.path()).unwrap();
}

// ---------------------------------------------------------------- watch

#[test]
fn watch_sees_other_programs_within_a_second() {
    let dir = TempDir::new("watch");
    let s = MaildirStore::open(dir.path()).unwrap();
    s.create(U, &mbx("Lists/rust"), None).unwrap();
    let folder = s.mailbox_path(U, &mbx("Lists/rust")).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    let waker: Waker = Arc::new(move || {
        h.fetch_add(1, Ordering::SeqCst);
    });
    let guard = s.watch(U, &mbx("Lists/rust"), waker);
    std::thread::sleep(Duration::from_millis(300));
    let base = hits.load(Ordering::SeqCst);
    let wait = |above: usize| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            if hits.load(Ordering::SeqCst) > above {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    };
    mda_deliver(&folder, "1700000000.M9P9.mda", b"Subject: new\r\n\r\n");
    let took = wait(base).expect("an MDA delivery did not wake the watcher within 1s");
    assert!(took < Duration::from_secs(1));
    assert_eq!(uids(&s, "Lists/rust").len(), 1);
    // Another MUA's rename wakes it too.
    std::thread::sleep(Duration::from_millis(300));
    let n = hits.load(Ordering::SeqCst);
    let name = files_in(&folder.join("cur")).pop().unwrap();
    fs::rename(
        folder.join("cur").join(&name),
        folder.join("cur").join(format!("{}S", name)),
    )
    .unwrap();
    wait(n).expect("a rename by another MUA did not wake the watcher within 1s");
    drop(guard);
    std::thread::sleep(Duration::from_millis(300));
    let n = hits.load(Ordering::SeqCst);
    mda_deliver(&folder, "1700000001.M9P9.mda", b"Subject: newer\r\n\r\n");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        n,
        "woken after the guard was dropped"
    );
}

// ---------------------------------------------------------------- crash

const WORKER_DIR: &str = "IMAP_RS_MAILDIR_CRASH_DIR";
const WORKER_ROUND: &str = "IMAP_RS_MAILDIR_CRASH_ROUND";

/// Flag sets the worker cycles through.
fn flag_set(i: u64) -> Vec<Flag> {
    match i % 5 {
        0 => vec![],
        1 => vec![Flag::Seen],
        2 => vec![Flag::Flagged, Flag::Seen],
        3 => vec![Flag::keyword("$Work"), Flag::Answered],
        _ => vec![Flag::Draft, Flag::keyword("Later")],
    }
}

fn sig(flags: &[Flag]) -> String {
    let mut v: Vec<String> = flags.iter().map(ToString::to_string).collect();
    v.sort();
    v.join(",")
}

/// The child process of `crash_safety`: loops APPEND, STORE and
/// UID EXPUNGE, printing each operation before it starts (lower case) and
/// once it is acknowledged (upper case). Does nothing in a normal run.
#[test]
fn crash_worker() {
    let (Ok(dir), Ok(round)) = (std::env::var(WORKER_DIR), std::env::var(WORKER_ROUND)) else {
        return;
    };
    let round: u64 = round.parse().unwrap();
    let s = MaildirStore::open(&dir).unwrap();
    let out = std::io::stdout();
    let say = |line: String| {
        let mut o = out.lock();
        writeln!(o, "@@ {line}").unwrap();
        o.flush().unwrap();
    };
    let v = s.snapshot(U, &Mailbox::inbox()).unwrap().uid_validity;
    say(format!("V {v}"));
    let mut mine: Vec<Uid> = Vec::new();
    let mut rng = std::process::id() as u64 ^ (round << 32);
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for i in 0.. {
        let seq = round * 1_000_000 + i;
        let f = flag_set(next());
        say(format!("a {seq} {}", sig(&f)));
        let body = format!("Subject: crash {seq}\r\n\r\nbody {seq}\r\n");
        let (_, uid) = s.append(U, &Mailbox::inbox(), msg(&body, &f)).unwrap();
        say(format!("A {seq} {uid} {}", sig(&f)));
        mine.push(uid);
        let r = next();
        let target = mine[(r as usize / 7) % mine.len()];
        if r % 6 == 0 && mine.len() > 1 {
            say(format!("x {target}"));
            s.store_flags(
                U,
                &Mailbox::inbox(),
                &[target],
                FlagOp::Add,
                &[Flag::Deleted],
                None,
            )
            .unwrap();
            s.expunge(U, &Mailbox::inbox(), Some(&[target])).unwrap();
            say(format!("X {target}"));
            mine.retain(|u| *u != target);
        } else {
            let f = flag_set(next());
            say(format!("s {target} {}", sig(&f)));
            s.store_flags(U, &Mailbox::inbox(), &[target], FlagOp::Set, &f, None)
                .unwrap();
            say(format!("S {target} {}", sig(&f)));
        }
    }
}

/// What the parent knows about one message.
#[derive(Debug, Default, Clone)]
struct Known {
    seq: u64,
    /// Flags it may have: the last acknowledged set, and a pending one.
    flags: Vec<String>,
    expunged: bool,
    maybe_expunged: bool,
}

#[test]
fn crash_safety() {
    const ROUNDS: u64 = 6;
    let dir = TempDir::new("crash");
    let exe = std::env::current_exe().unwrap();
    let mut known: BTreeMap<u32, Known> = BTreeMap::new();
    let mut validity = None;
    let mut acked_ops = 0;
    let mut rng = std::process::id() as u64 | 1;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_worker", "--nocapture", "--test-threads=1"])
            .env(WORKER_DIR, dir.path())
            .env(WORKER_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(l) = line.strip_prefix("@@ ") {
                    if tx.send(l.to_owned()).is_err() {
                        break;
                    }
                }
            }
        });
        // Let it start, then kill it at a pseudo-random moment.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("worker did not start");
        let delay = Duration::from_millis(150 + rng % 500);
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        for line in std::iter::once(first).chain(rx.try_iter()) {
            let parts: Vec<&str> = line.split(' ').collect();
            let flags_of = |i: usize| parts.get(i).copied().unwrap_or("").to_owned();
            match parts[0] {
                "V" => {
                    let v: u32 = parts[1].parse().unwrap();
                    assert_eq!(
                        *validity.get_or_insert(v),
                        v,
                        "UIDVALIDITY changed after a crash"
                    );
                }
                // An APPEND in flight may or may not have happened.
                "a" => {}
                "A" => {
                    acked_ops += 1;
                    let uid: u32 = parts[2].parse().unwrap();
                    assert!(!known.contains_key(&uid), "UID {uid} handed out twice");
                    known.insert(
                        uid,
                        Known {
                            seq: parts[1].parse().unwrap(),
                            flags: vec![flags_of(3)],
                            ..Known::default()
                        },
                    );
                }
                "s" => {
                    let k = known.get_mut(&parts[1].parse().unwrap()).unwrap();
                    k.flags.push(flags_of(2));
                }
                "S" => {
                    acked_ops += 1;
                    let k = known.get_mut(&parts[1].parse().unwrap()).unwrap();
                    k.flags = vec![flags_of(2)];
                }
                "x" => {
                    known
                        .get_mut(&parts[1].parse().unwrap())
                        .unwrap()
                        .maybe_expunged = true
                }
                "X" => {
                    acked_ops += 1;
                    known.get_mut(&parts[1].parse().unwrap()).unwrap().expunged = true;
                }
                other => panic!("unexpected worker line {other}"),
            }
        }
        // After each crash the store opens and holds every acknowledged
        // message exactly once, with its UID and flags.
        check_after_crash(dir.path(), &known, validity);
    }
    eprintln!(
        "crash_safety: {acked_ops} acknowledged operations, {} messages, {ROUNDS} kills",
        known.len()
    );
    assert!(
        acked_ops > 20,
        "the worker acknowledged only {acked_ops} operations"
    );
}

fn check_after_crash(dir: &Path, known: &BTreeMap<u32, Known>, validity: Option<u32>) {
    let s = MaildirStore::open(dir).unwrap();
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    if let Some(v) = validity {
        assert_eq!(snap.uid_validity, v, "UIDVALIDITY changed after a crash");
    }
    let mut by_seq: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for m in &snap.messages {
        let data = s.message(U, &Mailbox::inbox(), m.uid).unwrap().data;
        let text = String::from_utf8_lossy(&data).into_owned();
        let seq: u64 = text
            .strip_prefix("Subject: crash ")
            .and_then(|t| t.split('\r').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("unexpected message {text:?}"));
        by_seq.entry(seq).or_default().push(m.uid.get());
    }
    for (seq, uids) in &by_seq {
        assert_eq!(
            uids.len(),
            1,
            "message {seq} stored {} times: {uids:?}",
            uids.len()
        );
    }
    for (uid, k) in known {
        let present = snap.messages.iter().find(|m| m.uid.get() == *uid);
        match present {
            None => assert!(
                k.expunged || k.maybe_expunged,
                "acknowledged message {} (UID {uid}) lost",
                k.seq
            ),
            Some(m) => {
                assert!(!k.expunged, "expunged UID {uid} came back");
                assert_eq!(
                    by_seq.get(&k.seq).map(Vec::as_slice),
                    Some(&[*uid][..]),
                    "message {} has the wrong UID",
                    k.seq
                );
                let now = sig(&m.flags);
                let without_deleted = sig(&m
                    .flags
                    .iter()
                    .filter(|f| **f != Flag::Deleted)
                    .cloned()
                    .collect::<Vec<_>>());
                let ok = k.flags.contains(&now)
                    || (k.maybe_expunged && k.flags.contains(&without_deleted));
                assert!(
                    ok,
                    "UID {uid}: flags {now:?}, expected one of {:?}",
                    k.flags
                );
            }
        }
    }
}
