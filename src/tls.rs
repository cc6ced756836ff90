//! Trust anchors for document fetches (docs/contract.md §2): rustls with the `ring` provider, the platform's
//! roots, and `extra_ca_file` for private PKI and tests. Loaded once, when an engine is built, so that an
//! unreadable or hostile CA file is a configuration error at creation, never a surprise on the first fetch.

use std::io;
use std::sync::Arc;

use crate::config::{Config, ConfigError};

/// The TLS configuration: rustls with the `ring` provider, the platform's roots and `extra_ca_file`.
pub fn tls_config(config: &Config) -> Result<rustls::ClientConfig, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    // Platform roots; an unreadable system store only means fewer roots, never an error (tests add their CA).
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = &config.extra_ca_file {
        let pem = read_ca_file(path)?;
        let mut added = 0;
        for cert in rustls_pemfile_certs(&pem)
            .map_err(|e| ConfigError::new("extra_ca_file", format!("{path:?}: {e}")))?
        {
            roots.add(cert).map_err(|e| {
                ConfigError::new(
                    "extra_ca_file",
                    format!("{path:?} holds an unusable certificate: {e}"),
                )
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(ConfigError::new(
                "extra_ca_file",
                format!("{path:?} holds no PEM certificate"),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new("", format!("TLS set-up failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// The most an `extra_ca_file` may hold. A full public CA bundle is well under 1 MiB.
const MAX_CA_FILE_BYTES: u64 = 16 << 20;

/// Reads `extra_ca_file`: a regular file of at most [`MAX_CA_FILE_BYTES`]. Anything else is a configuration
/// error, not a read that never ends (`/dev/zero` filled memory until the process died; found while writing
/// the `c_abi` fuzz target) or never starts (opening a FIFO blocks until someone writes to it).
fn read_ca_file(path: &str) -> Result<Vec<u8>, ConfigError> {
    use std::io::Read;
    let unreadable =
        |e: io::Error| ConfigError::new("extra_ca_file", format!("{path:?} cannot be read: {e}"));
    let not_regular = || {
        ConfigError::new(
            "extra_ca_file",
            format!("{path:?} is not a regular file (a device, FIFO or directory)"),
        )
    };
    // Checked before opening, because opening a FIFO blocks; and again on the open file, which is what is read.
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    if !file.metadata().map_err(unreadable)?.is_file() {
        return Err(not_regular());
    }
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(unreadable)?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(ConfigError::new(
            "extra_ca_file",
            format!(
                "{path:?} is larger than {} MiB, so it is not a CA certificate file",
                MAX_CA_FILE_BYTES >> 20
            ),
        ));
    }
    Ok(pem)
}

/// Reads every `CERTIFICATE` block of a PEM file.
fn rustls_pemfile_certs(pem: &[u8]) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, String> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))
}
