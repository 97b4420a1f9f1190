//! The TLS set-up: the certificate from `--cert`/`--key`, or a self-signed
//! development certificate kept in the data directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The development certificate's file in the data directory.
pub(crate) const DEV_CERT_FILE: &str = "dev-cert.pem";
/// The development key's file in the data directory.
pub(crate) const DEV_KEY_FILE: &str = "dev-key.pem";

/// A rustls server configuration from PEM files, or from the development
/// certificate in `data_dir` (made on first use).
pub(crate) fn server_config(
    cert_and_key: Option<(PathBuf, PathBuf)>,
    data_dir: &Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let (cert, key) = match cert_and_key {
        Some(files) => files,
        None => dev_certificate(data_dir)?,
    };
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate {}: {e}", cert.display()))?;
    // RFC 7301's registered id for IMAP: a client that offers ALPN must offer
    // it, which stops cross-protocol attacks (ALPACA).
    config.alpn_protocols = vec![b"imap".to_vec()];
    Ok(Arc::new(config))
}

/// The development certificate's files in `data_dir`, made if missing.
fn dev_certificate(data_dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let cert = data_dir.join(DEV_CERT_FILE);
    let key = data_dir.join(DEV_KEY_FILE);
    if cert.exists() && key.exists() {
        tracing::info!(cert = %cert.display(), "using the development certificate");
        return Ok((cert, key));
    }
    let mut params = rcgen::CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(|e| format!("development certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "imap-rs development certificate");
    let signing_key = rcgen::KeyPair::generate().map_err(|e| format!("development key: {e}"))?;
    let certificate = params
        .self_signed(&signing_key)
        .map_err(|e| format!("development certificate: {e}"))?;
    write_private(&key, signing_key.serialize_pem().as_bytes())?;
    fs::write(&cert, certificate.pem()).map_err(|e| format!("{}: {e}", cert.display()))?;
    tracing::warn!(
        cert = %cert.display(),
        "generated a self-signed development certificate for localhost; clients will not trust it (use --cert/--key in production)"
    );
    Ok((cert, key))
}

/// Write a file only its owner can read.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents))
        .map_err(|e| format!("{}: {e}", path.display()))
}
