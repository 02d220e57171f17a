//! Test certificates: a private CA that issues server and client certificates, written as PEM
//! files a MariaDB server (`ssl-ca`, `ssl-cert`, `ssl-key`) and ferry's clients can use.
//!
//! Replication over TLS is tested end to end (a source with TLS, a replica presenting a client
//! certificate, a wrong CA that must fail), so tests need a real PKI made fresh for each run:
//! [`TestPki::generate`] makes a CA, a server certificate valid for `127.0.0.1` / `localhost`
//! and a client certificate, and writes them to a directory; [`TestCa`] issues more (another
//! client, an intermediate CA for chains) or stands in as an unrelated CA for "wrong CA" cases.
//!
//! Keys are ECDSA P-256, generated with rcgen on ring, and given in PKCS#8 (`PRIVATE KEY`) and
//! SEC1 (`EC PRIVATE KEY`) form. ring cannot generate RSA keys, so RSA identities
//! ([`TestCa::issue_client_rsa`]) reuse one fixed 2048-bit test key, offered in PKCS#8 and
//! PKCS#1 (`RSA PRIVATE KEY`) form: that key is public by being in this file and must never
//! protect anything but a test.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA, the server certificate it issued (for `127.0.0.1` and `localhost`) and a client
/// certificate, all as PEM text and as files in one directory.
pub struct TestPki {
    /// The CA, for issuing more certificates.
    pub ca: TestCa,
    pub ca_pem: String,
    pub server_cert_pem: String,
    /// PKCS#8 (`PRIVATE KEY`).
    pub server_key_pem: String,
    pub client_cert_pem: String,
    /// PKCS#8 (`PRIVATE KEY`).
    pub client_key_pem: String,
    /// The same client key in SEC1 form (`EC PRIVATE KEY`).
    pub client_key_sec1_pem: String,
    /// `ca.pem` (mode 0644).
    pub ca_path: PathBuf,
    /// `server-cert.pem` (0644) and `server-key.pem` (0600).
    pub server_cert_path: PathBuf,
    pub server_key_path: PathBuf,
    /// `client-cert.pem` (0644) and `client-key.pem` (0600, PKCS#8).
    pub client_cert_path: PathBuf,
    pub client_key_path: PathBuf,
}

impl TestPki {
    /// A fresh CA ("ferry test CA"), a server certificate for `127.0.0.1` / `localhost` and a
    /// client certificate (CN `ferry-test-client`), written into `dir` (which must exist).
    pub fn generate(dir: &Path) -> anyhow::Result<TestPki> {
        let ca = TestCa::generate("ferry test CA")?;
        let server = ca.issue_server("ferry test server", &["127.0.0.1", "localhost"])?;
        let client = ca.issue_client("ferry-test-client")?;
        let ca_path = write_pem(dir, "ca.pem", &ca.cert_pem, 0o644)?;
        let server_cert_path = write_pem(dir, "server-cert.pem", &server.cert_pem, 0o644)?;
        let server_key_path = write_pem(dir, "server-key.pem", &server.key_pem, 0o600)?;
        let client_cert_path = write_pem(dir, "client-cert.pem", &client.cert_pem, 0o644)?;
        let client_key_path = write_pem(dir, "client-key.pem", &client.key_pem, 0o600)?;
        Ok(TestPki {
            ca_pem: ca.cert_pem.clone(),
            ca,
            server_cert_pem: server.cert_pem,
            server_key_pem: server.key_pem,
            client_cert_pem: client.cert_pem,
            client_key_pem: client.key_pem,
            client_key_sec1_pem: client.alt_key_pem,
            ca_path,
            server_cert_path,
            server_key_path,
            client_cert_path,
            client_key_path,
        })
    }

    /// The JSON argument of `mysql.rds_import_binlog_ssl_material` for this PKI's CA and
    /// client identity.
    pub fn ssl_material_json(&self) -> String {
        serde_json::json!({
            "ssl_ca": self.ca_pem,
            "ssl_cert": self.client_cert_pem,
            "ssl_key": self.client_key_pem,
        })
        .to_string()
    }
}

