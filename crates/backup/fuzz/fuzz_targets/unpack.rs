//! Arbitrary bytes through `unpack` under every named format (decompression, container
//! sniffing, xbstream and tar).
#![no_main]

use ferry_backup::format::format_from_name;
use ferry_backup::sink::MetaSink;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = ["b.xbstream", "b.tar", "b.tar.gz", "b.xbstream.zst", "b.gz", "b.zst"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    if let Some(format) = format_from_name(name) {
        let _ = ferry_backup::unpack::unpack(bytes, format, &mut MetaSink::discard());
    }
});
