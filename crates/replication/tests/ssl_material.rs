//! SSL material as the master user hands it to `mysql.rds_import_binlog_ssl_material`:
//! validation with real certificates and keys in every accepted form (made fresh by the
//! testkit's PKI), the one-line errors for what users get wrong, and the files it is stored
//! as (modes, owner, atomic replacement, removal).

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::OsUser;
use ferry_replication::ssl::{
    KeyFormat, SslDir, SslField, SslMaterial, SslMaterialError, CA_FILE, CERT_FILE, KEY_FILE,
};
use ferry_testkit::{TestCa, TestPki};

fn material_json(ca: &str, cert: &str, key: &str) -> String {
    serde_json::json!({ "ssl_ca": ca, "ssl_cert": cert, "ssl_key": key }).to_string()
}

fn parse(ca: &str, cert: &str, key: &str) -> Result<SslMaterial, SslMaterialError> {
    SslMaterial::parse(&material_json(ca, cert, key))
}

fn pki() -> (tempfile::TempDir, TestPki) {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::generate(dir.path()).expect("generate a test PKI");
    (dir, pki)
}

/// The body line of a PEM key, to check it never leaks into messages.
fn key_body(pem: &str) -> &str {
    pem.lines().nth(1).expect("a PEM body line")
}

#[test]
fn accepts_every_key_form_and_a_chain() {
    let (_dir, pki) = pki();
    let m = parse(&pki.ca_pem, &pki.client_cert_pem, &pki.client_key_pem).expect("PKCS#8 EC");
    assert_eq!(m.key_format(), KeyFormat::Pkcs8);
    assert_eq!((m.ca_certificates(), m.cert_chain_len()), (1, 1));

    let m = parse(&pki.ca_pem, &pki.client_cert_pem, &pki.client_key_sec1_pem).expect("SEC1");
    assert_eq!(m.key_format(), KeyFormat::Sec1);

    let rsa = pki.ca.issue_client_rsa("rsa client").expect("RSA client");
    let m = parse(&pki.ca_pem, &rsa.cert_pem, &rsa.alt_key_pem).expect("PKCS#1 RSA");
    assert_eq!(m.key_format(), KeyFormat::Pkcs1);
    let m = parse(&pki.ca_pem, &rsa.cert_pem, &rsa.key_pem).expect("PKCS#8 RSA");
    assert_eq!(m.key_format(), KeyFormat::Pkcs8);

    // ssl_cert with its intermediate, leaf first; ssl_ca with two CAs.
    let intermediate = pki
        .ca
        .issue_intermediate("intermediate")
        .expect("intermediate");
    let leaf = intermediate.issue_client("chained").expect("leaf");
    let chain = format!("{}{}", leaf.cert_pem, intermediate.cert_pem);
    let other_ca = TestCa::generate("another CA").expect("CA");
    let two_cas = format!("{}\n{}", pki.ca_pem, other_ca.cert_pem);
    let m = parse(&two_cas, &chain, &leaf.key_pem).expect("chain");
    assert_eq!((m.ca_certificates(), m.cert_chain_len()), (2, 2));
    assert_eq!(m.cert_pem(), chain);

    // The leaf must come first: its key does not match the intermediate.
    let reversed = format!("{}{}", intermediate.cert_pem, leaf.cert_pem);
    assert_eq!(
        parse(&pki.ca_pem, &reversed, &leaf.key_pem).unwrap_err(),
        SslMaterialError::KeyMismatch
    );
}

#[test]
fn accepts_material_typed_through_the_sql_client() {
    // `CALL mysql.rds_import_binlog_ssl_material('{"ssl_ca":"-----BEGIN ...\n...", ...}')`:
    // the client turns each `\n` into a real line break inside the JSON strings.
    let (_dir, pki) = pki();
    let raw = format!(
        "{{\"ssl_ca\":\"{}\",\n\"ssl_cert\":\"{}\",\n\"ssl_key\":\"{}\"}}",
        pki.ca_pem.replace("\n", "\r\n"),
        pki.client_cert_pem,
        pki.client_key_pem
    );
    let m = SslMaterial::parse(&raw).expect("raw line breaks inside strings");
    assert_eq!(m.ca_pem(), pki.ca_pem, "normalised to \\n line endings");
}

