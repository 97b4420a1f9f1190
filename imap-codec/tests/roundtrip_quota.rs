//! QUOTA (RFC 9208) on the wire: the exact responses the server sends
//! (QUOTA, QUOTAROOT, the capabilities, STATUS DELETED-STORAGE, OVERQUOTA)
//! decode to what they say and re-encode byte for byte, and generated QUOTA
//! and QUOTAROOT responses survive `decode(encode(x)) == x`.
#![allow(missing_docs)]

mod common;

use bytes::{Bytes, BytesMut};
use imap_codec::{decode_response, encode_response, DecodeConfig, Decoded, EncodeConfig};
use imap_proto::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn decode(input: &[u8]) -> Response {
    let b = Bytes::copy_from_slice(input);
    match decode_response(&b, &DecodeConfig::responses()) {
        Ok(Decoded::Complete { value, consumed }) => {
            assert_eq!(consumed, input.len(), "consumed");
            value
        }
        other => panic!("{other:?} for {:?}", String::from_utf8_lossy(input)),
    }
}

fn encode(r: &Response) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_response(r, &mut out, &EncodeConfig::default());
    out.to_vec()
}

/// Decode `wire`, check it is `want`, and that it encodes back to `wire`.
#[track_caller]
fn exact(wire: &str, want: Response) {
    let got = decode(wire.as_bytes());
    assert_eq!(got, want, "{wire:?}");
    assert_eq!(String::from_utf8_lossy(&encode(&got)), wire);
}

fn root() -> AString {
    AString::from_static("User quota")
}

fn res(name: &'static str, usage: u64, limit: u64) -> QuotaResource {
    QuotaResource {
        name: Atom::from_static(name),
        usage,
        limit,
    }
}

#[test]
fn server_quota_responses() {
    exact(
        "* QUOTAROOT INBOX \"User quota\"\r\n",
        Response::Data(Data::QuotaRoot {
            mailbox: Mailbox::inbox(),
            roots: vec![root()],
        }),
    );
    exact(
        "* QUOTA \"User quota\" (STORAGE 2 4 MESSAGE 2 3)\r\n",
        Response::Data(Data::Quota {
            root: root(),
            resources: vec![res("STORAGE", 2, 4), res("MESSAGE", 2, 3)],
        }),
    );
    exact(
        "* QUOTA \"User quota\" ()\r\n",
        Response::Data(Data::Quota {
            root: root(),
            resources: vec![],
        }),
    );
    exact(
        "* STATUS INBOX (DELETED 1 DELETED-STORAGE 3)\r\n",
        Response::Data(Data::Status {
            mailbox: Mailbox::inbox(),
            items: vec![StatusItem::Deleted(1), StatusItem::DeletedStorage(3)],
        }),
    );
    exact(
        "B NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n",
        Response::Status(Status::Tagged {
            tag: Tag::try_from("B").unwrap(),
            kind: StatusKind::No,
            code: Some(Code::OverQuota),
            text: Text::try_from("Quota exceeded (mailbox for user is full)").unwrap(),
        }),
    );
    let caps = decode(b"* CAPABILITY IMAP4rev1 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE QUOTASET APPENDLIMIT=3096\r\n");
    let Response::Data(Data::Capability(caps)) = caps else {
        panic!("{caps:?}")
    };
    assert_eq!(
        &caps[1..5],
        &[
            Capability::Quota,
            Capability::QuotaRes(Atom::from_static("STORAGE")),
            Capability::QuotaRes(Atom::from_static("MESSAGE")),
            Capability::QuotaSet,
        ]
    );
    assert_eq!(caps[5], Capability::AppendLimit(Some(3096)));
}

fn resource() -> impl Strategy<Value = QuotaResource> {
    (common::atom(), any::<u64>(), any::<u64>()).prop_map(|(name, usage, limit)| QuotaResource {
        name,
        usage: usage >> 1,
        limit: limit >> 1,
    })
}

proptest! {
    #[test]
    fn quota_round_trip(root in common::istring(), resources in vec(resource(), 0..4)) {
        let r = Response::Data(Data::Quota { root, resources });
        prop_assert_eq!(decode(&encode(&r)), r);
    }

    #[test]
    fn quotaroot_round_trip(mailbox in common::mailbox(), roots in vec(common::istring(), 0..3)) {
        let r = Response::Data(Data::QuotaRoot { mailbox, roots });
        prop_assert_eq!(decode(&encode(&r)), r);
    }
}
