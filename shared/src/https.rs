//! The HTTPS client the functions reach DynamoDB with.
//!
//! It trusts only the roots DynamoDB's certificates chain to (Amazon Trust
//! Services: Amazon Root CA 1–4 and Starfield Services Root G2), built into
//! the binary. The SDK's default client instead reads the machine's whole
//! trust store at every cold start (about 140 roots, plus a directory of
//! files on some systems): 0.6–2 ms of init for trust nobody uses
//! (BENCHMARKS.md, "Init").
//!
//! An endpoint with another certificate (a TLS proxy, a test server, an
//! engine in a region outside Amazon Trust Services) is trusted by naming a
//! PEM file of extra roots in `QUIRE_EXTRA_CA_FILE`.

use crate::Error;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Extra roots to trust besides Amazon's (a PEM file).
pub const EXTRA_CA_FILE_ENV: &str = "QUIRE_EXTRA_CA_FILE";

/// Amazon Trust Services' roots, from Debian's ca-certificates (Mozilla's
/// list): they expire in 2037–2040.
pub const AMAZON_ROOTS_PEM: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The client, trusting Amazon's roots and those in `QUIRE_EXTRA_CA_FILE`.
pub fn client_from_env() -> Result<SharedHttpClient, Error> {
    let extra = match std::env::var_os(EXTRA_CA_FILE_ENV) {
        Some(path) => {
            Some(std::fs::read(&path).map_err(|e| Error::internal(format!("{EXTRA_CA_FILE_ENV}: cannot read {}: {e}", path.to_string_lossy())))?)
        }
        None => None,
    };
    client(extra)
}

/// The client, trusting Amazon's roots and the certificates in `extra_pem`.
pub fn client(extra_pem: Option<Vec<u8>>) -> Result<SharedHttpClient, Error> {
    let mut roots = TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_ROOTS_PEM);
    if let Some(pem) = extra_pem {
        // The SDK panics on a bad certificate when it first connects: check
        // now, so a bad file is an init error that says what is wrong.
        let count = trust_anchors(&pem).map_err(|e| Error::internal(format!("{EXTRA_CA_FILE_ENV}: {e}")))?;
        if count == 0 {
            return Err(Error::internal(format!("{EXTRA_CA_FILE_ENV}: no certificate in the file")));
        }
        roots = roots.with_pem_certificate(pem);
    }
    let context = TlsContext::builder().with_trust_store(roots).build().map_err(|e| Error::internal(format!("TLS context: {e}")))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// How many root certificates a PEM text holds, each checked the way the
/// SDK will use it.
fn trust_anchors(pem: &[u8]) -> Result<usize, String> {
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("not a PEM certificate file: {e}"))?;
        store.add(cert).map_err(|e| format!("not a usable root certificate: {e}"))?;
    }
    Ok(store.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_roots_are_five_valid_certificates() {
        assert_eq!(trust_anchors(AMAZON_ROOTS_PEM), Ok(5));
    }

    #[test]
    fn a_bad_extra_file_is_an_error_not_a_panic_later() {
        let broken = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec();
        assert!(client(Some(broken)).is_err());
        assert!(client(Some(b"just text".to_vec())).is_err());
        // Valid PEM and base64, but not a certificate.
        let not_a_certificate = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec();
        assert!(client(Some(not_a_certificate)).is_err());
        assert!(client(Some(AMAZON_ROOTS_PEM.to_vec())).is_ok());
    }
}