#[test]
fn says_what_is_wrong_in_one_line_without_echoing_keys() {
    let (_dir, pki) = pki();
    let other = pki.ca.issue_client("someone else").expect("client");
    let (ca, cert, key) = (&pki.ca_pem, &pki.client_cert_pem, &pki.client_key_pem);
    let garbage_der = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
    let garbage_key = "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n";
    let cases: Vec<(String, SslMaterialError, &str)> = vec![
        (
            "{\"ssl_ca\": oops}".to_owned(),
            SslMaterialError::NotJson { line: 1, column: 12 },
            "Invalid SSL material: not valid JSON (line 1, column 12).",
        ),
        (
            serde_json::json!({ "ssl_cert": cert, "ssl_key": key }).to_string(),
            SslMaterialError::MissingKey(SslField::Ca),
            "Invalid SSL material: missing key ssl_ca.",
        ),
        (
            serde_json::json!({ "ssl_ca": ca, "ssl_cert": cert, "ssl_key": key, "ssl_crl": "x" })
                .to_string(),
            SslMaterialError::UnknownKey {
                name: Some("ssl_crl".into()),
            },
            "Invalid SSL material: unknown key ssl_crl; only ssl_ca, ssl_cert and ssl_key are allowed.",
        ),
        (
            material_json(ca, "not pem at all", key),
            SslMaterialError::NotPem {
                field: SslField::Cert,
            },
            "Invalid SSL material: ssl_cert is not a PEM certificate.",
        ),
        (
            material_json(ca, key, key),
            SslMaterialError::UnexpectedBlock {
                field: SslField::Cert,
                label: "PRIVATE KEY".into(),
            },
            "Invalid SSL material: ssl_cert holds a PRIVATE KEY block; expected a PEM certificate.",
        ),
        (
            material_json(ca, cert, cert),
            SslMaterialError::UnexpectedBlock {
                field: SslField::Key,
                label: "CERTIFICATE".into(),
            },
            "Invalid SSL material: ssl_key holds a CERTIFICATE block; expected a PEM private key.",
        ),
        (
            material_json(&format!("{ca}{garbage_der}"), cert, key),
            SslMaterialError::BadCertificate {
                field: SslField::Ca,
                index: 2,
            },
            "Invalid SSL material: certificate 2 in ssl_ca is not a valid X.509 certificate.",
        ),
        (
            material_json(ca, cert, &format!("{key}{}", other.key_pem)),
            SslMaterialError::SeveralKeys,
            "Invalid SSL material: ssl_key holds more than one private key.",
        ),
        (
            material_json(ca, cert, garbage_key),
            SslMaterialError::UnsupportedKey,
            "Invalid SSL material: ssl_key is not an RSA (2048+ bits), ECDSA P-256/P-384 or Ed25519 key.",
        ),
        (
            material_json(ca, cert, &other.key_pem),
            SslMaterialError::KeyMismatch,
            "Invalid SSL material: ssl_key does not match the certificate in ssl_cert.",
        ),
    ];
    for (json, expected, text) in cases {
        let err = SslMaterial::parse(&json).expect_err(text);
        assert_eq!(err, expected);
        let shown = err.to_string();
        assert_eq!(shown, text);
        assert!(shown.len() < 128);
        assert!(!shown.contains(key_body(key)) && !shown.contains(key_body(&other.key_pem)));
    }
}

