use super::*;

pub(crate) fn session() -> Session {
    Session {
        access_key_id: "AKIAEXAMPLE".into(),
        user_name: "alice".into(),
        csrf: "c".repeat(64),
    }
}

pub(crate) fn row(id: &str) -> ClusterRow {
    ClusterRow {
        id: id.to_string(),
        status: "available",
        progress: None,
        engine: "aurora-mysql",
        engine_version: "10.11.19".into(),
        endpoint: Some("127.0.0.1".into()),
        port: 3307,
        instances: 1,
        master_username: "admin".into(),
        created: "2026-12-03 06:00:00".into(),
        source: Some("s3://backups/prod".into()),
        binlog: Some("mysql-bin.000003:1234".into()),
        arn: "arn:aws:rds:us-east-1:123456789012:cluster:c1".into(),
        replication: Some("running, lag 0.250 s".into()),
        import: None,
    }
}

#[test]
fn the_clusters_page_escapes_what_it_shows_and_links_each_cluster() {
    let page = ClustersPage {
        chrome: Chrome::for_session("Clusters", "clusters", &session()),
        rows: vec![row("db1"), row("<script>alert(1)</script>")],
        next: Some("m 1".into()),
    };
    let out = page.render().unwrap();
    assert!(
        out.contains(r#"<a href="/console/clusters/db1">db1</a>"#),
        "{out}"
    );
    assert!(!out.contains("<script>alert"), "{out}");
    assert!(
        out.contains("&#60;script&#62;") || out.contains("&lt;script&gt;"),
        "{out}"
    );
    assert!(out.contains("<code>127.0.0.1:3307</code>"));
    assert!(out.contains("<td>running, lag 0.250 s</td>"), "{out}");
    assert!(out.contains("marker=m%201"), "{out}");
    assert!(
        out.contains(&"c".repeat(64)),
        "the sign-out form carries the token"
    );
    assert!(out.contains("Signed in as <strong>alice</strong>"));
}

#[test]
fn the_event_filter_is_checked_before_the_api_is_asked() {
    let f = |t: &str, id: &str, hours: &str| EventFilter {
        source_type: t.into(),
        source_id: id.into(),
        hours: hours.into(),
        marker: None,
    };
    let p = f("db-cluster", "db1", "2").params().unwrap();
    assert_eq!(p.get("Duration"), Some("120"));
    assert_eq!(p.get("SourceType"), Some("db-cluster"));
    assert_eq!(p.get("SourceIdentifier"), Some("db1"));
    assert!(f("", "", "0").params().unwrap_err().contains("1 to 336"));
    assert!(f("", "", "x").params().unwrap_err().contains("1 to 336"));
    assert!(f("", "db1", "1")
        .params()
        .unwrap_err()
        .contains("source type"));
    assert_eq!(
        f("db-instance", "a b", "3").query(),
        "source_type=db%2Dinstance&source_id=a%20b&hours=3"
    );
}
