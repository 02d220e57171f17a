//! botocore's own Query-protocol parser, with the RDS service model, reads what [`ferry_api::xml`]
//! writes: the shapes the AWS CLI will see.

mod common;

use common::server::describe_db_clusters_xml;
use ferry_api::xml::{self, ErrorType};

/// Parses stdin with botocore's QueryParser as the response of operation argv[1] with HTTP
/// status argv[2], and prints the result as JSON (timestamps as ISO strings).
const PARSE_SCRIPT: &str = r#"
import json, sys
import botocore.session
from botocore.parsers import create_parser
model = botocore.session.get_session().get_service_model('rds')
operation = model.operation_model(sys.argv[1])
response = {'body': sys.stdin.buffer.read(), 'headers': {}, 'status_code': int(sys.argv[2])}
parsed = create_parser('query').parse(response, operation.output_shape)
print(json.dumps(parsed, default=lambda o: o.isoformat()))
"#;

fn botocore_parse(
    python: &std::path::PathBuf,
    operation: &str,
    status: u16,
    body: &str,
) -> serde_json::Value {
    let out = common::run_python(
        python,
        PARSE_SCRIPT,
        &[operation, &status.to_string()],
        body.as_bytes(),
    );
    serde_json::from_str(&out).expect("parser output is JSON")
}

#[test]
fn describe_db_clusters_parses_into_the_model_shape() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let body = describe_db_clusters_xml("req-123", &["alpha", "beta"]);
    let parsed = botocore_parse(&python, "DescribeDBClusters", 200, &body);
    let clusters = parsed["DBClusters"].as_array().expect("DBClusters list");
    assert_eq!(clusters.len(), 2, "{parsed}");
    let c = &clusters[0];
    assert_eq!(c["DBClusterIdentifier"], "alpha");
    assert_eq!(c["Status"], "available");
    assert_eq!(c["Port"], 3306, "integers parse as numbers");
    assert_eq!(c["StorageEncrypted"], false, "booleans parse as booleans");
    assert_eq!(c["ClusterCreateTime"], "2024-01-31T12:00:00.123000+00:00");
    assert_eq!(c["AvailabilityZones"], serde_json::json!(["local-a"]));
    assert_eq!(
        c["DBClusterMembers"][0]["DBInstanceIdentifier"],
        "alpha-writer"
    );
    assert_eq!(c["DBClusterMembers"][0]["IsClusterWriter"], true);
    assert_eq!(c["TagList"][0]["Value"], "a <b> & \"c\" 'd'");
    assert!(
        c.get("PercentProgress").is_none(),
        "absent members stay absent"
    );
    assert_eq!(clusters[1]["DBClusterIdentifier"], "beta");
    assert_eq!(parsed["ResponseMetadata"]["RequestId"], "req-123");
}

#[test]
fn error_document_parses_into_code_and_message() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let body = xml::error_response(
        ErrorType::Sender,
        "DBClusterNotFoundFault",
        "DBCluster <none> & \"x\" not found.",
        "req-err",
    );
    let parsed = botocore_parse(&python, "DescribeDBClusters", 404, &body);
    assert_eq!(
        parsed["Error"]["Code"], "DBClusterNotFoundFault",
        "{parsed}"
    );
    assert_eq!(
        parsed["Error"]["Message"],
        "DBCluster <none> & \"x\" not found."
    );
    assert_eq!(parsed["Error"]["Type"], "Sender");
    assert_eq!(parsed["ResponseMetadata"]["RequestId"], "req-err");
}

#[test]
fn empty_response_parses_for_an_action_without_output() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    // AddTagsToResource has no output members: RDS sends no Result element.
    let body = xml::empty_response("AddTagsToResource", "req-empty");
    let parsed = botocore_parse(&python, "AddTagsToResource", 200, &body);
    assert_eq!(
        parsed["ResponseMetadata"]["RequestId"], "req-empty",
        "{parsed}"
    );
}

#[test]
fn events_parse_with_dates_and_categories() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let body = xml::response("DescribeEvents", "req-ev", |w| {
        w.start("Events");
        for (i, message) in [
            "DB cluster created.",
            "Recovered from Binary log filename 'mysql-bin.000002', position '1234'.",
        ]
        .iter()
        .enumerate()
        {
            w.start("Event");
            w.elem("SourceIdentifier", "c1")
                .elem("SourceType", "db-cluster")
                .elem("Message", message)
                .list("EventCategories", "EventCategory", ["notification"])
                .time_elem(
                    "Date",
                    time::macros::datetime!(2024-05-01 10:00:00 UTC)
                        + time::Duration::seconds(i as i64),
                )
                .elem("SourceArn", "arn:aws:rds:us-east-1:000000000000:cluster:c1");
            w.end();
        }
        w.end();
    });
    let parsed = botocore_parse(&python, "DescribeEvents", 200, &body);
    let events = parsed["Events"].as_array().expect("Events list");
    assert_eq!(events.len(), 2, "{parsed}");
    assert_eq!(
        events[1]["Message"],
        "Recovered from Binary log filename 'mysql-bin.000002', position '1234'."
    );
    assert_eq!(
        events[0]["EventCategories"],
        serde_json::json!(["notification"])
    );
    assert_eq!(events[1]["Date"], "2024-05-01T10:00:01+00:00");
}
