use std::fs;

use super::*;

struct Dir {
    _tmp: tempfile::TempDir,
    path: Utf8PathBuf,
}

fn temp_dir() -> Dir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).expect("utf-8 temp path");
    Dir { _tmp: tmp, path }
}

fn write(path: &Utf8Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn parse_err(text: &str) -> String {
    Config::parse(text, "test.toml").unwrap_err().to_string()
}

#[test]
fn no_file_means_defaults() {
    let c = Config::load(None).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.region, "us-east-1");
    assert_eq!(c.account_id, "000000000000");
    assert_eq!(c.advertised_host, "127.0.0.1");
    assert_eq!(c.instance_port_range.to_string(), "3306-3399");
    assert_eq!(Config::parse("", "empty").unwrap(), Config::default());
}

#[test]
fn a_full_file() {
    let d = temp_dir();
    let text = format!(
        r#"
        listen = "0.0.0.0:9000"
        region = "eu-west-1"
        account_id = "123456789012"
        advertised_host = "db.example.com"
        instance_port_range = "4000-4009"

        [storage]
        file_root = "file://{root}"

        [[bucket]]
        name = "minio-backups"
        endpoint_url = "http://127.0.0.1:9000/"
        access_key_id = "AKIAMINIO"
        secret_access_key = "minio-secret"

        [[bucket]]
        name = "aws-backups"
        region = "eu-west-1"
        "#,
        root = d.path
    );
    let c = Config::parse(&text, "full.toml").unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.region, "eu-west-1");
    assert_eq!(c.account_id, "123456789012");
    assert_eq!(c.advertised_host, "db.example.com");
    assert_eq!(
        c.instance_port_range,
        PortRange {
            first: 4000,
            last: 4009
        }
    );
    assert_eq!(c.file_root.as_deref(), Some(d.path.as_path()));
    let minio = &c.buckets[0];
    assert_eq!(minio.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
    assert!(minio.path_style, "custom endpoints default to path style");
    assert!(matches!(
        minio.credentials,
        BucketCredentials::Static { .. }
    ));
    let aws = &c.buckets[1];
    assert!(!aws.path_style);
    assert_eq!(aws.credentials, BucketCredentials::Environment);
}

#[test]
fn unknown_keys_are_refused_by_name() {
    for (text, key) in [
        ("lisen = \"127.0.0.1:1\"", "lisen"),
        ("[storage]\nfileroot = \"/tmp\"", "fileroot"),
        ("[[bucket]]\nname = \"abc\"\nsecret = \"x\"", "secret"),
        ("[server]\nport = 1", "server"),
    ] {
        let err = parse_err(text);
        assert!(err.contains(&format!("unknown field `{key}`")), "{err}");
        assert!(err.starts_with("configuration file test.toml:"), "{err}");
    }
}

#[test]
fn syntax_errors_give_the_place_but_never_quote_the_line() {
    let err = parse_err(
        "region = \"us-east-1\"\n[[bucket]]\nname = \"abc\"\nsecret_access_key = \"SuperSecret\n",
    );
    assert!(
        err.starts_with("configuration file test.toml: line 4, column"),
        "{err}"
    );
    assert!(!err.contains("SuperSecret"), "{err}");
}

