//! The client's TLS set-up (rustls with the `ring` provider): which
//! certificates to trust.
//!
//! - [`Trust::CaFile`]: the certificates of a PEM file (`--ca FILE`), for a
//!   server with a private or self-signed certificate;
//! - [`Trust::SystemRoots`]: the operating system's CA bundle (the default);
//! - [`Trust::DangerAcceptAnyCertificate`]: no certificate check at all
//!   (`--insecure`), see [`AcceptAnyCertificate`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Which server certificates to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Certificates issued by the system's certificate authorities: the
    /// bundle named by `SSL_CERT_FILE`, or the first of the usual bundle
    /// files that exists ([`SYSTEM_BUNDLES`]).
    SystemRoots,
    /// Certificates issued by (or equal to) one in this PEM file.
    CaFile(PathBuf),
    /// Any certificate, even an expired one or one for another host.
    ///
    /// <div class="warning">Dangerous: anyone on the path can read and change
    /// the session, password included. For tests against a throw-away server
    /// only.</div>
    DangerAcceptAnyCertificate,
}

/// Where Linux distributions and the BSDs keep the CA bundle (the list
/// Go's `crypto/x509` and `openssl-probe` search too). Reading it ourselves
/// keeps the example free of a trust-store crate.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

/// A rustls client configuration for `trust`, offering ALPN `imap`
/// (RFC 7301 registry; it stops cross-protocol attacks, ALPACA).
pub fn client_config(trust: &Trust) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let mut config = match trust {
        Trust::DangerAcceptAnyCertificate => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
        Trust::CaFile(path) => builder
            .with_root_certificates(roots_from(path)?)
            .with_no_client_auth(),
        Trust::SystemRoots => {
            let bundle = std::env::var_os("SSL_CERT_FILE")
                .map(PathBuf::from)
                .or_else(|| {
                    SYSTEM_BUNDLES
                        .iter()
                        .map(PathBuf::from)
                        .find(|p| p.is_file())
                })
                .ok_or("no system CA bundle found (set SSL_CERT_FILE, or use --ca FILE)")?;
            builder
                .with_root_certificates(roots_from(&bundle)?)
                .with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"imap".to_vec()];
    Ok(Arc::new(config))
}

/// The certificates of a PEM file as trust anchors.
fn roots_from(path: &Path) -> Result<RootCertStore, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "{}: no usable certificate in the file",
            path.display()
        ));
    }
    Ok(roots)
}

/// A certificate verifier that accepts every certificate.
///
/// <div class="warning">Dangerous: it gives up what TLS is for. An attacker
/// on the path can present any certificate and read the password. Only the
/// handshake signatures are still checked (that the server holds the key of
/// the certificate it sent), which protects against nothing on its own.
/// Used by `--insecure` only.</div>
#[derive(Debug)]
pub struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
