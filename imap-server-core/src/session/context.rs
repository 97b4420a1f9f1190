//! Search contexts (RFC 5267 §4, CONTEXT=SEARCH and CONTEXT=SORT) and the
//! ESEARCH result items SEARCH and ESORT share (RFC 4731 §3.1, RFC 5267 §3,
//! §4.4).
//!
//! A `SEARCH` or `SORT` with `RETURN (UPDATE …)` leaves a live context behind
//! in the selected mailbox: its criteria and its current result. Whenever the
//! session catches its view up with the mailbox ([`ServerConnection::
//! sync_mailbox`]), every live context is evaluated again and the difference
//! is reported, unsolicited, as `* ESEARCH (TAG "t") [UID] REMOVEFROM (…)`
//! (sent before the EXPUNGE responses of the same update, with the message
//! numbers from before them) and `ADDTO (…)` (sent after EXISTS, with the new
//! numbers), §4.3.
//!
//! Positions (§4.3.2): a SEARCH context is in mailbox order, so its position
//! is 0 (the client places the messages, as Dovecot does). A SORT context
//! gives each message its 1-based position in the sorted result: removals
//! from the highest position down, in the old result; additions from the
//! lowest up, in the new result, so a client that applies them one by one
//! ends with the new result.
//!
//! A session keeps at most [`crate::ServerLimits::max_search_contexts`] live
//! contexts; beyond that the search is answered but not kept, with
//! `* NO [NOUPDATE "tag"]` (§4.3.1). `CANCELUPDATE` ends contexts (§4.3.5);
//! closing or changing the selected mailbox ends them all. Re-evaluation
//! costs one search per live context per update, so the limit also bounds
//! that work.

use std::collections::HashSet;
use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{
    Atom, Code, ContextUpdate, Data, ESearchItem, ESearchResponse, SearchKey, SearchReturn,
    SeqBound, SeqRange, SequenceSet, SortCriterion, StatusKind, Tag, Uid,
};

use super::{ServerConnection, State};

/// A live search (RFC 5267 §4.3): what it asked and what it found.
#[derive(Debug, Clone)]
pub(super) struct SearchContext {
    /// The tag of the command that made it; updates carry it.
    tag: Tag,
    /// Whether updates give UIDs.
    uid: bool,
    /// The search criteria.
    criteria: Vec<SearchKey>,
    /// The sort criteria of a SORT context.
    sort: Option<Vec<SortCriterion>>,
    /// The current result, in result order.
    result: Vec<Uid>,
}

/// Check return options for what this server refuses: `PARTIAL` with `ALL`
/// (the client must ask for one or the other, as Dovecot insists), and the
/// negative ranges of RFC 9394 (not advertised).
pub(super) fn check_return(opts: &[SearchReturn]) -> Result<(), &'static str> {
    let partial = opts
        .iter()
        .filter(|o| matches!(o, SearchReturn::Partial(_)))
        .count();
    if partial > 1 {
        return Err("only one PARTIAL range");
    }
    if partial == 1 && opts.contains(&SearchReturn::All) {
        return Err("PARTIAL conflicts with ALL");
    }
    if opts
        .iter()
        .any(|o| matches!(o, SearchReturn::Partial(r) if r.from_end))
    {
        return Err("negative PARTIAL ranges are not supported");
    }
    Ok(())
}

/// A sequence set listing `nums` in the given order: runs of consecutive
/// ascending numbers become ranges (`5,3:4,2,1`), nothing is reordered, as
/// ESORT needs (RFC 5267 §3.2). `None` when empty.
pub(super) fn ordered_set(nums: &[u32]) -> Option<SequenceSet> {
    let mut ranges: Vec<SeqRange> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let lo = nums[i];
        let mut hi = lo;
        while i + 1 < nums.len() && hi.checked_add(1) == Some(nums[i + 1]) {
            hi = nums[i + 1];
            i += 1;
        }
        i += 1;
        ranges.push(SeqRange {
            start: SeqBound::Value(NonZeroU32::new(lo)?),
            end: SeqBound::Value(NonZeroU32::new(hi)?),
        });
    }
    SequenceSet::from_ranges(ranges).ok()
}

