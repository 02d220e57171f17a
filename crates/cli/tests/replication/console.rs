//! The console's replication pages, as the replication test walks them: start a cluster's
//! replication from its page, see it running with its lag chart, stop it (the cutover).

use ferry_testkit::http::{read_key, request, sign_in};

use super::common::serve::Serve;
use super::{ferry_replication, field, REPL_PASSWORD};

/// Starts cluster `repl-w`'s replication with the console's form, as a person who restored
/// it would: the recovered binlog position is filled in; asking for TLS from a user that
/// needs SSL material the cluster does not have yet is refused with the procedure's words and
/// the form keeps what was typed; without TLS, as `repl_plain`, it starts.
pub(crate) fn starts_replication(serve: &Serve, source_port: u16, file: &str, pos: u64) {
    let addr = format!("127.0.0.1:{}", serve.port);
    let cookie = sign_in(&addr, &read_key(&serve.credentials()));
    let path = "/console/clusters/repl-w";
    let page = request(&addr, "GET", path, Some(&cookie), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("This cluster is not replicating."),
        "{}",
        page.body
    );
    assert_eq!(page.input_value("log_file").as_deref(), Some(file));
    assert_eq!(page.input_value("log_position"), Some(pos.to_string()));
    let csrf = page.input_value("csrf").unwrap();
    let (port, pos) = (source_port.to_string(), pos.to_string());
    let send = |user: &str, ssl: bool| {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("host", "127.0.0.1"),
            ("port", port.as_str()),
            ("user", user),
            ("password", REPL_PASSWORD),
            ("log_file", file),
            ("log_position", pos.as_str()),
        ];
        if ssl {
            form.push(("ssl", "1"));
        }
        request(
            &addr,
            "POST",
            &format!("{path}/start-replication"),
            Some(&cookie),
            Some(&form),
        )
    };
    let refused = send("repl", true);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("mysql.rds_set_external_master refused:")
            && refused.body.contains("rds_import_binlog_ssl_material"),
        "{}",
        refused.body
    );
    assert_eq!(refused.input_value("user").as_deref(), Some("repl"));
    assert!(
        !refused.body.contains(REPL_PASSWORD),
        "the password is not echoed"
    );
    let started = send("repl_plain", false);
    assert_eq!(started.status, 200, "{}", started.body);
    assert!(
        started.body.contains("Slave running normally."),
        "{}",
        started.body
    );
    let events = serve.cluster_events("repl-w");
    assert!(
        events
            .iter()
            .any(|e| e == "Replication started by mysql.rds_start_replication."),
        "{events:#?}"
    );
}

/// The console's page of a cluster that is replicating, caught up: running, lag 0, the chart
/// of its samples, the stop form filled in with the source's position; and the live part
/// that `live.js` fetches.
pub(crate) fn shows_replication(serve: &Serve, cluster: &str) {
    let addr = format!("127.0.0.1:{}", serve.port);
    let cookie = sign_in(&addr, &read_key(&serve.credentials()));
    let path = format!("/console/clusters/{cluster}");
    let page = request(&addr, "GET", &path, Some(&cookie), None);
    assert_eq!(page.status, 200, "{}", page.body);
    for want in [
        r#"<span class="status status-running">running</span> lag <strong>0.000 s</strong>"#,
        r#"<svg class="chart""#,
        r#"<polyline class="line""#,
        "Stop replication",
    ] {
        assert!(page.body.contains(want), "{want} in:\n{}", page.body);
    }
    let status = ferry_replication(serve, &["status", cluster], &[]).stdout;
    let executed = field(&status, "Executed up to").unwrap();
    let (file, pos) = executed.split_once(':').unwrap();
    assert_eq!(page.input_value("log_file").as_deref(), Some(file));
    assert_eq!(page.input_value("log_position").as_deref(), Some(pos));
    let list = request(&addr, "GET", "/console/clusters", Some(&cookie), None);
    assert!(
        list.body.contains("<td>running, lag 0.000 s</td>"),
        "{}",
        list.body
    );
    let live = request(
        &addr,
        "GET",
        &format!("{path}/replication"),
        Some(&cookie),
        None,
    );
    assert_eq!(live.status, 200);
    assert!(
        live.body.starts_with(r#"<div id="replication-live""#) && live.body.contains("<svg"),
        "{}",
        live.body
    );
}

/// Stops a cluster's replication with the console's form, at the source's `file:pos`.
pub(crate) fn stops_replication(serve: &Serve, cluster: &str, file: &str, pos: u64) {
    let addr = format!("127.0.0.1:{}", serve.port);
    let cookie = sign_in(&addr, &read_key(&serve.credentials()));
    let path = format!("/console/clusters/{cluster}");
    let page = request(&addr, "GET", &path, Some(&cookie), None);
    let csrf = page.input_value("csrf").unwrap();
    let pos = pos.to_string();
    let r = request(
        &addr,
        "POST",
        &format!("{path}/stop-replication"),
        Some(&cookie),
        Some(&[
            ("csrf", &csrf),
            ("log_file", file),
            ("log_position", &pos),
            ("timeout", "120"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let want = format!("Replication stopped: the cluster applied the source up to {file}:{pos}");
    assert!(r.body.contains(&want), "{want} in:\n{}", r.body);
    assert!(serve
        .cluster_events(cluster)
        .iter()
        .any(|e| e.starts_with(&format!(
            "Cutover: the cluster executed the source up to {file}, position {pos};"
        ))));
}
