use super::*;
use crate::pages::tests::{row, session};

#[test]
fn a_button_the_principal_may_not_use_is_disabled_with_the_decision() {
    let page = ClusterPage {
        chrome: Chrome::for_session("db1", "clusters", &session()),
        c: row("db1"),
        progress: None,
        connect: Some("mariadb --host 127.0.0.1 --port 3307 --user admin --password".into()),
        instances: vec![],
        events: vec![],
        delete: Decision::of(Err(ApiError::new(
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: rds:DeleteDBCluster",
        ))),
        replication: Ok(None),
        start: None,
        imports: vec![],
        note: Note::None,
    };
    let out = page.render().unwrap();
    assert!(out.contains(r#"class="danger" disabled title="User: arn:aws:iam::123456789012:user/bob is not authorized to perform: rds:DeleteDBCluster""#), "{out}");
    assert!(out.contains("mysql-bin.000003:1234"));
    assert!(out.contains("mariadb --host 127.0.0.1"));
}

#[test]
fn a_restores_progress_reads_as_a_sentence() {
    let p = CreationProgress {
        phase: "download",
        detail: "fetching 3 backup sets".into(),
        bytes_done: 1_500_000,
        bytes_total: 3_000_000,
        files_done: 10,
        files_total: 20,
        percent: 41,
        eta_secs: Some(75),
    };
    let v = ProgressView::of(&p);
    assert_eq!(v.percent, 41);
    assert_eq!(
        v.text,
        "download: 41%, 1.5 MB of 3.0 MB, 10 of 20 files, about 1 min 15 s left (fetching 3 backup sets)"
    );
    let listing = CreationProgress {
        phase: "listing",
        detail: String::new(),
        bytes_done: 0,
        bytes_total: 0,
        files_done: 0,
        files_total: 0,
        percent: 1,
        eta_secs: None,
    };
    assert_eq!(ProgressView::of(&listing).text, "listing: 1%");
}

#[test]
fn the_start_form_keeps_what_was_typed_but_the_password_and_names_the_refusal() {
    let values = StartValues {
        host: "source.example".into(),
        port: "3306".into(),
        user: "repl".into(),
        log_file: "mysql-bin.000003".into(),
        log_position: "1234".into(),
        ssl: true,
    };
    let page = ClusterPage {
        chrome: Chrome::for_session("db1", "clusters", &session()),
        c: row("db1"),
        progress: None,
        connect: None,
        instances: vec![],
        replication: Ok(None),
        start: Some(StartSection {
            cluster: "db1".into(),
            start: Decision::of(Ok(())),
            values: values.clone(),
        }),
        imports: vec![],
        events: vec![],
        delete: Decision::of(Ok(())),
        note: Note::StartError(
            "mysql.rds_start_replication refused: cannot connect".into(),
            values,
        ),
    };
    let out = page.render().unwrap();
    for want in [
        r#"action="/console/clusters/db1/start-replication""#,
        r#"name="host" value="source.example""#,
        r#"name="log_position" value="1234""#,
        r#"name="ssl" value="1" checked"#,
        r#"name="password" type="password" required autocomplete="new-password">"#,
        r#"<p class="error" id="start-error" role="alert">mysql.rds_start_replication refused: cannot connect</p>"#,
    ] {
        assert!(out.contains(want), "{want} in:\n{out}");
    }
}
