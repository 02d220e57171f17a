use super::*;

fn profile<'a>(profiles: &'a Profiles, name: &str) -> &'a Profile {
    profiles
        .get(name)
        .unwrap_or_else(|| panic!("no profile {name}"))
}

#[test]
fn reads_sections() {
    let text = "[default]\naws_access_key_id = A\naws_secret_access_key=B\n\n[other]\nregion = eu-west-1\n";
    let p = Profiles::parse(text, FileKind::Credentials);
    let d = profile(&p, "default");
    assert_eq!(d.get("aws_access_key_id"), Some("A"));
    assert_eq!(d.get("aws_secret_access_key"), Some("B"));
    assert_eq!(profile(&p, "other").region(), Some("eu-west-1"));
    assert!(p.get("missing").is_none());
    assert_eq!(p.names().collect::<Vec<_>>(), ["default", "other"]);
}

#[test]
fn credentials_file_default_section_is_read() {
    let text =
        "# ferry\n[other]\naws_access_key_id = NOPE\n\n[default]\naws_access_key_id = AKIA1\n\
                aws_secret_access_key=s/ecr+et=\nregion = eu-west-1\n[later]\nregion=x\n";
    let p = Profiles::parse(text, FileKind::Credentials);
    let d = profile(&p, "default");
    assert_eq!(d.get("aws_access_key_id"), Some("AKIA1"));
    assert_eq!(d.get("aws_secret_access_key"), Some("s/ecr+et="));
    assert_eq!(d.region(), Some("eu-west-1"));
    assert_eq!(profile(&p, "later").region(), Some("x"));
}

#[test]
fn comments_whitespace_case_and_delimiters() {
    let text = "; leading comment\n  # indented comment\nstray = before any section\n\
                [ default ]\r\n  AWS_Access_Key_Id   =   A  \r\n\
                region: eu-west-1\nendpoint_url = http://127.0.0.1:9000\n\
                not a setting\nkey = value # not a comment\n= no key\n";
    let p = Profiles::parse(text, FileKind::Credentials);
    let d = profile(&p, "default");
    assert_eq!(d.get("aws_access_key_id"), Some("A"));
    assert_eq!(d.region(), Some("eu-west-1"));
    assert_eq!(d.endpoint_url(), Some("http://127.0.0.1:9000"));
    assert_eq!(d.get("key"), Some("value # not a comment"));
    assert_eq!(
        d.keys().collect::<Vec<_>>(),
        ["aws_access_key_id", "endpoint_url", "key", "region"]
    );
    assert_eq!(p.names().collect::<Vec<_>>(), ["default"]);
}

#[test]
fn config_file_names_profiles_with_a_prefix() {
    let text = "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n\
                [prod]\nregion = nope\n[sso-session corp]\nsso_region = x\n\
                [profile  spaced ]\nregion = ap-south-1\n[profilex]\nregion = nope\n";
    let p = Profiles::parse(text, FileKind::Config);
    assert_eq!(p.names().collect::<Vec<_>>(), ["default", "dev", "spaced"]);
    assert_eq!(profile(&p, "dev").region(), Some("eu-west-1"));
    assert_eq!(profile(&p, "spaced").region(), Some("ap-south-1"));
    // In the credentials file the same headers are plain names.
    let c = Profiles::parse(text, FileKind::Credentials);
    assert_eq!(profile(&c, "prod").region(), Some("nope"));
    assert_eq!(profile(&c, "profile dev").region(), Some("eu-west-1"));
}

#[test]
fn repeated_sections_merge_and_later_values_win() {
    let text = "[default]\nregion = a\naws_access_key_id = K\n[other]\n[default]\nregion = b\n";
    let p = Profiles::parse(text, FileKind::Credentials);
    let d = profile(&p, "default");
    assert_eq!(d.region(), Some("b"));
    assert_eq!(d.get("aws_access_key_id"), Some("K"));
    assert!(profile(&p, "other").is_empty());
}

#[test]
fn nested_settings_and_continuation_lines() {
    let text = "[profile dev]\nregion = eu-west-1\ns3 =\n    addressing_style = path\n    \
                endpoint_url = http://s3.local\n\n  # comment inside\n    max_concurrent_requests=4\n\
                endpoint_url = http://top\nlong = first\n   second\n  also_key = v\n";
    let p = Profiles::parse(text, FileKind::Config);
    let dev = profile(&p, "dev");
    assert_eq!(dev.get("s3.addressing_style"), Some("path"));
    assert_eq!(dev.get("s3.endpoint_url"), Some("http://s3.local"));
    assert_eq!(dev.get("s3.max_concurrent_requests"), Some("4"));
    // The nested endpoint is S3's own, not the profile's.
    assert_eq!(dev.endpoint_url(), Some("http://top"));
    assert_eq!(dev.get("long"), Some("first\nsecond\nalso_key = v"));
    // Settings at the same indentation are separate settings.
    let text = "[default]\n  aws_access_key_id = A\n  aws_secret_access_key = B\n";
    let p = Profiles::parse(text, FileKind::Credentials);
    let creds = profile(&p, "default").credentials().unwrap();
    assert_eq!(creds.access_key_id, "A");
    assert_eq!(creds.secret_access_key.expose(), "B");
}