#[test]
fn bad_values_name_their_key() {
    for (text, needle) in [
        ("listen = \"localhost\"", "listen: \"localhost\" is not an address"),
        ("region = \"US East\"", "region: \"US East\" is not a region"),
        ("account_id = \"123\"", "account_id: \"123\" is not 12 digits"),
        ("advertised_host = \"bad host\"", "advertised_host: \"bad host\" is not a host"),
        ("instance_port_range = \"3399-3306\"", "the first port is above the last"),
        ("instance_port_range = \"80-90\"", "port 80 is outside the range"),
        ("instance_port_range = \"3306\"", "is not a port range"),
        ("[storage]\nfile_root = \"relative/dir\"", "must be an absolute path"),
        ("[storage]\nfile_root = \"/nonexistent/ferry-root\"", "does not exist"),
        ("[[bucket]]\nname = \"Bad_Bucket\"", "bucket 'Bad_Bucket': The parameter S3BucketName"),
        ("[[bucket]]\nname = \"abc\"\nendpoint_url = \"ftp://x\"", "must start with http://"),
        ("[[bucket]]\nname = \"abc\"\naccess_key_id = \"A\"", "go together"),
        (
            "[[bucket]]\nname = \"abc\"\naccess_key_id = \"A\"\nsecret_access_key = \"S\"\nprofile = \"p\"",
            "not both",
        ),
        ("[[bucket]]\nname = \"abc\"\n[[bucket]]\nname = \"abc\"", "configured twice"),
        ("account_id = 123456789012", "invalid type"),
    ] {
        let err = parse_err(text);
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn a_file_with_secrets_must_be_private() {
    let d = temp_dir();
    let path = d.path.join("ferry.toml");
    let text = "[[bucket]]\nname = \"abc\"\naccess_key_id = \"A\"\nsecret_access_key = \"S\"\n";
    write(&path, text, 0o644);
    let err = Config::load(Some(&path)).unwrap_err();
    assert!(
        matches!(err, ConfigError::InsecurePermissions { mode: 0o644, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("chmod 600 {path}")),
        "{err}"
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(Config::load(Some(&path)).unwrap().buckets.len(), 1);

    // Without secrets a readable file is fine.
    write(&path, "region = \"us-west-2\"\n", 0o644);
    assert_eq!(Config::load(Some(&path)).unwrap().region, "us-west-2");

    let err = Config::load(Some(&d.path.join("missing.toml"))).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
}

#[test]
fn bucket_resolution_order() {
    let d = temp_dir();
    fs::create_dir_all(d.path.join("local-bucket/backups/full")).unwrap();
    let text = format!(
        "[storage]\nfile_root = \"{}\"\n\n[[bucket]]\nname = \"mapped\"\n\
         endpoint_url = \"http://127.0.0.1:9000\"\naccess_key_id = \"AKIA\"\n\
         secret_access_key = \"SECRET\"\nsession_token = \"TOKEN\"\n",
        d.path
    );
    let c = Config::parse(&text, "t").unwrap();

    // 1. An explicit mapping wins, even over the file root.
    let (url, opts) = c.bucket_source("mapped", "/backups/full/").unwrap();
    assert_eq!(
        url,
        SourceUrl::S3 {
            bucket: "mapped".into(),
            prefix: "backups/full".into()
        }
    );
    assert_eq!(opts.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(opts.access_key_id.as_deref(), Some("AKIA"));
    assert_eq!(
        opts.secret_access_key.as_ref().map(Secret::expose),
        Some("SECRET")
    );
    assert_eq!(
        opts.session_token.as_ref().map(Secret::expose),
        Some("TOKEN")
    );
    assert!(!opts.virtual_hosted_style);

    // 2. The file root serves other buckets as directories.
    let (url, opts) = c.bucket_source("local-bucket", "backups/full").unwrap();
    assert_eq!(
        url,
        SourceUrl::Local(d.path.join("local-bucket/backups/full").into_std_path_buf())
    );
    assert!(opts.access_key_id.is_none());
    let (url, _) = c.bucket_source("local-bucket", "").unwrap();
    assert_eq!(
        url,
        SourceUrl::Local(d.path.join("local-bucket").into_std_path_buf())
    );
    let err = c.bucket_source("missing-bucket", "").unwrap_err();
    assert!(
        matches!(&err, ConfigError::BucketNotFound { bucket, .. } if bucket == "missing-bucket"),
        "{err}"
    );

    // 3. Without a file root, S3 through the environment.
    let c = Config::default();
    let (url, opts) = c.bucket_source("anything", "p").unwrap();
    assert_eq!(
        url,
        SourceUrl::S3 {
            bucket: "anything".into(),
            prefix: "p".into()
        }
    );
    assert!(opts.endpoint_url.is_none() && opts.access_key_id.is_none());
}

#[test]
fn bucket_names_and_prefixes_cannot_leave_the_file_root() {
    let d = temp_dir();
    fs::create_dir_all(d.path.join("b1")).unwrap();
    let c = Config::parse(&format!("[storage]\nfile_root = \"{}\"", d.path), "t").unwrap();
    for (bucket, prefix) in [
        ("..", ""),
        ("a/b", ""),
        ("b1", "../b1"),
        ("b1", "x/../../etc"),
    ] {
        let err = c.bucket_source(bucket, prefix).unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidBucket { .. }),
            "{bucket} {prefix}: {err}"
        );
    }
}

#[test]
fn profile_credentials_are_read_from_the_named_file() {
    let d = temp_dir();
    let creds = d.path.join("credentials");
    write(
        &creds,
        "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n\
         [minio]\naws_access_key_id = MK\naws_secret_access_key = MS\naws_session_token = MT\n",
        0o600,
    );
    let text = format!(
        "[[bucket]]\nname = \"abc\"\nprofile = \"minio\"\ncredentials_file = \"{creds}\"\n\n\
         [[bucket]]\nname = \"def\"\ncredentials_file = \"{creds}\"\n"
    );
    let c = Config::parse(&text, "t").unwrap();
    let (_, opts) = c.bucket_source("abc", "").unwrap();
    assert_eq!(opts.access_key_id.as_deref(), Some("MK"));
    assert_eq!(
        opts.secret_access_key.as_ref().map(Secret::expose),
        Some("MS")
    );
    assert_eq!(opts.session_token.as_ref().map(Secret::expose), Some("MT"));
    let (_, opts) = c.bucket_source("def", "").unwrap();
    assert_eq!(opts.access_key_id.as_deref(), Some("D"));

    let err = parse_err(&format!(
        "[[bucket]]\nname = \"abc\"\nprofile = \"nope\"\ncredentials_file = \"{creds}\"\n"
    ));
    assert!(
        err.contains(&format!("no [nope] profile in {creds}")),
        "{err}"
    );

    // A profile removed after start is reported when the bucket is opened.
    write(
        &creds,
        "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n",
        0o600,
    );
    let err = c.bucket_source("abc", "").unwrap_err();
    assert!(
        matches!(err, ConfigError::BucketCredentials { .. }),
        "{err}"
    );
}

#[test]
fn path_style_can_be_turned_off() {
    let c = Config::parse(
        "[[bucket]]\nname = \"abc\"\nendpoint_url = \"https://s3.example.com\"\npath_style = false\n",
        "t",
    )
    .unwrap();
    let (_, opts) = c.bucket_source("abc", "").unwrap();
    assert!(opts.virtual_hosted_style);
}

#[test]
fn debug_output_redacts_bucket_secrets() {
    let creds = BucketCredentials::Static {
        access_key_id: "AKIAVISIBLE".into(),
        secret_access_key: "hidden-secret".into(),
        session_token: Some("hidden-token".into()),
    };
    let shown = format!("{creds:?}");
    assert!(shown.contains("AKIAVISIBLE"), "{shown}");
    assert!(!shown.contains("hidden"), "{shown}");
}

#[test]
fn port_ranges() {
    let r: PortRange = "3306-3308".parse().unwrap();
    assert!(r.contains(3307) && !r.contains(3309));
    assert_eq!(r.first_free(&[3306, 3308]), Some(3307));
    assert_eq!(r.first_free(&[3306, 3307, 3308]), None);
    assert_eq!(r.to_string(), "3306-3308");
}

#[test]
fn api_limits() {
    let c = Config::parse(
        "[api]\nheader_read_timeout_secs = 5\nbody_read_timeout_secs = 7\nmax_connections = 3\n",
        "api.toml",
    )
    .unwrap();
    assert_eq!(
        c.api,
        ApiLimits {
            header_read_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(7),
            max_connections: 3,
        }
    );
    assert_eq!(
        Config::parse("[api]\n", "api.toml").unwrap().api,
        ApiLimits::default()
    );
    for (text, key) in [
        (
            "[api]\nheader_read_timeout_secs = 0",
            "api.header_read_timeout_secs",
        ),
        (
            "[api]\nbody_read_timeout_secs = 3601",
            "api.body_read_timeout_secs",
        ),
        ("[api]\nmax_connections = 0", "api.max_connections"),
    ] {
        let e = parse_err(text);
        assert!(e.contains(key), "{text}: {e}");
    }
    assert!(parse_err("[api]\nidle = 1").contains("idle"));
}

#[test]
fn guardian_interval() {
    assert_eq!(
        Config::parse("", "g.toml").unwrap().guardian_interval,
        Duration::from_secs(1)
    );
    let c = Config::parse("[guardian]\ninterval_ms = 250\n", "g.toml").unwrap();
    assert_eq!(c.guardian_interval, Duration::from_millis(250));
    for bad in [
        "[guardian]\ninterval_ms = 99",
        "[guardian]\ninterval_ms = 60001",
    ] {
        assert!(parse_err(bad).contains("guardian.interval_ms"), "{bad}");
    }
}

#[test]
fn iam_mode() {
    assert_eq!(
        Config::parse("", "i.toml").unwrap().iam_mode,
        IamMode::Enforce
    );
    let c = Config::parse("[iam]\nmode = \"audit\"\n", "i.toml").unwrap();
    assert_eq!(c.iam_mode, IamMode::Audit);
    let e = parse_err("[iam]\nmode = \"log\"");
    assert!(e.contains("iam.mode") && e.contains("\"log\""), "{e}");
}

#[test]
fn import_lease() {
    assert_eq!(
        Config::parse("", "i.toml").unwrap().import_lease,
        Duration::from_secs(60)
    );
    let c = Config::parse("[import]\nlease_seconds = 3\n", "i.toml").unwrap();
    assert_eq!(c.import_lease, Duration::from_secs(3));
    for bad in ["0", "3601"] {
        let e = Config::parse(&format!("[import]\nlease_seconds = {bad}\n"), "i.toml").unwrap_err();
        assert!(e.to_string().contains("import.lease_seconds"), "{e}");
    }
}

#[test]
fn replication_connect_retry() {
    assert_eq!(
        Config::parse("", "r.toml")
            .unwrap()
            .replication_connect_retry,
        60
    );
    let c = Config::parse("[replication]\nconnect_retry_seconds = 2\n", "r.toml").unwrap();
    assert_eq!(c.replication_connect_retry, 2);
    for bad in ["0", "3601"] {
        let e = parse_err(&format!("[replication]\nconnect_retry_seconds = {bad}"));
        assert!(
            e.contains("replication.connect_retry_seconds") && e.contains(bad),
            "{e}"
        );
    }
    let e = parse_err("[replication]\nconnect_retry = 2");
    assert!(e.contains("connect_retry"), "{e}");
}
