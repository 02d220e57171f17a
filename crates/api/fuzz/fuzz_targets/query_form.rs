//! Arbitrary bytes as a Query-protocol request: the first half as the URL query string, the
//! rest as the form body, then every accessor the action handlers use.
#![no_main]

use ferry_api::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.len() / 2;
    let query = String::from_utf8_lossy(&data[..split]);
    let Ok(p) = Params::parse(&query, &data[split..]) else {
        return;
    };
    let _ = p.action();
    let _ = p.required("DBClusterIdentifier");
    let _ = p.bool("DeletionProtection");
    let _ = p.i64("Port");
    let _ = p.timestamp("StartTime");
    let _ = p.list("VpcSecurityGroupIds", "VpcSecurityGroupId");
    let _ = p.tags();
    let _ = p.filters();
    let _ = p.unknown_names(&["Action", "Version"]);
});