/// A certificate and its private key, as PEM text.
#[derive(Clone)]
pub struct TestIdentity {
    pub cert_pem: String,
    /// PKCS#8 (`PRIVATE KEY`).
    pub key_pem: String,
    /// The same key in its algorithm's own format: SEC1 (`EC PRIVATE KEY`) for ECDSA keys,
    /// PKCS#1 (`RSA PRIVATE KEY`) for RSA keys.
    pub alt_key_pem: String,
}

impl std::fmt::Debug for TestIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIdentity")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

/// A certificate authority that issues test certificates.
pub struct TestCa {
    /// The CA's own certificate, PEM.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    /// A fresh self-signed root CA with an ECDSA P-256 key.
    pub fn generate(common_name: &str) -> anyhow::Result<TestCa> {
        let key = KeyPair::generate().context("generate a CA key")?;
        let params = ca_params(common_name);
        let cert = params.self_signed(&key).context("self-sign the CA")?;
        Ok(TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// An intermediate CA signed by this one (its `cert_pem` is the intermediate's own
    /// certificate; a chain is a leaf's PEM followed by it).
    pub fn issue_intermediate(&self, common_name: &str) -> anyhow::Result<TestCa> {
        let key = KeyPair::generate().context("generate an intermediate CA key")?;
        let params = ca_params(common_name);
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("sign the intermediate CA")?;
        Ok(TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate valid for `names` (IP addresses or DNS names).
    pub fn issue_server(&self, common_name: &str, names: &[&str]) -> anyhow::Result<TestIdentity> {
        let key = KeyPair::generate().context("generate a server key")?;
        let mut params = leaf_params(common_name, names)?;
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
        self.sign_ec(params, key)
    }

    /// A client certificate (ECDSA P-256) for TLS client authentication.
    pub fn issue_client(&self, common_name: &str) -> anyhow::Result<TestIdentity> {
        let key = KeyPair::generate().context("generate a client key")?;
        self.sign_ec(client_params(common_name)?, key)
    }

    /// A client certificate for the fixed 2048-bit RSA test key (see the module docs).
    pub fn issue_client_rsa(&self, common_name: &str) -> anyhow::Result<TestIdentity> {
        let key = KeyPair::from_pem(RSA_TEST_KEY_PKCS8).context("load the RSA test key")?;
        let cert = client_params(common_name)?
            .signed_by(&key, &self.issuer)
            .context("sign the RSA client certificate")?;
        let pkcs8 = key.serialize_der();
        Ok(TestIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            alt_key_pem: pem_encode("RSA PRIVATE KEY", &der::pkcs8_to_pkcs1(&pkcs8)?),
        })
    }

    /// Writes this CA's certificate to `dir/name` (mode 0644) and returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
        write_pem(dir, name, &self.cert_pem, 0o644)
    }

    fn sign_ec(&self, params: CertificateParams, key: KeyPair) -> anyhow::Result<TestIdentity> {
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("sign the certificate")?;
        let pkcs8 = key.serialize_der();
        Ok(TestIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            alt_key_pem: pem_encode("EC PRIVATE KEY", &der::pkcs8_to_sec1(&pkcs8)?),
        })
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(common_name: &str, names: &[&str]) -> anyhow::Result<CertificateParams> {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).context("certificate names")?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    Ok(params)
}

fn client_params(common_name: &str) -> anyhow::Result<CertificateParams> {
    let mut params = leaf_params(common_name, &[])?;
    params
        .extended_key_usages
        .push(ExtendedKeyUsagePurpose::ClientAuth);
    Ok(params)
}

/// Writes `text` to `dir/name` with `mode` (replacing a file there) and returns the path.
fn write_pem(dir: &Path, name: &str, text: &str, mode: u32) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    // Remove first so the mode applies even when a file is already there.
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("remove {}", path.display())),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .with_context(|| format!("create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("write {}", path.display()))?;
    Ok(path)
}

/// PEM text for `der` under `label`, 64 base64 characters a line.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Just enough DER to turn a PKCS#8 key into its algorithm's own format.
mod der {
    use anyhow::{bail, Context as _};

    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    const OID: u8 = 0x06;
    const CONTEXT_0: u8 = 0xa0;

    /// One DER element: its tag, its contents, and the whole encoding.
    #[derive(Clone, Copy)]
    struct Tlv<'a> {
        tag: u8,
        body: &'a [u8],
        whole: &'a [u8],
    }

    /// The element at the start of `input`, and what follows it.
    fn read(input: &[u8]) -> anyhow::Result<(Tlv<'_>, &[u8])> {
        let (&tag, after_tag) = input.split_first().context("DER: empty input")?;
        let (&first, after_len) = after_tag.split_first().context("DER: no length")?;
        let (len, body) = if first < 0x80 {
            (usize::from(first), after_len)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || after_len.len() < count {
                bail!("DER: unsupported length encoding");
            }
            let len = after_len[..count]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &after_len[count..])
        };
        if body.len() < len {
            bail!("DER: truncated");
        }
        let header = input.len() - body.len();
        let tlv = Tlv {
            tag,
            body: &body[..len],
            whole: &input[..header + len],
        };
        Ok((tlv, &body[len..]))
    }

