//! HTTPS for the timing proxy, because DynamoDB only speaks HTTPS: a
//! function's first call then pays for what it pays in AWS (loading the
//! root certificates, the TLS handshake, seeding the crypto library's random
//! generator) and every call for TLS records. The certificate is a fresh
//! one for 127.0.0.1 from a throwaway CA, made with the `openssl` command; the
//! functions trust that CA through `QUIRE_EXTRA_CA_FILE`, on top of the
//! Amazon roots they always load (shared/src/https.rs).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

pub struct Certificate {
    pub acceptor: TlsAcceptor,
    /// The throwaway CA, for the functions' `QUIRE_EXTRA_CA_FILE`.
    pub ca: PathBuf,
}

pub fn certificate(dir: &Path) -> Result<Certificate, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    // webpki refuses a CA certificate as the server's own, so: a throwaway
    // CA (trusted by the functions) and a server certificate it signs.
    let (ca_key, ca, key, request, cert, extensions) =
        (dir.join("ca-key.pem"), dir.join("ca.pem"), dir.join("key.pem"), dir.join("server.csr"), dir.join("cert.pem"), dir.join("server.ext"));
    std::fs::write(&extensions, "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
        .map_err(|e| e.to_string())?;
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[&["req", "-x509"][..], &new_key, &["-days", "2", "-subj", "/CN=quire-bench-ca", "-keyout"]].concat(),
        &[&ca_key, Path::new("-out"), &ca],
    )?;
    openssl(&[&["req"][..], &new_key, &["-subj", "/CN=127.0.0.1", "-keyout"]].concat(), &[&key, Path::new("-out"), &request])?;
    openssl(
        &["x509", "-req", "-days", "2", "-set_serial", "1", "-in"],
        &[&request, Path::new("-CA"), &ca, Path::new("-CAkey"), &ca_key, Path::new("-extfile"), &extensions, Path::new("-out"), &cert],
    )?;
    let cert_pem = std::fs::read(&cert).map_err(|e| e.to_string())?;

    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| e.to_string())?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    Ok(Certificate { acceptor: TlsAcceptor::from(Arc::new(config)), ca })
}

fn openssl(args: &[&str], paths: &[&Path]) -> Result<(), String> {
    let status = std::process::Command::new("openssl")
        .args(args)
        .args(paths)
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("openssl: {e} (use --plain to run without TLS)"))?;
    if status.success() { Ok(()) } else { Err(format!("openssl {} failed (use --plain to run without TLS)", args[0])) }
}

/// A TCP listener that hands axum TLS streams. Handshakes happen in
/// `accept`, one at a time, which is enough for one client process.
pub struct TlsListener {
    pub listener: TcpListener,
    pub acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            // A client that gives up mid-handshake (a killed function) is just dropped.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
