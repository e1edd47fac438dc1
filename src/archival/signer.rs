//! The signer: a private key and its certificate from a PKCS#12 (.p12/.pfx)
//! file, and the CMS signature of a PDF's digest as PAdES B-B asks for it
//! (detached SignedData, SHA-256, signed attributes content-type,
//! message-digest and signing-certificate-v2; no signing-time attribute: the
//! time goes into the signature dictionary's /M).
//!
//! RSA (PKCS#1 v1.5) and ECDSA on P-256 and P-384. Reading the .p12 is
//! p12-keystore's (PBES2 as OpenSSL 3 writes it, and the legacy PBES1 of older
//! exports); the CMS structures are the `cms` crate's.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier as Oid, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub const ID_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub const ID_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const ID_SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const ID_SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
pub const ID_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const ID_SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const ID_SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const ID_SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const ID_ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ID_ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ID_ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
pub const ID_P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const ID_P384: Oid = Oid::new_unwrap("1.3.132.0.34");
/// GB/T 32918 SM2 (as a curve of id-ecPublicKey, or as its own algorithm).
pub const ID_SM2: Oid = Oid::new_unwrap("1.2.156.10197.1.301");

/// Largest .p12 file read.
pub const MAX_P12_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The password does not open the file (its MAC or a decryption failed).
    Password,
    /// Not a PKCS#12 file, or damaged.
    Unreadable(String),
    /// The file holds no private key, or no certificate for it.
    NoKey,
    NoCertificate,
    /// An SM2 key (GB/T 38540 signatures are not supported yet).
    Sm2,
    /// A key of another algorithm or curve, by OID.
    Unsupported(String),
    /// The certificate's public key is not the private key's.
    Mismatch,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            KeyError::Password => write!(f, "密码不对，无法打开证书文件"),
            KeyError::Unreadable(e) => write!(f, "不是可读的 PKCS#12（.p12/.pfx）证书文件（{e}）"),
            KeyError::NoKey => write!(f, "证书文件里没有私钥"),
            KeyError::NoCertificate => write!(f, "证书文件里没有与私钥对应的证书"),
            KeyError::Sm2 => {
                write!(f, "这是 SM2 密钥；国密（GB/T 38540）签名暂不支持，请用 RSA 或 ECDSA（P-256/P-384）证书")
            }
            KeyError::Unsupported(oid) => {
                write!(f, "不支持的密钥算法（{oid}）；请用 RSA 或 ECDSA（P-256/P-384）证书")
            }
            KeyError::Mismatch => write!(f, "证书中的公钥与私钥不对应"),
        }
    }
}

impl std::error::Error for KeyError {}

enum Key {
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// A private key with its certificate (and the other certificates of the file).
pub struct Signer {
    key: Key,
    cert: Certificate,
    chain: Vec<Certificate>,
}

impl Signer {
    /// Opens a .p12 file's bytes with its password.
    pub fn from_p12(bytes: &[u8], password: &str) -> Result<Signer, KeyError> {
        use p12_keystore::error::Error as P12;
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password).map_err(|e| match e {
            P12::MacError(_) | P12::UnpadError => KeyError::Password,
            other => KeyError::Unreadable(other.to_string()),
        })?;
        let bag = archive.keys.first().ok_or(KeyError::NoKey)?;
        let key = Key::from_pkcs8(bag.key.as_der())?;
        let certs: Vec<(Option<&[u8]>, Certificate)> = archive
            .certs
            .iter()
            .filter_map(|c| Some((c.local_key_id.as_deref(), Certificate::from_der(c.cert.as_der()).ok()?)))
            .collect();
        let wanted = bag.local_key_id.as_ref().map(|id| id.0.as_slice());
        // The certificate bag marked with the key's id, else the one whose public key is the key's.
        let position = certs
            .iter()
            .position(|(id, _)| wanted.is_some() && *id == wanted)
            .or_else(|| certs.iter().position(|(_, c)| key.matches(c)))
            .ok_or(KeyError::NoCertificate)?;
        let mut chain: Vec<Certificate> = certs.into_iter().map(|(_, c)| c).collect();
        let cert = chain.remove(position);
        if !key.matches(&cert) {
            return Err(KeyError::Mismatch);
        }
        Ok(Signer { key, cert, chain })
    }

    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The certificate's subject common name (else the whole subject).
    pub fn name(&self) -> String {
        common_name(&self.cert)
    }

    /// How it signs, for messages: `RSA-2048 / SHA-256`, `ECDSA P-256 / SHA-256`.
    pub fn algorithm(&self) -> String {
        match &self.key {
            Key::Rsa(k) => format!("RSA-{} / SHA-256", rsa::traits::PublicKeyParts::size(k.as_ref()) * 8),
            Key::P256(_) => "ECDSA P-256 / SHA-256".into(),
            Key::P384(_) => "ECDSA P-384 / SHA-256".into(),
        }
    }

    /// An upper bound of the DER length of `cms` (for the /Contents placeholder).
    pub fn max_cms_len(&self) -> usize {
        let len = |l: der::Result<der::Length>| l.ok().and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
        let certs: usize = std::iter::once(&self.cert).chain(&self.chain).map(|c| len(c.encoded_len())).sum();
        // Issuer names twice (sid, signing-certificate-v2), attributes, a 4096-bit signature, headers.
        certs + 2 * len(self.cert.tbs_certificate().issuer().encoded_len()) + 2048
    }

