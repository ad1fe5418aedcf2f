//! TLS for the fake: a throw-away CA and a leaf for `localhost`, `127.0.0.1`, `::1` and the
//! scenario's API hostname, generated at start, or a certificate and key given as PEM files.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// A server TLS configuration, and the PEM of the CA that clients must trust when it was
/// generated here.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// Ready for a `TlsAcceptor`.
    pub config: Arc<ServerConfig>,
    /// PEM of the generated CA; `None` for files given by the user.
    pub ca_pem: Option<String>,
}

fn tls_error(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

/// Generates a CA and a leaf certificate valid for `hosts` (DNS names or IP addresses).
pub fn generate(hosts: &[String]) -> Result<TlsMaterial> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "duo-mock test CA (not trusted anywhere else)");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(tls_error)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf_params = CertificateParams::new(hosts.to_vec()).map_err(tls_error)?;
    leaf_params.distinguished_name.push(
        DnType::CommonName,
        hosts.first().map_or("localhost", String::as_str),
    );
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().map_err(tls_error)?;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(tls_error)?;

    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(tls_error)?;
    Ok(TlsMaterial {
        config: server_config(chain, key)?,
        ca_pem: Some(ca_cert.pem()),
    })
}

/// Loads a certificate chain and its private key from PEM files.
pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsMaterial> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| Error::io(path, e));
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::io(cert, e))?;
    if chain.is_empty() {
        return Err(Error::Tls(format!("{}: no certificate found", cert.display())));
    }
    let key_der = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| Error::io(key, e))?
        .ok_or_else(|| Error::Tls(format!("{}: no private key found", key.display())))?;
    Ok(TlsMaterial {
        config: server_config(chain, key_der)?,
        ca_pem: None,
    })
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_error)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
