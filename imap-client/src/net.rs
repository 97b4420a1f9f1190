//! Socket settings every client connection gets: TCP keepalive.
//!
//! A connection can die without a FIN: a NAT or firewall forgets it, the
//! server's host loses power, a laptop changes networks. A client waiting in
//! IDLE would then notice only when it next writes (the IDLE re-issue, up to
//! 29 minutes later; RFC 2177 §3). With keepalive on, the kernel probes a
//! silent connection and fails the pending read within
//! `KEEPALIVE_IDLE + KEEPALIVE_PROBES × KEEPALIVE_INTERVAL` (two minutes with
//! these values), and the drivers reconnect as after any connection loss. The
//! probes also keep NAT mappings alive.

use std::time::Duration;

/// Silence before the first probe.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Time between unanswered probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
/// Unanswered probes before the connection is declared dead.
pub const KEEPALIVE_PROBES: u32 = 4;

/// Turn on TCP keepalive for `socket` with the timings above. On Linux all
/// three timings are set; elsewhere nothing is done (the drivers still notice
/// a dead connection at the IDLE re-issue). Errors are returned for the
/// caller to ignore: keepalive is an optimisation, never a reason to fail a
/// connection.
#[cfg(target_os = "linux")]
pub fn keepalive<S: std::os::fd::AsFd>(socket: &S) -> std::io::Result<()> {
    use rustix::net::sockopt;
    sockopt::set_socket_keepalive(socket, true)?;
    sockopt::set_tcp_keepidle(socket, KEEPALIVE_IDLE)?;
    sockopt::set_tcp_keepintvl(socket, KEEPALIVE_INTERVAL)?;
    sockopt::set_tcp_keepcnt(socket, KEEPALIVE_PROBES)?;
    Ok(())
}

/// See the Linux version: nothing to do here.
#[cfg(not(target_os = "linux"))]
pub fn keepalive<S>(_socket: &S) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_set_with_our_timings() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        use rustix::net::sockopt;
        assert!(!sockopt::socket_keepalive(&tcp).unwrap());
        keepalive(&tcp).unwrap();
        assert!(sockopt::socket_keepalive(&tcp).unwrap());
        assert_eq!(sockopt::tcp_keepidle(&tcp).unwrap(), KEEPALIVE_IDLE);
        assert_eq!(sockopt::tcp_keepintvl(&tcp).unwrap(), KEEPALIVE_INTERVAL);
        assert_eq!(sockopt::tcp_keepcnt(&tcp).unwrap(), KEEPALIVE_PROBES);
    }
}