/// The ESEARCH items for a result `nums` (in result order: ascending for
/// SEARCH, sort order for SORT with `sorted`) and the return options, in
/// Dovecot's order MIN MAX ALL PARTIAL COUNT. No options (or only
/// `CONTEXT`) mean ALL (RFC 4731 §3.1); UPDATE and SAVE add no items. MIN and
/// MAX are absent when nothing matched; for SORT they are the first and last
/// message in sort order (RFC 5267 §3.1).
pub(super) fn result_items(opts: &[SearchReturn], nums: &[u32], sorted: bool) -> Vec<ESearchItem> {
    let has = |r: SearchReturn| opts.contains(&r);
    let plain_all = opts.iter().all(|o| *o == SearchReturn::Context);
    let mut items = Vec::new();
    let (min, max) = if sorted {
        (nums.first().copied(), nums.last().copied())
    } else {
        (nums.iter().copied().min(), nums.iter().copied().max())
    };
    if has(SearchReturn::Min) {
        items.extend(min.map(ESearchItem::Min));
    }
    if has(SearchReturn::Max) {
        items.extend(max.map(ESearchItem::Max));
    }
    if plain_all || has(SearchReturn::All) {
        let set = if sorted {
            ordered_set(nums)
        } else {
            SequenceSet::from_numbers(nums.iter().copied())
        };
        items.extend(set.map(ESearchItem::All));
    }
    for o in opts {
        if let SearchReturn::Partial(range) = o {
            // RFC 5267 §4.4: positions lo..=hi of the result (1-based).
            let (lo, hi) = range.bounds();
            let part: Vec<u32> = nums
                .iter()
                .copied()
                .skip(lo as usize - 1)
                .take((hi - lo) as usize + 1)
                .collect();
            let results = if sorted {
                ordered_set(&part)
            } else {
                SequenceSet::from_numbers(part)
            };
            let (Some(first), Some(second)) = (NonZeroU32::new(lo), NonZeroU32::new(hi)) else {
                continue;
            };
            items.push(ESearchItem::Partial {
                range: imap_proto::PartialRange {
                    first,
                    second,
                    from_end: false,
                },
                results,
            });
        }
    }
    if has(SearchReturn::Count) {
        items.push(ESearchItem::Count(nums.len() as u32));
    }
    items
}

impl ServerConnection {
    /// Keep a `RETURN (UPDATE)` search as a live context (RFC 5267 §4.3), or
    /// refuse with `* NO [NOUPDATE "tag"]` past the session's limit (§4.3.1).
    /// A context with the same tag replaces the old one.
    pub(super) fn add_context(
        &mut self,
        tag: &Tag,
        uid: bool,
        criteria: Vec<SearchKey>,
        sort: Option<Vec<SortCriterion>>,
        result: Vec<Uid>,
    ) {
        let limit = self.config.limits.max_search_contexts;
        let State::Selected { mailbox, .. } = &mut self.state else {
            return;
        };
        mailbox.contexts.retain(|c| c.tag != *tag);
        if mailbox.contexts.len() >= limit {
            let mut quoted = Vec::with_capacity(tag.as_bytes().len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(tag.as_bytes());
            quoted.push(b'"');
            self.untagged(
                StatusKind::No,
                Some(Code::Other {
                    name: Atom::from_static("NOUPDATE"),
                    text: Some(Bytes::from(quoted)),
                }),
                "too many live searches",
            );
            return;
        }
        mailbox.contexts.push(SearchContext {
            tag: tag.clone(),
            uid,
            criteria,
            sort,
            result,
        });
    }

    /// CANCELUPDATE (RFC 5267 §4.3.5): end the live searches with these tags
    /// (tags without one are ignored).
    pub(super) fn cancel_update(&mut self, tag: Tag, tags: &[Tag]) {
        if let State::Selected { mailbox, .. } = &mut self.state {
            mailbox.contexts.retain(|c| !tags.contains(&c.tag));
        }
        self.tagged(tag, StatusKind::Ok, None, "CANCELUPDATE completed");
    }

    /// The view's UIDs by sequence number before an update, when there are
    /// live contexts to update (for the REMOVEFROM numbers); called by
    /// [`ServerConnection::sync_mailbox`] before it changes the view.
    pub(super) fn context_view(&self) -> Option<Vec<Uid>> {
        match &self.state {
            State::Selected { mailbox, .. } if !mailbox.contexts.is_empty() => {
                Some(mailbox.messages.iter().map(|m| m.uid).collect())
            }
            _ => None,
        }
    }

    /// Evaluate every live context again and add its changes to the
    /// untagged responses `out` of an update: REMOVEFROM first (numbered
    /// as in `before`, the view from [`Self::context_view`]), ADDTO last.
    /// A context whose search fails (the store cannot read a message) is
    /// left as it was.
    pub(super) fn context_updates(
        &mut self,
        before: Option<Vec<Uid>>,
        out: Vec<Data>,
    ) -> Vec<Data> {
        let Some(before) = before else {
            return out;
        };
        let contexts = match &self.state {
            State::Selected { mailbox, .. } => mailbox.contexts.clone(),
            _ => return out,
        };
        let seqs: std::collections::HashMap<Uid, u32> = before
            .iter()
            .enumerate()
            .map(|(i, u)| (*u, i as u32 + 1))
            .collect();
        let old_seq = |u: Uid| seqs.get(&u).copied();
        let mut removals = Vec::new();
        let mut additions = Vec::new();
        let mut results = Vec::with_capacity(contexts.len());
        for c in &contexts {
            let Ok(hits) = self.evaluate(&c.criteria) else {
                results.push(c.result.clone());
                continue;
            };
            let rows = match &c.sort {
                Some(criteria) => self.sorted(hits, criteria),
                None => hits,
            };
            let new: Vec<Uid> = rows.iter().map(|r| r.1).collect();
            let new_set: HashSet<Uid> = new.iter().copied().collect();
            let old_set: HashSet<Uid> = c.result.iter().copied().collect();
            let number = |u: Uid, seq: Option<u32>| if c.uid { Some(u.get()) } else { seq };
            // Removed, numbered in the old view.
            let removed: Vec<(u32, u32)> = c
                .result
                .iter()
                .enumerate()
                .filter(|(_, u)| !new_set.contains(u))
                .filter_map(|(i, u)| Some((i as u32 + 1, number(*u, old_seq(*u))?)))
                .collect();
            // Added, numbered in the new view.
            let added: Vec<(u32, u32)> = rows
                .iter()
                .enumerate()
                .filter(|(_, (_, u))| !old_set.contains(u))
                .filter_map(|(i, (s, u))| Some((i as u32 + 1, number(*u, Some(*s as u32))?)))
                .collect();
            let updates = |list: Vec<(u32, u32)>, reverse: bool| -> Vec<ContextUpdate> {
                if c.sort.is_none() {
                    SequenceSet::from_numbers(list.into_iter().map(|(_, n)| n))
                        .map(|set| ContextUpdate { position: 0, set })
                        .into_iter()
                        .collect()
                } else {
                    let mut list = list;
                    if reverse {
                        list.reverse();
                    }
                    list.into_iter()
                        .filter_map(|(position, n)| {
                            Some(ContextUpdate {
                                position,
                                set: SequenceSet::single(NonZeroU32::new(n)?),
                            })
                        })
                        .collect()
                }
            };
            let esearch = |item: ESearchItem| {
                Data::ESearch(ESearchResponse {
                    tag: Some(c.tag.clone()),
                    uid: c.uid,
                    items: vec![item],
                })
            };
            let r = updates(removed, true);
            if !r.is_empty() {
                removals.push(esearch(ESearchItem::RemoveFrom(r)));
            }
            let a = updates(added, false);
            if !a.is_empty() {
                additions.push(esearch(ESearchItem::AddTo(a)));
            }
            results.push(new);
        }
        if let State::Selected { mailbox, .. } = &mut self.state {
            for (c, r) in mailbox.contexts.iter_mut().zip(results) {
                c.result = r;
            }
        }
        removals.extend(out);
        removals.extend(additions);
        removals
    }
}

#[cfg(test)]
mod tests {
    use super::{ordered_set, result_items};
    use imap_proto::{ESearchItem, PartialRange, SearchReturn, SequenceSet};
    use std::num::NonZeroU32;