#[test]
fn debug_output_hides_the_key() {
    let (_dir, pki) = pki();
    let m = parse(&pki.ca_pem, &pki.client_cert_pem, &pki.client_key_pem).expect("valid");
    let shown = format!("{m:?}");
    assert!(!shown.contains(key_body(&pki.client_key_pem)), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}

fn mode(path: &Utf8Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn read(path: &Utf8Path) -> String {
    std::fs::read_to_string(path).expect("read stored file")
}

fn utf8(path: &Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(path.to_path_buf()).expect("UTF-8 temp path")
}

/// Entries of the SSL directory, sorted.
fn listing(dir: &Utf8Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn stores_private_files_replaces_them_whole_and_erases_them() {
    let (tmp, pki) = pki();
    let first = parse(&pki.ca_pem, &pki.client_cert_pem, &pki.client_key_pem).expect("valid");
    let rsa = pki.ca.issue_client_rsa("rsa").expect("RSA client");
    let second = parse(&pki.ca_pem, &rsa.cert_pem, &rsa.alt_key_pem).expect("valid");

    let dir = utf8(tmp.path()).join("ssl");
    let ssl = SslDir::new(dir.clone(), None);
    assert!(!ssl.is_present());
    assert!(!ssl.remove().expect("remove when nothing is there"));

    ssl.store(&first).expect("store");
    assert!(ssl.is_present());
    let paths = ssl.paths();
    assert_eq!(paths.ca.file_name(), Some(CA_FILE));
    assert_eq!(paths.cert.file_name(), Some(CERT_FILE));
    assert_eq!(paths.key.file_name(), Some(KEY_FILE));
    assert_eq!(read(&paths.ca), pki.ca_pem);
    assert_eq!(read(&paths.cert), pki.client_cert_pem);
    assert_eq!(read(&paths.key), pki.client_key_pem);
    assert_eq!(mode(&dir), 0o700);
    for path in [&paths.ca, &paths.cert, &paths.key] {
        assert_eq!(mode(path), 0o600, "{path}");
        assert_eq!(mode(path.parent().expect("set dir")), 0o700);
    }

    // Replacement: same paths, new contents, nothing of the old set left behind.
    ssl.store(&second).expect("replace");
    assert_eq!(
        ssl.paths(),
        paths,
        "the paths CHANGE MASTER was given stay valid"
    );
    assert_eq!(read(&paths.cert), rsa.cert_pem);
    assert_eq!(read(&paths.key), rsa.alt_key_pem);
    assert_eq!(listing(&dir).len(), 2, "{:?}", listing(&dir));

    // A replacement that fails leaves the live set as it was: here a stale directory sits
    // where the new link is prepared, which ferry refuses to delete.
    let blocker = dir.join(".current.tmp");
    std::fs::create_dir(&blocker).expect("create blocker");
    std::fs::write(blocker.join("x"), "x").expect("fill blocker");
    let err = ssl.store(&first).expect_err("store with a blocked link");
    assert!(err.to_string().contains(".current.tmp"), "{err}");
    assert!(ssl.is_present());
    assert_eq!(
        read(&paths.key),
        rsa.alt_key_pem,
        "the previous set is intact"
    );
    std::fs::remove_dir_all(&blocker).expect("remove blocker");
    assert_eq!(
        listing(&dir).len(),
        2,
        "the half-made set was cleared: {:?}",
        listing(&dir)
    );

    assert!(ssl.remove().expect("remove"));
    assert!(!ssl.is_present());
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
    assert!(!ssl.remove().expect("remove again"));
}

#[test]
fn gives_the_files_to_the_servers_os_user() {
    if !ferry_engine::running_as_root() {
        eprintln!("not root: ownership cannot be given away; skipping");
        return;
    }
    let (tmp, pki) = pki();
    let m = parse(&pki.ca_pem, &pki.client_cert_pem, &pki.client_key_pem).expect("valid");
    let owner = OsUser {
        name: "ferry-test-nobody".into(),
        uid: 65534,
        gid: 65533,
    };
    let dir = utf8(tmp.path()).join("ssl");
    let ssl = SslDir::new(dir.clone(), Some(owner));
    ssl.store(&m).expect("store");
    let paths = ssl.paths();
    for path in [
        paths.ca.parent().expect("set dir").to_owned(),
        paths.ca,
        paths.cert,
        paths.key,
    ] {
        let meta = std::fs::metadata(&path).expect("stat");
        assert_eq!((meta.uid(), meta.gid()), (65534, 65533), "{path}");
    }
    // The directory holding the sets stays ferry's (the server's user may pass, not change it),
    // also when an older ferry had given it away.
    let check_top = || {
        let meta = std::fs::metadata(&dir).expect("stat");
        assert_eq!(meta.uid(), 0, "{dir} belongs to ferry");
        assert_eq!(meta.permissions().mode() & 0o777, 0o711, "{dir}");
    };
    check_top();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65533)).expect("give the dir away");
    ssl.store(&m).expect("store again");
    check_top();
}
