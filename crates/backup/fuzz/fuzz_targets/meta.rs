//! Arbitrary text through the metadata parsers and the split-part name parser.
#![no_main]

use ferry_backup::meta::{parse_prepare_binlog, BinlogInfo, Checkpoints, Info};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Checkpoints::parse(&text);
    if let Ok(info) = Info::parse(&text) {
        let _ = info.partial_reason();
    }
    let _ = BinlogInfo::parse(&text);
    let _ = parse_prepare_binlog(&text);
    let names: Vec<&str> = text.lines().collect();
    let _ = ferry_backup::parts::order_parts(&names);
});