    fn set(s: &str) -> SequenceSet {
        let ranges = s.split(',').map(|r| {
            let mut it = r.split(':').map(|n| n.parse::<u32>().unwrap());
            let lo = it.next().unwrap();
            let hi = it.next().unwrap_or(lo);
            imap_proto::SeqRange {
                start: imap_proto::SeqBound::Value(NonZeroU32::new(lo).unwrap()),
                end: imap_proto::SeqBound::Value(NonZeroU32::new(hi).unwrap()),
            }
        });
        SequenceSet::from_ranges(ranges).unwrap()
    }

    #[test]
    fn ordered_sets_keep_order() {
        assert_eq!(ordered_set(&[5, 3, 4, 2, 1]), Some(set("5,3:4,2,1")));
        assert_eq!(ordered_set(&[2, 3, 1, 5, 4]), Some(set("2:3,1,5,4")));
        assert_eq!(ordered_set(&[]), None);
    }

    #[test]
    fn partial_ranges() {
        let p = |a: u32, b: u32| {
            SearchReturn::Partial(PartialRange {
                first: NonZeroU32::new(a).unwrap(),
                second: NonZeroU32::new(b).unwrap(),
                from_end: false,
            })
        };
        let part = |items: Vec<ESearchItem>| match &items[..] {
            [ESearchItem::Partial { results, .. }] => results.clone(),
            other => panic!("{other:?}"),
        };
        let nums = [1, 2, 4, 5];
        assert_eq!(
            part(result_items(&[p(1, 3)], &nums, false)),
            Some(set("1:2,4"))
        );
        assert_eq!(
            part(result_items(&[p(3, 2)], &nums, false)),
            Some(set("2,4"))
        );
        assert_eq!(
            part(result_items(&[p(2, 10)], &nums, false)),
            Some(set("2,4:5"))
        );
        assert_eq!(part(result_items(&[p(5, 10)], &nums, false)), None);
        assert_eq!(
            part(result_items(&[p(2, 4)], &[5, 3, 4, 2, 1], true)),
            Some(set("3:4,2"))
        );
    }
}
