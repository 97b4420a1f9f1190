//! THREAD and UID THREAD (RFC 5256 §3, §4) with the algorithms
//! ORDEREDSUBJECT and REFERENCES (RFC 5256 §3) and REFS
//! (draft-ietf-morg-inthread-01 §4, as Dovecot implements it).
//!
//! The messages to thread are chosen by the SEARCH evaluator
//! ([`ServerConnection::matching`]), as for SORT. Each one contributes its sent
//! date (RFC 5256 §2.2, [`sort::sent_date`]), its base subject (§2.1,
//! [`sort::base_subject_reply`]) and, for REFERENCES and REFS, its
//! `Message-ID`, `References` and `In-Reply-To` message ids.
//!
//! Bounds on hostile input (both in [`crate::ServerLimits`]): only the last
//! `thread_max_references` ids of a `References` field are used, and the loop
//! check before a link follows at most `thread_max_depth` ancestors (a link
//! that needs more is not made), so linking costs at most their product per
//! message. Every later pass over the tree is iterative (no recursion on its
//! depth), and the response nests at most [`MAX_THREAD_NESTING`] lists: the
//! branches below that depth are listed as one chain in thread order.

use std::collections::HashMap;
use std::num::NonZeroU32;

use imap_proto::{Charset, Data, SearchKey, StatusKind, Tag, Thread, ThreadAlgorithm};

use super::sort::{base_subject_reply, sent_date};
use super::{ServerConnection, State};
use crate::mime::{MimeLimits, ParsedMessage};

/// The deepest nesting of lists in a THREAD response (a branch inside a branch
/// …). Clients' parsers bound nesting too (this workspace's codec at 64).
pub const MAX_THREAD_NESTING: usize = 48;

/// What threading needs of one message.
#[derive(Debug, Clone, Default)]
pub(crate) struct ThreadMsg {
    /// The number to report (sequence number or UID).
    pub(crate) number: u32,
    /// Sent date (Unix seconds).
    pub(crate) date: i64,
    /// Base subject, `i;ascii-casemap`ped for comparison.
    pub(crate) subject: String,
    /// Whether the subject is a reply or forward (RFC 5256 §2.1).
    pub(crate) reply: bool,
    /// The `Message-ID`, if it holds a valid message id.
    pub(crate) id: Option<Vec<u8>>,
    /// The message ids of `References` (or, without any, the first of
    /// `In-Reply-To`), oldest first.
    pub(crate) refs: Vec<Vec<u8>>,
}

/// The `<…>` message ids in a header value, in order. An id must hold an
/// `@` and no white space or `<` (RFC 5322 §3.6.4 `msg-id`, leniently);
/// anything else between them (comments, phrases) is skipped.
pub(crate) fn message_ids(value: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.iter().position(|&b| b == b'>' || b == b'<') else {
            break;
        };
        if rest[close] == b'<' {
            rest = &rest[close..];
            continue;
        }
        let id: Vec<u8> = rest[..close]
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\r' | b'\n'))
            .collect();
        rest = &rest[close + 1..];
        let valid = !id.is_empty()
            && id.contains(&b'@')
            && !id.iter().any(|b| b.is_ascii_whitespace())
            && id.first() != Some(&b'@')
            && id.last() != Some(&b'@');
        if valid {
            out.push(id);
        }
    }
    out
}

/// A node of the thread tree: a message, or a dummy (a message id that was
/// referred to but is not among the messages).
#[derive(Debug, Clone, Default)]
struct Node {
    /// Index into the messages, `None` for a dummy.
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// The order of threads and siblings: sent date, then mailbox order (RFC
/// 5256 §2.2).
type Key = (i64, usize);

/// The threading state.
struct Forest<'a> {
    msgs: &'a [ThreadMsg],
    nodes: Vec<Node>,
    max_depth: usize,
}

