//! Knowing the center: an enrollment over HTTPS pins the center's key, and every later call
//! checks it. A pin is the SHA-256 of a certificate's SubjectPublicKeyInfo, written
//! `sha256/<base64>` (curl's `--pinnedpubkey` form; `openssl x509 -pubkey -noout | openssl pkey
//! -pubin -outform der | openssl dgst -sha256 -binary | base64` computes it from a certificate).
//!
//! The center hands it out beside the one-time code, as one enrollment string `CODE#sha256/…`
//! (`radqc center device enroll --tls-cert PEM`). The client's verifier accepts a server whose
//! own certificate has the pinned key (host name and dates are not checked: the key is the
//! identity, so a self-signed certificate for any address works), or whose chain, checked up to
//! a certificate it sends with the pinned key as the only root, is valid for the host (a pinned
//! CA). Either way rustls still checks the handshake signature, so only the key's holder passes.

use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// The SHA-256 of a SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pin([u8; 32]);

/// Why a text is not a pin, or a certificate has none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PinError(String);

impl Pin {
    /// The pin of a DER certificate's key.
    pub fn of_certificate(der: &[u8]) -> Result<Pin, PinError> {
        let der = CertificateDer::from(der);
        let cert =
            webpki::EndEntityCert::try_from(&der).map_err(|e| PinError(format!("not an X.509 certificate: {e:?}")))?;
        Ok(Pin(Sha256::digest(cert.subject_public_key_info().as_ref()).into()))
    }

    /// The pin of the first certificate in a PEM file's text (the center's own certificate in a
    /// `--tls-cert` chain, or a CA certificate).
    pub fn of_pem(pem: &[u8]) -> Result<Pin, PinError> {
        let first = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or_else(|| PinError("no CERTIFICATE block in the PEM file".into()))?
            .map_err(|e| PinError(format!("the PEM file does not read: {e}")))?;
        Pin::of_certificate(&first)
    }
}

impl std::str::FromStr for Pin {
    type Err = PinError;

    /// `sha256/<base64 of 32 bytes>`; curl's `sha256//<base64>` is taken too.
    fn from_str(text: &str) -> Result<Pin, PinError> {
        let text = text.trim();
        let b64 = text
            .strip_prefix("sha256//")
            .or_else(|| text.strip_prefix("sha256/"))
            .ok_or_else(|| PinError(format!("`{text}` is not a pin: it starts with sha256/")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| PinError(format!("`{text}` is not a pin: its base64 does not read ({e})")))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            PinError(format!("`{text}` is not a pin: {} bytes, not the 32 of SHA-256", b.len()))
        })?;
        Ok(Pin(bytes))
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256/{}", base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({self})")
    }
}

/// Splits an enrollment string `CODE#sha256/…` into the code and the pin it carries (`None` for
/// a bare code).
pub fn split_enrollment(text: &str) -> Result<(String, Option<Pin>), PinError> {
    match text.trim().split_once('#') {
        None => Ok((text.trim().to_owned(), None)),
        Some((code, pin)) => {
            let pin = pin.trim();
            // `CODE#sha256=…` reads as well as `CODE#sha256/…`.
            let pin = match pin.strip_prefix("sha256=") {
                Some(rest) => format!("sha256/{rest}"),
                None => pin.to_owned(),
            };
            Ok((code.trim().to_owned(), Some(pin.parse()?)))
        }
    }
}

/// Why the verifier refused a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its certificate has another key, and no certificate it sent has the pinned one.
    OtherKey(Pin),
    /// It sent the pinned CA, but its certificate does not chain to it for this host and time.
    Chain { key: Pin, why: String },
}

/// Accepts only a server that holds the pinned key (see the module's comment), and remembers why
/// it refused one, for the error.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    pin: Pin,
    provider: Arc<CryptoProvider>,
    pub(crate) refusal: Mutex<Option<Refusal>>,
}

impl PinnedVerifier {
    pub(crate) fn new(pin: Pin, provider: Arc<CryptoProvider>) -> PinnedVerifier {
        PinnedVerifier { pin, provider, refusal: Mutex::new(None) }
    }

    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.provider.signature_verification_algorithms
    }

    fn refuse(&self, why: Refusal, error: rustls::Error) -> rustls::Error {
        *self.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        error
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let own = Pin::of_certificate(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        if own == self.pin {
            return Ok(ServerCertVerified::assertion());
        }
        // A pinned CA: a certificate the server sends with the pinned key, as the only root.
        if let Some(ca) = intermediates.iter().find(|ca| Pin::of_certificate(ca).ok() == Some(self.pin)) {
            let chain_refused = |e: rustls::Error| self.refuse(Refusal::Chain { key: own, why: e.to_string() }, e);
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca.clone().into_owned()).map_err(chain_refused)?;
            let chain =
                rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| chain_refused(rustls::Error::General(e.to_string())))?;
            return chain
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map_err(chain_refused);
        }
        Err(self.refuse(
            Refusal::OtherKey(own),
            rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms().supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn a_pin_reads_and_writes_as_sha256_base64() {
        let pin: Pin = PIN.parse().unwrap();
        assert_eq!(pin.to_string(), PIN);
        assert_eq!("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse::<Pin>().unwrap(), pin, "curl's form");
        assert_eq!(format!(" {PIN}\n").parse::<Pin>().unwrap(), pin, "spaces around it");
        for bad in [
            "",
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "sha1/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "sha256/not base64!",
            "sha256/AAAA",
            "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUA",
        ] {
            assert!(bad.parse::<Pin>().is_err(), "`{bad}` is not a pin");
        }
    }

    #[test]
    fn an_enrollment_string_is_the_code_and_its_pin() {
        let pin: Pin = PIN.parse().unwrap();
        assert_eq!(split_enrollment("K7QM-3XPA-9TWE").unwrap(), ("K7QM-3XPA-9TWE".into(), None));
        assert_eq!(split_enrollment(&format!("K7QM-3XPA-9TWE#{PIN}")).unwrap(), ("K7QM-3XPA-9TWE".into(), Some(pin)));
        assert_eq!(
            split_enrollment(" K7QM-3XPA-9TWE # sha256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ").unwrap(),
            ("K7QM-3XPA-9TWE".into(), Some(pin))
        );
        assert!(split_enrollment("K7QM-3XPA-9TWE#").is_err());
        assert!(split_enrollment("K7QM-3XPA-9TWE#sha256/AAAA").is_err());
    }

    #[test]
    fn the_pin_of_a_certificate_is_of_its_key() {
        let key = rcgen::KeyPair::generate().unwrap();
        let one = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
        let two = rcgen::CertificateParams::new(vec!["center.example".into()]).unwrap().self_signed(&key).unwrap();
        let expected = Pin(Sha256::digest(rcgen::PublicKeyData::subject_public_key_info(&key)).into());
        assert_eq!(Pin::of_certificate(one.der()).unwrap(), expected);
        assert_eq!(Pin::of_pem(one.pem().as_bytes()).unwrap(), expected);
        assert_eq!(Pin::of_certificate(two.der()).unwrap(), expected, "a renewed certificate with the same key");
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        assert_ne!(Pin::of_certificate(other.cert.der()).unwrap(), expected);
        assert!(Pin::of_pem(b"no pem here").is_err());
        assert!(Pin::of_certificate(b"\x30\x03\x02\x01\x01").is_err());
    }
}
