//! A throwaway test PKI: one CA trusted by the tests, one leaf per DNS name, and deliberately broken
//! certificates (expired, not yet valid, wrong name, self-signed, foreign CA) for the TLS failure tests.
//!
//! Everything is generated in memory with fresh keys on every call, so no test can depend on a
//! certificate that lives in the repository (and none can expire under us). The CA certificate is
//! also written as PEM into a private temporary directory, because the engine loads extra trust
//! anchors from a file path, exactly as an operator would configure it.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The crypto provider used for every test config.
///
/// Built explicitly (not the process default) because the crate under test never installs a default
/// provider, and we must not depend on which other test happened to install one first.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Days since 1970-01-01 for "today" (UTC), so validity windows are relative to the real clock.
fn today_days() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs / 86_400).unwrap_or(0)
}

/// Converts days since the Unix epoch to a (year, month, day) civil date (proleptic Gregorian).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The validity window of a generated certificate, in days relative to today.
#[derive(Clone, Copy, Debug)]
struct Window {
    from: i64,
    to: i64,
}

/// Valid since yesterday, for a year: comfortably "valid now" whatever the time zone of the test host.
const VALID: Window = Window { from: -1, to: 365 };
/// Expired yesterday: the failure must come from `not_after`, not from `not_before`.
const EXPIRED: Window = Window { from: -30, to: -1 };
/// Starts in a month: the failure must come from `not_before`.
const NOT_YET_VALID: Window = Window { from: 30, to: 365 };

fn set_window(params: &mut CertificateParams, w: Window) {
    let today = today_days();
    let at = |offset: i64| {
        let (y, m, d) = civil_from_days(today + offset);
        rcgen::date_time_ymd(i32::try_from(y).unwrap_or(2000), m as u8, d as u8)
    };
    params.not_before = at(w.from);
    params.not_after = at(w.to);
}

/// A CA: its certificate plus the issuer (key and subject) able to sign leaves.
struct Ca {
    cert: CertificateDer<'static>,
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn generate(common_name: &str) -> Ca {
        let key = KeyPair::generate().expect("generate CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "cimd tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // The CA outlives the leaves so that only the leaf window decides expired/not-yet-valid tests.
        set_window(&mut params, Window { from: -60, to: 730 });
        let cert = params.self_signed(&key).expect("self-sign CA");
        Ca {
            cert: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Issues a leaf for `names` signed by this CA.
    fn leaf(&self, names: &[&str], window: Window) -> Leaf {
        let (params, key) = leaf_params(names, window);
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        Leaf::new(names, cert.der().clone(), cert.pem(), key)
    }
}

fn leaf_params(names: &[&str], window: Window) -> (CertificateParams, KeyPair) {
    let key = KeyPair::generate().expect("generate leaf key");
    let sans: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("leaf params (bad DNS name?)");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_window(&mut params, window);
    (params, key)
}

/// An end-entity certificate with its key, ready both as PEM (for files) and as a rustls key.
#[derive(Clone)]
pub struct Leaf {
    /// The names (SANs) the leaf was issued for.
    pub names: Vec<String>,
    /// Certificate, PEM.
    pub cert_pem: String,
    /// PKCS#8 private key, PEM.
    pub key_pem: String,
    /// The rustls form used by the server configs.
    pub certified: Arc<CertifiedKey>,
}

impl fmt::Debug for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leaf")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl Leaf {
    fn new(names: &[&str], der: CertificateDer<'static>, cert_pem: String, key: KeyPair) -> Leaf {
        let key_pem = key.serialize_pem();
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let certified =
            Arc::new(CertifiedKey::from_der(vec![der], key_der, &provider()).expect("load leaf key"));
        Leaf {
            names: names.iter().map(|s| s.to_string()).collect(),
            cert_pem,
            key_pem,
            certified,
        }
    }

    /// Whether this leaf covers `sni` (ASCII case-insensitive, single-label `*.` wildcards).
    fn covers(&self, sni: &str) -> bool {
        self.names.iter().any(|n| name_matches(n, sni))
    }
}

fn name_matches(pattern: &str, host: &str) -> bool {
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(suffix), Some((label, rest))) => !label.is_empty() && rest.eq_ignore_ascii_case(suffix),
        _ => false,
    }
}

/// Picks the leaf whose name matches the SNI; without SNI (IP literal) or for an unknown name, the
/// first leaf, so that a client asking for an unknown name fails on *name verification*, like a real
/// misconfigured host, rather than on a handshake abort.
#[derive(Debug)]
struct SniResolver {
    leaves: Vec<Leaf>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let pick = hello
            .server_name()
            .and_then(|sni| self.leaves.iter().find(|l| l.covers(sni)));
        pick.or_else(|| self.leaves.first()).map(|l| l.certified.clone())
    }
}

/// Builds a server config around a resolver; HTTP/1.1 is advertised through ALPN because the
/// origin only speaks HTTP/1.1. Public so that a test can present certificates of its own choosing per
/// handshake (the soak's chaos host switches between valid and broken leaves at random).
pub fn config_with(resolver: Arc<dyn ResolvesServerCert>) -> Arc<rustls::ServerConfig> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// A config that always presents `leaf`.
pub fn single_leaf_config(leaf: &Leaf) -> Arc<rustls::ServerConfig> {
    config_with(Arc::new(SniResolver {
        leaves: vec![leaf.clone()],
    }))
}