impl Forest<'_> {
    fn node(&mut self, msg: Option<usize>) -> usize {
        self.nodes.push(Node {
            msg,
            ..Node::default()
        });
        self.nodes.len() - 1
    }

    /// Whether making `child` a child of `parent` would make a loop (or needs
    /// a longer ancestor walk than allowed).
    fn would_loop(&self, child: usize, parent: usize) -> bool {
        let mut n = Some(parent);
        let mut steps = 0;
        while let Some(x) = n {
            if x == child || steps > self.max_depth {
                return true;
            }
            steps += 1;
            n = self.nodes[x].parent;
        }
        false
    }

    /// A message's sort key, or a dummy's (its first child's; children must
    /// be sorted first).
    fn key(&self, n: usize) -> Key {
        let mut x = n;
        // Dummies nest only a few deep (each has children); bounded anyway.
        for _ in 0..=self.nodes.len() {
            match self.nodes[x].msg {
                Some(m) => return (self.msgs[m].date, m),
                None => match self.nodes[x].children.first() {
                    Some(&c) => x = c,
                    None => break,
                },
            }
        }
        (i64::MAX, usize::MAX)
    }

    /// The nodes under `roots` in post-order (children before parents),
    /// without recursion.
    fn post_order(&self, roots: &[usize]) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((n, expanded)) = stack.pop() {
            if expanded {
                out.push(n);
            } else {
                stack.push((n, true));
                for &c in self.nodes[n].children.iter().rev() {
                    stack.push((c, false));
                }
            }
        }
        out
    }

    /// Sort every set of siblings below `roots` by date, deepest first, so a
    /// dummy's first child is known before the dummy is placed (RFC 5256 §3
    /// REFERENCES step 6).
    fn sort_children(&mut self, roots: &[usize]) {
        for n in self.post_order(roots) {
            let mut children = std::mem::take(&mut self.nodes[n].children);
            children.sort_by_key(|&c| self.key(c));
            self.nodes[n].children = children;
        }
    }
}