    /// All elements of a SEQUENCE's contents.
    fn elements(mut contents: &[u8]) -> anyhow::Result<Vec<Tlv<'_>>> {
        let mut out = Vec::new();
        while !contents.is_empty() {
            let (tlv, rest) = read(contents)?;
            out.push(tlv);
            contents = rest;
        }
        Ok(out)
    }

    fn encode(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = contents.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(contents);
        out
    }

    /// PKCS#8 PrivateKeyInfo: (algorithm identifier elements, private key octets).
    fn unwrap_pkcs8(pkcs8: &[u8]) -> anyhow::Result<(Vec<Tlv<'_>>, &[u8])> {
        let (info, _) = read(pkcs8)?;
        if info.tag != SEQUENCE {
            bail!("not a PKCS#8 PrivateKeyInfo");
        }
        match elements(info.body)?.as_slice() {
            [version, alg, key, ..]
                if version.tag == INTEGER && alg.tag == SEQUENCE && key.tag == OCTET_STRING =>
            {
                Ok((elements(alg.body)?, key.body))
            }
            _ => bail!("not a PKCS#8 PrivateKeyInfo"),
        }
    }

    /// The RSAPrivateKey (PKCS#1) inside an RSA PKCS#8 key.
    pub(super) fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (_, key) = unwrap_pkcs8(pkcs8)?;
        Ok(key.to_vec())
    }

    /// The ECPrivateKey (SEC1) inside an EC PKCS#8 key, with the curve parameters (`[0]`)
    /// that PKCS#8 keeps in the algorithm identifier put back, as OpenSSL writes it.
    pub(super) fn pkcs8_to_sec1(pkcs8: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (alg, key) = unwrap_pkcs8(pkcs8)?;
        let curve = match alg.as_slice() {
            [algorithm, curve] if algorithm.tag == OID && curve.tag == OID => curve.whole,
            _ => bail!("not an EC key with a named curve"),
        };
        let (ec_key, _) = read(key)?;
        if ec_key.tag != SEQUENCE {
            bail!("not an ECPrivateKey");
        }
        let fields = elements(ec_key.body)?;
        let has_params = fields.iter().any(|field| field.tag == CONTEXT_0);
        let mut out = Vec::new();
        for (index, field) in fields.iter().enumerate() {
            out.extend_from_slice(field.whole);
            // version, privateKey, then [0] parameters.
            if index == 1 && field.tag == OCTET_STRING && !has_params {
                out.extend(encode(CONTEXT_0, curve));
            }
        }
        Ok(encode(SEQUENCE, &out))
    }
}