static PKI_SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh test CA, one valid leaf per requested DNS name, and a private temp dir holding the CA PEM.
///
/// Why a temp dir: the engine's "extra trust anchors" option is a file path; the dir is unique per
/// `TestPki` (pid + counter + clock) so parallel tests never share or clobber files, and it is
/// removed on drop.
pub struct TestPki {
    /// Private temporary directory (removed on drop).
    pub dir: PathBuf,
    /// `dir/ca.pem`: the test CA certificate, PEM.
    pub ca_pem_path: PathBuf,
    /// The test CA certificate, PEM.
    pub ca_pem: String,
    /// The test CA certificate, DER.
    pub ca_der: CertificateDer<'static>,
    /// One valid leaf per name given to [`TestPki::new`], in the same order.
    pub leaves: Vec<Leaf>,
    ca: Ca,
}

impl fmt::Debug for TestPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPki")
            .field("dir", &self.dir)
            .field("leaves", &self.leaves)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// A fresh CA and a leaf cert for each given DNS name (SAN), all valid now.
    ///
    /// Names that parse as IP addresses get an IP SAN instead. `*.example.test` wildcards work.
    pub fn new(names: &[&str]) -> TestPki {
        let ca = Ca::generate("cimd test CA");
        let leaves = names.iter().map(|n| ca.leaf(&[n], VALID)).collect();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "cimd-testpki-{}-{}-{}",
            std::process::id(),
            PKI_SEQ.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir for test PKI");
        let ca_pem_path = dir.join("ca.pem");
        std::fs::write(&ca_pem_path, &ca.pem).expect("write ca.pem");
        TestPki {
            dir,
            ca_pem_path,
            ca_pem: ca.pem.clone(),
            ca_der: ca.cert.clone(),
            leaves,
            ca,
        }
    }

    /// SNI-resolving config: the leaf for the requested name; unknown or absent SNI gets the first leaf.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        assert!(!self.leaves.is_empty(), "TestPki::new was given no names");
        config_with(Arc::new(SniResolver {
            leaves: self.leaves.clone(),
        }))
    }

    /// Like [`TestPki::server_config`], for other names: one fresh valid leaf per name from the same CA.
    pub fn config_for(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        assert!(!names.is_empty(), "TestPki::config_for was given no names");
        config_with(Arc::new(SniResolver {
            leaves: names.iter().map(|n| self.ca.leaf(&[n], VALID)).collect(),
        }))
    }

    /// A leaf from the trusted CA whose `not_after` is yesterday.
    pub fn expired_config(&self, name: &str) -> Arc<rustls::ServerConfig> {
        single_leaf_config(&self.expired_leaf(name))
    }

    /// A leaf from the trusted CA whose `not_before` is a month ahead.
    pub fn not_yet_valid_config(&self, name: &str) -> Arc<rustls::ServerConfig> {
        single_leaf_config(&self.ca.leaf(&[name], NOT_YET_VALID))
    }

    /// A valid leaf from the trusted CA, but only for `other.invalid`: a name mismatch for everyone.
    pub fn wrong_name_config(&self) -> Arc<rustls::ServerConfig> {
        single_leaf_config(&self.wrong_name_leaf())
    }

    /// A self-signed leaf for `name` (not chained to any trusted CA).
    pub fn self_signed_config(&self, name: &str) -> Arc<rustls::ServerConfig> {
        single_leaf_config(&self.self_signed_leaf(name))
    }

    /// A leaf for `name` from a different CA that nothing trusts; the chain sent includes that CA, as
    /// a real server with a private CA would send it.
    pub fn foreign_ca_config(&self, name: &str) -> Arc<rustls::ServerConfig> {
        single_leaf_config(&self.foreign_ca_leaf(name))
    }

    /// The leaf behind [`TestPki::expired_config`].
    pub fn expired_leaf(&self, name: &str) -> Leaf {
        self.ca.leaf(&[name], EXPIRED)
    }

    /// The leaf behind [`TestPki::wrong_name_config`].
    pub fn wrong_name_leaf(&self) -> Leaf {
        self.ca.leaf(&["other.invalid"], VALID)
    }

    /// The leaf behind [`TestPki::self_signed_config`].
    pub fn self_signed_leaf(&self, name: &str) -> Leaf {
        let (params, key) = leaf_params(&[name], VALID);
        let cert = params.self_signed(&key).expect("self-sign leaf");
        Leaf::new(&[name], cert.der().clone(), cert.pem(), key)
    }

    /// The leaf behind [`TestPki::foreign_ca_config`].
    pub fn foreign_ca_leaf(&self, name: &str) -> Leaf {
        let foreign = Ca::generate("foreign untrusted CA");
        let leaf = foreign.leaf(&[name], VALID);
        let mut chain = leaf.certified.cert.clone();
        chain.push(foreign.cert.clone());
        let certified = Arc::new(CertifiedKey::new(chain, leaf.certified.key.clone()));
        Leaf { certified, ..leaf }
    }

    /// Root store trusting only the test CA (for test-side clients).
    pub fn root_store(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("add test CA to root store");
        roots
    }

    /// A rustls client config trusting only the test CA (for test-side clients, not the engine).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(self.root_store())
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(cfg)
    }

    /// Writes an extra file into the PKI's temp dir (e.g. a broken CA bundle) and returns its path.
    pub fn write_file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, contents).expect("write file in test PKI dir");
        p
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