/// REFERENCES (RFC 5256 §3) or, with `refs`, REFS: the threads as trees of
/// message indexes, for [`to_response`].
fn references(
    msgs: &[ThreadMsg],
    refs_algorithm: bool,
    max_refs: usize,
    max_depth: usize,
) -> (Forest<'_>, Vec<usize>) {
    let mut f = Forest {
        msgs,
        nodes: Vec::with_capacity(msgs.len() * 2),
        max_depth,
    };
    let mut ids: HashMap<&[u8], usize> = HashMap::with_capacity(msgs.len() * 2);
    // (1) Link messages by their references.
    for (i, m) in msgs.iter().enumerate() {
        // (1.A) The message's own container; a message without a valid id,
        // or with one an earlier message took, gets a unique one.
        let own = match m.id.as_deref() {
            Some(id) => match ids.get(id) {
                Some(&n) if f.nodes[n].msg.is_none() => {
                    f.nodes[n].msg = Some(i);
                    n
                }
                Some(_) => f.node(Some(i)),
                None => {
                    let n = f.node(Some(i));
                    ids.insert(id, n);
                    n
                }
            },
            None => f.node(Some(i)),
        };
        let start = m.refs.len().saturating_sub(max_refs);
        let mut chain: Vec<usize> = Vec::with_capacity(m.refs.len() - start);
        for r in &m.refs[start..] {
            let n = match ids.get(r.as_slice()) {
                Some(&n) => n,
                None => {
                    let n = f.node(None);
                    ids.insert(r.as_slice(), n);
                    n
                }
            };
            chain.push(n);
        }
        // Each reference is the parent of the next, unless the child already
        // has a parent or the link would make a loop.
        for w in chain.windows(2) {
            let (p, c) = (w[0], w[1]);
            if f.nodes[c].parent.is_none() && !f.would_loop(c, p) {
                f.nodes[c].parent = Some(p);
            }
        }
        // (1.B) The last reference is the message's parent; a parent it has
        // from other messages' References gives way (a truncated field),
        // and no link is made that would make a loop. A message without
        // references is a root even if others named a parent for it (JWZ's
        // algorithm, which RFC 5256 follows; Dovecot does the same).
        f.nodes[own].parent = None;
        if let Some(&last) = chain.last() {
            if !f.would_loop(own, last) {
                f.nodes[own].parent = Some(last);
            }
        }
    }
    drop(ids);
    // Children lists from the parent links, in creation order.
    let mut roots = Vec::new();
    for n in 0..f.nodes.len() {
        match f.nodes[n].parent {
            Some(p) => f.nodes[p].children.push(n),
            None => roots.push(n),
        }
    }
    // (2)–(4) Prune dummies: one without children goes; one with children
    // gives way to them, except in the root set when there are several.
    for n in f.post_order(&roots) {
        let children = std::mem::take(&mut f.nodes[n].children);
        let mut kept = Vec::with_capacity(children.len());
        for c in children {
            if f.nodes[c].msg.is_none() {
                kept.append(&mut f.nodes[c].children);
            } else {
                kept.push(c);
            }
        }
        f.nodes[n].children = kept;
    }
    let mut top = Vec::with_capacity(roots.len());
    // Threads whose root was a dummy with one child, promoted: REFS orders
    // them as dummy-rooted (Dovecot).
    let mut promoted = std::collections::HashSet::new();
    for r in roots {
        if f.nodes[r].msg.is_some() || f.nodes[r].children.len() > 1 {
            top.push(r);
        } else if let Some(&c) = f.nodes[r].children.first() {
            top.push(c);
            promoted.insert(c);
        }
    }
    for &t in &top {
        f.nodes[t].parent = None;
    }
    f.sort_children(&top);
    if refs_algorithm {
        // REFS: no gathering by subject; threads in the order of their
        // newest message's sent date (draft-ietf-morg-inthread-01 §4), ties
        // broken by the first message's mailbox order, a thread that started
        // with a dummy first (Dovecot's order).
        let newest: HashMap<usize, (i64, i64)> = top
            .iter()
            .map(|&t| {
                let date = f
                    .post_order(&[t])
                    .into_iter()
                    .filter_map(|n| f.nodes[n].msg.map(|m| msgs[m].date))
                    .max()
                    .unwrap_or(i64::MAX);
                let first = match f.nodes[t].msg {
                    Some(m) if !promoted.contains(&t) => m as i64,
                    _ => -1,
                };
                (t, (date, first))
            })
            .collect();
        top.sort_by_key(|t| newest[t]);
        return (f, top);
    }
    // (5) Sort the root set by date.
    top.sort_by_key(|&t| f.key(t));
    // (6) Gather threads whose (first) message has the same base subject.
    let subject_of = |f: &Forest<'_>, n: usize| -> Option<usize> {
        match f.nodes[n].msg {
            Some(m) => Some(m),
            None => f.nodes[n].children.first().and_then(|&c| f.nodes[c].msg),
        }
    };
    let mut table: HashMap<&str, usize> = HashMap::new();
    for &t in &top {
        let Some(m) = subject_of(&f, t) else { continue };
        let subject = msgs[m].subject.as_str();
        if subject.is_empty() {
            continue;
        }
        match table.get(subject) {
            None => {
                table.insert(subject, t);
            }
            Some(&old) => {
                let old_dummy = f.nodes[old].msg.is_none();
                let old_reply = f.nodes[old].msg.is_some_and(|om| msgs[om].reply);
                let this_dummy = f.nodes[t].msg.is_none();
                if !old_dummy && (this_dummy || (old_reply && !msgs[m].reply)) {
                    table.insert(subject, t);
                }
            }
        }
    }
    let mut removed = vec![false; f.nodes.len()];
    let mut replaced: HashMap<usize, usize> = HashMap::new();
    for &t in &top {
        let Some(m) = subject_of(&f, t) else { continue };
        let subject = msgs[m].subject.as_str();
        if subject.is_empty() {
            continue;
        }
        let Some(&other) = table.get(subject) else {
            continue;
        };
        // A thread already placed under a new dummy is settled.
        if other == t || replaced.contains_key(&t) {
            continue;
        }
        let this_dummy = f.nodes[t].msg.is_none();
        let other_dummy = f.nodes[other].msg.is_none();
        let other_reply = f.nodes[other].msg.is_some_and(|om| msgs[om].reply);
        if this_dummy && other_dummy {
            let mut kids = std::mem::take(&mut f.nodes[t].children);
            f.nodes[other].children.append(&mut kids);
        } else if other_dummy || (msgs[m].reply && !other_reply) {
            f.nodes[other].children.push(t);
        } else {
            // A new dummy holds both, in the table message's place.
            let d = f.node(None);
            removed.push(false);
            f.nodes[d].children = vec![other, t];
            replaced.insert(other, d);
            table.insert(subject, d);
        }
        removed[t] = true;
    }
    let mut top: Vec<usize> = top
        .into_iter()
        .filter(|t| !removed[*t])
        .map(|t| {
            let mut x = t;
            while let Some(&d) = replaced.get(&x) {
                x = d;
            }
            x
        })
        .collect();
    // (7) Sort siblings at every level (the new dummies and the grown
    // threads included), then the threads themselves.
    f.sort_children(&top);
    top.sort_by_key(|&t| f.key(t));
    (f, top)
}