/// A 2048-bit RSA key for tests only (ring cannot generate RSA keys). Not a secret.
const RSA_TEST_KEY_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCjqzQU/rgSeej4
20vlXciAsdYEPlWwDNGuJguD8TDnJI9RpqW84WbSeLbiPh6gS0n+rt0skzPaCHOJ
l0o5V1YoBlV3vN8YJ56YXf+9YOH6y4ZEjRXSEYX6U0MNhzXmblQrlG0POKvnBoyq
PRhzaWCIBzWofPwBR5tERnO/9Qzm7aX7WGfbTyQpFhubBSa6zf/bkyrj9K+HXXBD
SHi8PHNMPvx3z2nAsCu31MPQuPYkF0Galah0srV0Glxpk9gycBCQUCpFZIrvZILe
EwnTzyAv2TaGAux6QacACVymcw6RArwsn81gzLyB6f/pUV/cW3Xuht5a8ZnUmGQr
w9JVLTpJAgMBAAECggEADAB/ndwFd85ijhA3xzK6w6w21WIUUsgH3slJriPjWgnh
bCOIMxsE2SGSyLG1OXw36YIddDm5s08MGO6EGgMcbWw0e4a5RepO3B3FhZfLjoJ6
/r8pVtmj3WTabY0pH9QenkEAw91cJsGBUnEPQFRdiLAdqFS8/qOHgGjZr12LFAqC
iiBBMobByxSUmt1ZU+VUQqdbiIC8aOKSZnhBK9Dn38YncY5VENsYYdgJwEPfHgwr
wJRxJchyh69Mqn4Q8C0XX61Lx3/RxprQH2r4NRKZWSK7D3OdMi/5oxSp0l+xNt16
tnhjr8WjSlVh0eICV+E8YguAA8qWhrabh5sMuyuRsQKBgQDRysMow7Zlc0XxlMHA
n723qoG6MYiwm+I3wIfGateuv0pirntpgXUiBEwtc84o8LNTcFqqy9+8TSPQBwGW
mXK6hv4gCEPxLnYzauKlZKg9GR6BTb69VuJBizP3c6FpBtVF59sHuMTpUbf7EWa+
P/XRQS4GlGscpNY+JWYCq+D+2QKBgQDHt8FUHjzVcA7/U4muvLKI+t5Avjuo29W1
RpyFHb1KDr+ZxMJOXjX1RQGkCxqn6tgBb0aLafnZVmF8Rp6r4ZsWRgKt8VJPzuVP
KidL+acYKHGFNXXh0RWQDfoOPjKVUr3k9mYsP7UmRKJu4tviSn/uL3511v44B0mW
/RLWm5XQ8QKBgCPyBuBMMEtPpfNPlqcHd70pdNLPO+luvCLrVRg1JEFnuzoPRUv9
h3FNpTPAfNlc7IzmWlKbXfloijNRj/8ayaKWEKKyZ9nCKTSEItNN3NmjHSvwgzbz
1Q5/6GaEpGpXZmF06X14Nhz4CHr3L1B3qwmwjk9ITNX6lE7Pn5vjkUh5AoGASjwb
OFEk+5DzgiRjAPhSxGe7RQVw14sfHIpqk3BCc8yXm2hvcQHDvK8xtPALsG6ya5YY
+qkhnY9mHPOC9xCcvOK5DD6vAcs9oPdiM/NQEMK3r3P3pUA6a5lGYRTtaGOhAgI0
aC4l/1tzpRPd93cJplcxAkwvolPTHrRi1DJwtYECgYB5HlBZk90AiWi5OTeBb/gK
KtINIZGkzBaxYgs4MX5aP1vE08Kcdz00WCv7ahV6epX+IhsJb0vQ945V07oDCyJu
DYBBhI2MOVFWmJzEVcLdHeTXI8iEuRYJij+F1E5rbFGbqANMMCXOMG9quAhfzE0V
RkhOHKYdxD40nR6UGiodXg==
-----END PRIVATE KEY-----
";

