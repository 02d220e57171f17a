//! Arbitrary bytes through the xbstream reader: an error is fine, a panic or a hang is not.
#![no_main]

use ferry_backup::sink::MetaSink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ferry_backup::xbstream::extract(data, &mut MetaSink::discard());
});