    /// The detached CMS SignedData (DER) over content whose SHA-256 is `digest`.
    pub fn cms(&self, digest: &[u8]) -> Result<Vec<u8>, der::Error> {
        let sha256 = AlgorithmIdentifierOwned { oid: ID_SHA256, parameters: None };
        let tbs = self.cert.tbs_certificate();
        let issuer_serial =
            IssuerAndSerialNumber { issuer: tbs.issuer().clone(), serial_number: tbs.serial_number().clone() };
        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(Sha256::digest(self.cert.to_der()?).to_vec())?,
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial: tbs.serial_number().clone(),
                },
            }],
        };
        let attribute = |oid: Oid, value: Any| -> der::Result<Attribute> {
            Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
        };
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
            attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest.to_vec())?)?)?,
            attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
        ])?;
        // The signature is over the DER of the attributes as a SET OF.
        let to_sign = Sha256::digest(signed_attrs.to_der()?);
        let (signature, signature_algorithm) =
            self.key.sign(&to_sign).map_err(|_| der::Error::from(der::ErrorKind::Failed))?;
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(issuer_serial),
            digest_alg: sha256.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm,
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };
        let certificates = std::iter::once(&self.cert)
            .chain(&self.chain)
            .map(|c| CertificateChoices::Certificate(c.clone()))
            .collect::<Vec<_>>();
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![sha256])?,
            encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
            certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
        };
        ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()
    }
}

/// A certificate's subject common name, else its whole subject.
pub fn common_name(cert: &Certificate) -> String {
    let subject = cert.tbs_certificate().subject();
    match subject.common_name() {
        Ok(Some(cn)) => cn.value().into_owned(),
        _ => subject.to_string(),
    }
}

impl Key {
    fn from_pkcs8(der: &[u8]) -> Result<Key, KeyError> {
        let info = p256::pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| KeyError::Unreadable(e.to_string()))?;
        let oid = info.algorithm.oid;
        if oid == ID_RSA {
            let key = rsa::PrivateKey::try_from(info).map_err(|e| KeyError::Unreadable(e.to_string()))?;
            return Ok(Key::Rsa(Box::new(key)));
        }
        if oid == ID_SM2 {
            return Err(KeyError::Sm2);
        }
        if oid != ID_EC_PUBLIC_KEY {
            return Err(KeyError::Unsupported(oid.to_string()));
        }
        let curve = info.algorithm.parameters_oid().map_err(|e| KeyError::Unreadable(e.to_string()))?;
        let unreadable = |e: p256::pkcs8::Error| KeyError::Unreadable(e.to_string());
        match curve {
            c if c == ID_P256 => Ok(Key::P256(p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(unreadable)?)),
            c if c == ID_P384 => Ok(Key::P384(p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(unreadable)?)),
            c if c == ID_SM2 => Err(KeyError::Sm2),
            c => Err(KeyError::Unsupported(format!("{oid} / {c}"))),
        }
    }

    /// Whether the certificate carries this key's public key.
    fn matches(&self, cert: &Certificate) -> bool {
        let spki = cert.tbs_certificate().subject_public_key_info();
        let Some(point) = spki.subject_public_key.as_bytes() else { return false };
        match self {
            Key::Rsa(k) => spki.to_der().ok().and_then(|d| public_rsa(&d)).is_some_and(|p| p == k.to_public_key()),
            Key::P256(k) => k.verifying_key().to_sec1_point(false).as_bytes() == point,
            Key::P384(k) => k.verifying_key().to_sec1_point(false).as_bytes() == point,
        }
    }

    /// Signs a SHA-256 digest: the signature and its algorithm identifier.
    fn sign(&self, digest: &[u8]) -> Result<(Vec<u8>, AlgorithmIdentifierOwned), String> {
        Ok(match self {
            Key::Rsa(k) => (
                k.pkcs1v15_sign_prehash::<Sha256>(digest).map_err(|e| e.to_string())?,
                // rsaEncryption with NULL parameters, as most validators expect in SignerInfo.
                AlgorithmIdentifierOwned { oid: ID_RSA, parameters: Some(Any::null()) },
            ),
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign_prehash(digest).map_err(|e| e.to_string())?;
                (s.to_der().as_bytes().to_vec(), AlgorithmIdentifierOwned { oid: ID_ECDSA_SHA256, parameters: None })
            }
            Key::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign_prehash(digest).map_err(|e| e.to_string())?;
                (s.to_der().as_bytes().to_vec(), AlgorithmIdentifierOwned { oid: ID_ECDSA_SHA256, parameters: None })
            }
        })
    }
}

/// An RSA public key from a SubjectPublicKeyInfo's DER.
pub fn public_rsa(spki_der: &[u8]) -> Option<rsa::PublicKey> {
    let info = spki::SubjectPublicKeyInfoRef::try_from(spki_der).ok()?;
    rsa::PublicKey::try_from(info).ok()
}

/// ESS signing-certificate-v2 (RFC 5035), with the default hash algorithm (SHA-256) left out.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    pub cert_hash: OctetString,
    pub issuer_serial: IssuerSerial,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial: SerialNumber,
}
