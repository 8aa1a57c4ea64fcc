//! Built-in TLS (`--tls-cert`, `--tls-key`) for a server with no proxy in front: the
//! certificate chain and key are read from PEM files at start-up and again on SIGHUP, so a
//! renewed certificate (certbot, acme.sh) takes effect without a restart. A reload that
//! fails keeps the certificate in use. The handshakes themselves are our tiny_http's
//! (vendor/tiny_http/src/ssl.rs), each on its connection's thread.
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::error::Error;

/// The certificate every handshake is answered with, swapped whole on a reload.
pub struct Certificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificate {
    /// Reads the files; any problem is said with the file's name, never its content.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Arc<Self>, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = read(cert_path, key_path, &provider)?;
        Ok(Arc::new(Certificate {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            provider,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Reads the files again; on success new handshakes use them (open connections keep
    /// the one they began with), on failure nothing changes.
    pub fn reload(&self) -> Result<(), Error> {
        let fresh = read(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    /// The server side of TLS 1.2 and 1.3 with rustls's safe defaults, speaking HTTP/1.1
    /// (ALPN), with this certificate.
    pub fn server_config(self: &Arc<Self>) -> Result<tiny_http::SslConfig, Error> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tiny_http::SslConfig(Arc::new(config)))
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(PoisonError::into_inner).clone())
    }
}

/// Names the files only: the key must never reach a log.
impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate").field("cert", &self.cert_path).field("key", &self.key_path).finish()
    }
}

/// The chain (leaf first) and the key that matches the leaf.
fn read(cert_path: &Path, key_path: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, Error> {
    let cert_bytes = std::fs::read(cert_path)
        .map_err(|e| Error::invalid(format!("--tls-cert: cannot read {}: {e}", cert_path.display())))?;
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("--tls-cert: {} is not PEM: {e}", cert_path.display())))?;
    if chain.is_empty() {
        return Err(Error::invalid(format!("--tls-cert: {} holds no CERTIFICATE block", cert_path.display())));
    }
    let key_bytes = std::fs::read(key_path)
        .map_err(|e| Error::invalid(format!("--tls-key: cannot read {}: {e}", key_path.display())))?;
    // The parser's own error could quote the file; ours names it only.
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| {
        Error::invalid(format!("--tls-key: {} holds no unencrypted PEM private key", key_path.display()))
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        Error::invalid(format!(
            "--tls-key: {} does not fit the certificate in {} ({e})",
            key_path.display(),
            cert_path.display()
        ))
    })
}