/// Checks the generated material with OpenSSL's command-line tool when it is installed (it
/// is not required: MariaDB loading the files is the real test, in the replication crate).
#[cfg(test)]
mod tests {
    use super::*;

    fn openssl(args: &[&str], input: Option<&str>) -> Option<String> {
        use std::process::{Command, Stdio};
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        if let Some(text) = input {
            child
                .stdin
                .take()
                .expect("stdin is piped")
                .write_all(text.as_bytes())
                .expect("write to openssl");
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("wait for openssl");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[test]
    fn writes_a_pki_with_private_keys_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::generate(dir.path()).unwrap();
        for (path, mode) in [
            (&pki.ca_path, 0o644),
            (&pki.server_cert_path, 0o644),
            (&pki.server_key_path, 0o600),
            (&pki.client_cert_path, 0o644),
            (&pki.client_key_path, 0o600),
        ] {
            let meta = std::fs::metadata(path).unwrap();
            assert_eq!(
                meta.permissions().mode() & 0o777,
                mode,
                "{}",
                path.display()
            );
        }
        assert_eq!(std::fs::read_to_string(&pki.ca_path).unwrap(), pki.ca_pem);
        assert!(pki
            .client_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(pki
            .client_key_sec1_pem
            .starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let json: serde_json::Value = serde_json::from_str(&pki.ssl_material_json()).unwrap();
        assert_eq!(json["ssl_ca"], pki.ca_pem.as_str());
        assert!(!format!("{:?}", pki.ca.issue_client("x").unwrap()).contains("PRIVATE"));
    }

    #[test]
    fn openssl_verifies_the_chain_and_reads_every_key_form() {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::generate(dir.path()).unwrap();
        let ca = pki.ca_path.to_str().unwrap();
        let Some(out) = openssl(
            &[
                "verify",
                "-CAfile",
                ca,
                pki.server_cert_path.to_str().unwrap(),
            ],
            None,
        ) else {
            eprintln!("openssl is not installed; skipping");
            return;
        };
        assert!(out.contains(": OK"), "{out}");
        openssl(
            &[
                "verify",
                "-CAfile",
                ca,
                pki.client_cert_path.to_str().unwrap(),
            ],
            None,
        );

        let rsa = pki.ca.issue_client_rsa("rsa client").unwrap();
        assert!(rsa
            .alt_key_pem
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        for (key, cert) in [
            (&pki.client_key_pem, &pki.client_cert_pem),
            (&pki.client_key_sec1_pem, &pki.client_cert_pem),
            (&rsa.key_pem, &rsa.cert_pem),
            (&rsa.alt_key_pem, &rsa.cert_pem),
        ] {
            let from_key = openssl(&["pkey", "-pubout"], Some(key)).unwrap();
            let from_cert = openssl(&["x509", "-noout", "-pubkey"], Some(cert)).unwrap();
            assert_eq!(from_key, from_cert, "key and certificate agree");
        }

        let intermediate = pki
            .ca
            .issue_intermediate("ferry test intermediate")
            .unwrap();
        let leaf = intermediate.issue_client("chained client").unwrap();
        let untrusted = intermediate.write(dir.path(), "intermediate.pem").unwrap();
        let leaf_path = write_pem(dir.path(), "leaf.pem", &leaf.cert_pem, 0o644).unwrap();
        openssl(
            &[
                "verify",
                "-CAfile",
                ca,
                "-untrusted",
                untrusted.to_str().unwrap(),
                leaf_path.to_str().unwrap(),
            ],
            None,
        );
    }

    #[test]
    fn der_helpers_refuse_garbage() {
        assert!(der::pkcs8_to_sec1(&[]).is_err());
        assert!(der::pkcs8_to_sec1(&[0x30, 0x82, 0xff]).is_err());
        assert!(der::pkcs8_to_pkcs1(&[0x04, 0x01, 0x00]).is_err());
    }
}