#[test]
fn credentials_need_both_keys_and_debug_hides_values() {
    let text = "[a]\naws_access_key_id = A\n[b]\naws_access_key_id = B\n\
                aws_secret_access_key = hidden-secret\naws_session_token = hidden-token\n";
    let p = Profiles::parse(text, FileKind::Credentials);
    assert!(profile(&p, "a").credentials().is_none());
    let b = profile(&p, "b").credentials().unwrap();
    assert_eq!(b.access_key_id, "B");
    assert_eq!(
        b.session_token.as_ref().map(Secret::expose),
        Some("hidden-token")
    );
    let shown = format!("{p:?} {b:?}");
    assert!(!shown.contains("hidden"), "{shown}");
    assert!(shown.contains("aws_session_token"), "{shown}");
}

#[test]
fn load_profile_merges_config_under_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &config,
        "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROM_CONFIG\n\
         [default]\nregion = us-west-2\n",
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[dev]\naws_access_key_id = K\naws_secret_access_key = S\n",
    )
    .unwrap();
    let dev = load_profile_from("dev", Some(&config), Some(&credentials)).unwrap();
    assert_eq!(dev.region(), Some("eu-west-1"));
    assert_eq!(dev.credentials().unwrap().access_key_id, "K");
    let default = load_profile_from("default", Some(&config), Some(&credentials)).unwrap();
    assert_eq!(default.region(), Some("us-west-2"));
    assert!(default.credentials().is_none());
    assert!(load_profile_from("nope", Some(&config), Some(&credentials)).is_none());
    let missing = dir.path().join("missing");
    assert!(load_profile_from("dev", Some(&missing), None).is_none());
    assert!(load_profile_from("dev", None, Some(&credentials)).is_some());
    assert_eq!(
        Profiles::read(&missing, FileKind::Config).unwrap(),
        None,
        "a missing file is no error"
    );
}

#[test]
fn writes_what_the_parser_and_the_aws_cli_read() {
    let text = FileWriter::new(FileKind::Credentials)
        .comment(
            "ferry admin credentials for /var/lib/ferry (created by ferry serve; keep private)",
        )
        .profile(
            "default",
            &[
                ("aws_access_key_id", "AKIA1"),
                ("aws_secret_access_key", "s/ecr+et="),
                ("region", "us-east-1"),
            ],
        )
        .unwrap()
        .render();
    assert_eq!(
        text,
        "# ferry admin credentials for /var/lib/ferry (created by ferry serve; keep private)\n\
         [default]\naws_access_key_id = AKIA1\naws_secret_access_key = s/ecr+et=\nregion = us-east-1\n"
    );
    let back = Profiles::parse(&text, FileKind::Credentials);
    let creds = profile(&back, "default").credentials().unwrap();
    assert_eq!(creds.secret_access_key.expose(), "s/ecr+et=");

    let config = FileWriter::new(FileKind::Config)
        .profile("default", &[("region", "us-east-1")])
        .unwrap()
        .comment("two\nlines")
        .profile("dev", &[("region", "eu-west-1"), ("output", "")])
        .unwrap()
        .profile("ops", &[])
        .unwrap()
        .render();
    assert_eq!(
        config,
        "[default]\nregion = us-east-1\n# two\n# lines\n[profile dev]\nregion = eu-west-1\n\
         output = \n\n[profile ops]\n"
    );
    let back = Profiles::parse(&config, FileKind::Config);
    assert_eq!(back.names().collect::<Vec<_>>(), ["default", "dev", "ops"]);
    assert_eq!(profile(&back, "dev").get("output"), Some(""));
}

#[test]
fn the_writer_refuses_what_would_read_back_differently() {
    let w = || FileWriter::new(FileKind::Config);
    let name_err = |name: &str| w().profile(name, &[]).unwrap_err();
    for bad in ["", " dev", "a]b", "my profile", "it's", "a\nb"] {
        assert!(
            matches!(name_err(bad), WriteError::ProfileName { .. }),
            "{bad:?}"
        );
    }
    // A credentials file takes spaces in a name.
    assert!(FileWriter::new(FileKind::Credentials)
        .profile("my profile", &[])
        .is_ok());
    for bad in ["", "Region", "a b", "a=b", "a:b", "#x"] {
        let err = w().profile("p", &[(bad, "v")]).unwrap_err();
        assert!(matches!(err, WriteError::Key { .. }), "{bad:?}: {err}");
    }
    for bad in ["line\nbreak", "cr\r", " lead", "trail ", "tab\t"] {
        let err = w()
            .profile("p", &[("aws_secret_access_key", bad)])
            .unwrap_err();
        assert!(matches!(err, WriteError::Value { .. }), "{bad:?}: {err}");
        assert!(
            !err.to_string().contains(bad),
            "never quotes a value: {err}"
        );
    }
}
