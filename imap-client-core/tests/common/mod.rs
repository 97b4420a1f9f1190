//! Helpers shared by the sans-IO client tests that script the server's bytes.
#![allow(dead_code)]

use imap_client_core::{ClientConnection, ClientEvent, CommandHandle};
use imap_proto::{Data, StatusKind};

/// Every event the connection has queued.
pub(crate) fn events(c: &mut ClientConnection) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// The status and data of `h`'s completion among `evs`; panics when absent.
pub(crate) fn completed(evs: &[ClientEvent], h: CommandHandle) -> (StatusKind, Vec<Data>) {
    evs.iter()
        .find_map(|e| match e {
            ClientEvent::Completed {
                handle,
                status,
                data,
                ..
            } if *handle == h => Some((*status, data.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no completion for {h:?}: {evs:?}"))
}
