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

/// Which certificate the fake presents (failure catalogue D5, D12). In every case the ready file
/// names the kit's CA: a client that trusts it sees exactly what a customer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateFault {
    /// A leaf signed by the kit's CA, for the right names.
    #[default]
    None,
    /// A leaf signed by another CA, as a TLS-inspecting proxy presents (D12).
    ForeignCa,
    /// A leaf signed by the kit's CA that expired in 2021.
    Expired,
    /// A leaf signed by the kit's CA for `wrong-host.example.net` only (D5).
    WrongHost,
}

/// Generates a CA and a leaf certificate valid for `hosts` (DNS names or IP addresses).
pub fn generate(hosts: &[String]) -> Result<TlsMaterial> {
    generate_with(hosts, CertificateFault::None)
}

fn new_ca(name: &str) -> Result<(rcgen::Certificate, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().map_err(tls_error)?;
    let cert = params.self_signed(&key).map_err(tls_error)?;
    Ok((cert, Issuer::new(params, key)))
}

/// Like [`generate`], presenting the certificate `fault` asks for.
pub fn generate_with(hosts: &[String], fault: CertificateFault) -> Result<TlsMaterial> {
    let (kit_cert, kit_issuer) = new_ca("duo-mock test CA (not trusted anywhere else)")?;
    let foreign = match fault {
        CertificateFault::ForeignCa => Some(new_ca("Corporate TLS Inspection CA")?),
        _ => None,
    };
    let names = match fault {
        CertificateFault::WrongHost => vec!["wrong-host.example.net".to_owned()],
        _ => hosts.to_vec(),
    };
    let mut leaf_params = CertificateParams::new(names.clone()).map_err(tls_error)?;
    leaf_params.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("localhost", String::as_str),
    );
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    if fault == CertificateFault::Expired {
        leaf_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf_key = KeyPair::generate().map_err(tls_error)?;
    let (issuer, issuer_cert) = match &foreign {
        Some((cert, issuer)) => (issuer, cert),
        None => (&kit_issuer, &kit_cert),
    };
    let leaf_cert = leaf_params.signed_by(&leaf_key, issuer).map_err(tls_error)?;
    // An inspecting proxy sends its leaf without its root: clients then report "unable to get
    // local issuer certificate", as customers do (§6), not "self-signed certificate in chain".
    let chain = match fault {
        CertificateFault::ForeignCa => vec![leaf_cert.der().clone()],
        _ => vec![leaf_cert.der().clone(), issuer_cert.der().clone()],
    };
    let key = PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(tls_error)?;
    Ok(TlsMaterial {
        config: server_config(chain, key)?,
        ca_pem: Some(kit_cert.pem()),
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