/// ORDEREDSUBJECT (RFC 5256 §3): messages grouped by base subject, each group
/// a thread whose first (oldest) message is the parent of all the others;
/// threads in the order of their first message.
fn ordered_subject(msgs: &[ThreadMsg]) -> (Forest<'_>, Vec<usize>) {
    let mut f = Forest {
        msgs,
        nodes: Vec::with_capacity(msgs.len()),
        max_depth: 0,
    };
    let mut order: Vec<usize> = (0..msgs.len()).collect();
    order.sort_by(|&a, &b| {
        msgs[a]
            .subject
            .cmp(&msgs[b].subject)
            .then((msgs[a].date, a).cmp(&(msgs[b].date, b)))
    });
    let mut top = Vec::new();
    let mut current: Option<(usize, &str)> = None;
    for m in order {
        let n = f.node(Some(m));
        match current {
            Some((root, subject)) if subject == msgs[m].subject => {
                f.nodes[root].children.push(n);
                f.nodes[n].parent = Some(root);
            }
            _ => {
                top.push(n);
                current = Some((n, msgs[m].subject.as_str()));
            }
        }
    }
    top.sort_by_key(|&t| f.key(t));
    (f, top)
}

/// The THREAD response for the trees under `top`: a message followed by its
/// only child continues a chain; several children are branches.
fn to_response(f: &Forest<'_>, top: &[usize]) -> Vec<Thread> {
    let number = |n: usize| {
        f.nodes[n]
            .msg
            .and_then(|m| NonZeroU32::new(f.msgs[m].number))
    };
    // One thread from node `n` at nesting `level`.
    fn build(
        f: &Forest<'_>,
        n: usize,
        level: usize,
        number: &dyn Fn(usize) -> Option<NonZeroU32>,
    ) -> Thread {
        let mut t = Thread::default();
        if level >= MAX_THREAD_NESTING {
            // Too deep to nest further: the rest of the tree as one chain.
            let order = {
                let mut out = Vec::new();
                let mut stack = vec![n];
                while let Some(x) = stack.pop() {
                    out.push(x);
                    stack.extend(f.nodes[x].children.iter().rev());
                }
                out
            };
            t.ids.extend(order.into_iter().filter_map(number));
            return t;
        }
        let mut x = n;
        loop {
            t.ids.extend(number(x));
            match f.nodes[x].children.as_slice() {
                [] => break,
                [only] => x = *only,
                many => {
                    t.children = many
                        .iter()
                        .map(|&c| build(f, c, level + 1, number))
                        .collect();
                    break;
                }
            }
        }
        t
    }
    top.iter().map(|&t| build(f, t, 1, &number)).collect()
}

/// Thread `msgs` (in mailbox order) with `algorithm`; `None` for an algorithm
/// this server does not implement.
pub(crate) fn thread(
    msgs: &[ThreadMsg],
    algorithm: &ThreadAlgorithm,
    max_refs: usize,
    max_depth: usize,
) -> Option<Vec<Thread>> {
    let (f, top) = match algorithm {
        ThreadAlgorithm::OrderedSubject => ordered_subject(msgs),
        ThreadAlgorithm::References => references(msgs, false, max_refs, max_depth),
        ThreadAlgorithm::Refs => references(msgs, true, max_refs, max_depth),
        _ => return None,
    };
    Some(to_response(&f, &top))
}

impl ServerConnection {
    /// THREAD and UID THREAD (RFC 5256 §3): `* THREAD …` over the messages
    /// matching `search`, with sequence numbers (UIDs for UID THREAD). An
    /// unknown algorithm is `BAD`, as are the search errors SEARCH gives.
    pub(super) fn thread_cmd(
        &mut self,
        tag: Tag,
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: Charset,
        search: Vec<SearchKey>,
    ) {
        if !matches!(
            algorithm,
            ThreadAlgorithm::OrderedSubject | ThreadAlgorithm::References | ThreadAlgorithm::Refs
        ) {
            self.tagged(
                tag,
                StatusKind::Bad,
                None,
                "unknown THREAD algorithm (ORDEREDSUBJECT, REFERENCES or REFS)",
            );
            return;
        }
        let Some((hits, _)) = self.matching(&tag, Some(&charset), &search) else {
            return;
        };
        let State::Selected { user, mailbox } = &self.state else {
            return;
        };
        let limits = MimeLimits::default();
        let references = !matches!(algorithm, ThreadAlgorithm::OrderedSubject);
        let mut msgs = Vec::with_capacity(hits.len());
        for (seq, u) in hits {
            let stored = self.store.message(user, &mailbox.name, u).ok();
            let parsed = stored
                .as_ref()
                .map(|m| ParsedMessage::parse(super::fetch::header_of(&m.data), &limits));
            let (subject, reply) = base_subject_reply(
                &parsed
                    .as_ref()
                    .and_then(ParsedMessage::subject)
                    .unwrap_or_default(),
            );
            let mut m = ThreadMsg {
                number: if uid { u.get() } else { seq as u32 },
                date: sent_date(stored.as_ref(), parsed.as_ref()),
                subject: subject.to_ascii_uppercase(),
                reply,
                ..ThreadMsg::default()
            };
            if let (true, Some(p)) = (references, parsed.as_ref()) {
                m.id = p
                    .header_value("Message-ID")
                    .and_then(|v| message_ids(v).into_iter().next());
                m.refs = p
                    .header_value("References")
                    .map(message_ids)
                    .unwrap_or_default();
                if m.refs.is_empty() {
                    m.refs = p
                        .header_value("In-Reply-To")
                        .and_then(|v| message_ids(v).into_iter().next())
                        .into_iter()
                        .collect();
                }
            }
            msgs.push(m);
        }
        let l = &self.config.limits;
        let threads = thread(
            &msgs,
            &algorithm,
            l.thread_max_references,
            l.thread_max_depth,
        )
        .unwrap_or_default();
        self.data(Data::Thread(threads));
        self.sync_mailbox(uid);
        self.tagged(tag, StatusKind::Ok, None, "THREAD completed");
    }
}

