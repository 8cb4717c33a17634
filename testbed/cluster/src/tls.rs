//! Certificates made per run: a throwaway CA and a server certificate for `127.0.0.1` and
//! `localhost`, so clients verify the kube-apiserver (and anything serving in front of
//! it, such as a fault proxy) the way they would a real cluster's (CA data in the
//! kubeconfig, no "insecure" switch).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer, pki_types::PrivatePkcs8KeyDer};

/// Generating certificates or building the TLS configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("cannot generate the cluster's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("cannot configure TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server side of TLS plus the CA a client must trust.
#[derive(Clone)]
pub struct Tls {
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca_pem", &self.ca_pem)
            .finish_non_exhaustive()
    }
}

/// A per-run CA and a server certificate for `127.0.0.1` and `localhost` signed by it, as
/// PEM: what a real kube-apiserver is given (`--tls-cert-file`, `--tls-private-key-file`)
/// and what a kubeconfig carries (`certificate-authority-data`).
pub struct ServingCert {
    pub ca_pem: String,
    /// The server certificate followed by the CA.
    pub chain_pem: String,
    pub key_pem: String,
    pub ca_der: rustls::pki_types::CertificateDer<'static>,
    leaf_der: rustls::pki_types::CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for ServingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingCert")
            .field("ca_pem", &self.ca_pem)
            .finish_non_exhaustive()
    }
}

impl ServingCert {
    pub fn generate(common_name: &str) -> Result<ServingCert, TlsError> {
        Ca::generate(common_name)?.serving_cert(
            common_name,
            &["127.0.0.1".to_string(), "localhost".to_string()],
        )
    }
}

/// A per-run certificate authority that signs the cluster's serving and client
/// certificates (a node's cluster has several: the API server's, the kubelet's, and the
/// API server's client certificate for the kubelet).
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: rustls::pki_types::CertificateDer<'static>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("pem", &self.pem)
            .finish_non_exhaustive()
    }
}

/// A certificate signed by a [`Ca`] and its key, as PEM.
#[derive(Clone)]
pub struct CertKey {
    /// The certificate followed by the CA.
    pub chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the key.
        f.debug_struct("CertKey").finish_non_exhaustive()
    }
}

impl Ca {
    pub fn generate(common_name: &str) -> Result<Ca, TlsError> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, format!("{common_name} CA"));
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = ca.self_signed(&key)?;
        Ok(Ca {
            issuer: Issuer::new(ca, key),
            pem: cert.pem(),
            der: cert.der().clone(),
        })
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `names` (IP addresses and DNS names).
    pub fn serving_cert(
        &self,
        common_name: &str,
        names: &[String],
    ) -> Result<ServingCert, TlsError> {
        let mut leaf = CertificateParams::new(names.to_vec())?;
        leaf.distinguished_name
            .push(DnType::CommonName, common_name);
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &self.issuer)?;
        Ok(ServingCert {
            ca_pem: self.pem.clone(),
            chain_pem: format!("{}{}", cert.pem(), self.pem),
            key_pem: key.serialize_pem(),
            ca_der: self.der.clone(),
            leaf_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// A client certificate: Kubernetes reads the user from the common name and the
    /// group from the organization (rcgen holds one value per name type: one group).
    pub fn client_cert(&self, user: &str, group: Option<&str>) -> Result<CertKey, TlsError> {
        let mut leaf = CertificateParams::new(Vec::<String>::new())?;
        leaf.distinguished_name.push(DnType::CommonName, user);
        if let Some(group) = group {
            leaf.distinguished_name
                .push(DnType::OrganizationName, group);
        }
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &self.issuer)?;
        Ok(CertKey {
            chain_pem: format!("{}{}", cert.pem(), self.pem),
            key_pem: key.serialize_pem(),
        })
    }
}

/// A key pair (ECDSA P-256) as PEM: the PKCS#8 private key and the public key, e.g. the
/// service-account signing key and the key that verifies its tokens.
pub fn key_pair_pem() -> Result<(String, String), TlsError> {
    let key = KeyPair::generate()?;
    Ok((key.serialize_pem(), key.public_key_pem()))
}

impl Tls {
    pub fn generate() -> Result<Tls, TlsError> {
        let cert = ServingCert::generate("testbed-apiserver")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.leaf_der, cert.ca_der], key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            ca_pem: cert.ca_pem,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}