#[cfg(test)]
mod tests {
    use super::{message_ids, thread, ThreadMsg, MAX_THREAD_NESTING};
    use imap_proto::{Thread, ThreadAlgorithm};

    fn msg(n: u32, date: i64, id: &str, refs: &[&str]) -> ThreadMsg {
        ThreadMsg {
            number: n,
            date,
            id: (!id.is_empty()).then(|| id.as_bytes().to_vec()),
            refs: refs.iter().map(|r| r.as_bytes().to_vec()).collect(),
            ..ThreadMsg::default()
        }
    }

    fn show(ts: &[Thread]) -> String {
        fn one(t: &Thread, out: &mut String) {
            out.push('(');
            let ids: Vec<String> = t.ids.iter().map(|n| n.to_string()).collect();
            out.push_str(&ids.join(" "));
            if !t.children.is_empty() && !t.ids.is_empty() {
                out.push(' ');
            }
            for c in &t.children {
                one(c, out);
            }
            out.push(')');
        }
        let mut s = String::new();
        for t in ts {
            one(t, &mut s);
        }
        s
    }

    #[test]
    fn parses_message_ids() {
        let ids = message_ids(b" <a@b> (comment <x>) <c@d>\r\n\t<bad> <e@f");
        assert_eq!(ids, vec![b"a@b".to_vec(), b"c@d".to_vec()]);
        assert!(message_ids(b"<@b> <a@> <a b@c>").is_empty());
    }

    /// A References field of thousands of ids, and ids that refer to each
    /// other in a loop, cost bounded work and give a finite answer.
    #[test]
    fn hostile_references_are_bounded() {
        let many: Vec<String> = (0..20_000).map(|i| format!("{i}@x")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut msgs = vec![msg(1, 1, "a@x", &refs)];
        // Loops: b refers to c, c to b, and a chain back to the first.
        msgs.push(msg(2, 2, "b@x", &["c@x"]));
        msgs.push(msg(3, 3, "c@x", &["b@x"]));
        msgs.push(msg(4, 4, "19999@x", &["a@x"]));
        let started = std::time::Instant::now();
        let out = thread(&msgs, &ThreadAlgorithm::References, 100, 1000).unwrap();
        assert!(started.elapsed().as_secs() < 5);
        let text = show(&out);
        for n in ["1", "2", "3", "4"] {
            assert_eq!(text.matches(n).count(), 1, "{text}");
        }
    }

    /// A deep tree of branches nests at most MAX_THREAD_NESTING lists.
    #[test]
    fn deep_branches_are_flattened() {
        // Each message n has two replies: n+1 (which continues) and a leaf.
        let mut msgs = vec![msg(1, 0, "m1@x", &[])];
        let mut n = 1u32;
        for depth in 1..200u32 {
            let parent = format!("m{depth}@x");
            n += 1;
            msgs.push(msg(
                n,
                i64::from(n),
                &format!("m{}@x", depth + 1),
                &[&parent],
            ));
            n += 1;
            msgs.push(msg(n, i64::from(n), &format!("leaf{depth}@x"), &[&parent]));
        }
        let out = thread(&msgs, &ThreadAlgorithm::References, 100, 1000).unwrap();
        fn depth(t: &Thread) -> usize {
            1 + t.children.iter().map(depth).max().unwrap_or(0)
        }
        assert_eq!(out.len(), 1);
        assert_eq!(depth(&out[0]), MAX_THREAD_NESTING);
        let text = show(&out);
        let count = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .count();
        assert_eq!(count, msgs.len());
    }
}
