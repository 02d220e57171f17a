//! Restoring every form of the fixture chain from a local directory, and checking the result
//! on a real MariaDB server against the source's checksums and routines.

mod common;

use common::*;

fn restore_and_verify(chain_name: &str) -> Run {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let r = run(ferry()
        .args(["backup", "restore"])
        .arg(chain(chain_name))
        .arg("--target-dir")
        .arg(&target));
    r.assert_ok();
    let expected = expected_for(chain_name);
    let (file, pos, gtid) = expected_binlog(&expected);
    assert!(
        r.stdout.contains(&format!(
            "Recovered from Binary log filename '{file}', position '{pos}'."
        )),
        "binlog coordinates missing from:\n{}",
        r.stdout
    );
    if !gtid.is_empty() {
        assert!(r.stdout.contains(&format!("'{gtid}'")), "{}", r.stdout);
    }
    // Only the datadir is left: staging is gone.
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("datadir")]);
    verify_datadir(&target, &expected);
    r
}

#[test]
fn restores_plain_directories() {
    restore_and_verify("dir");
}

#[test]
fn restores_split_xbstream() {
    restore_and_verify("xbstream");
}

#[test]
fn restores_split_tar() {
    restore_and_verify("tar");
}

#[test]
fn restores_split_tar_gz_with_multi_member_gzip() {
    restore_and_verify("targz");
}

#[test]
fn restores_split_zstd_xbstream() {
    restore_and_verify("zst");
}

#[test]
fn restores_mixture_of_stream_base_and_directory_incrementals() {
    restore_and_verify("mixed");
}

#[test]
fn restores_numeric_dot_suffixed_parts() {
    restore_and_verify("numeric");
}

#[test]
fn restores_alphabetic_suffixed_parts() {
    restore_and_verify("alpha");
}

#[test]
fn restores_unsplit_single_objects() {
    restore_and_verify("single");
}

#[test]
fn restores_qpress_compressed_backups_without_the_qpress_binary() {
    restore_and_verify("compressed");
}

#[test]
fn restores_chain_with_repeated_lsns_in_order_and_says_so() {
    let r = restore_and_verify("samelsn");
    assert!(
        r.stdout.contains("Note:") && r.stdout.contains("last_lsn"),
        "the plan should say it ordered equal-LSN sets by last_lsn:\n{}",
        r.stdout
    );
}

#[test]
fn inspect_prints_the_plan() {
    let r = run(ferry().args(["backup", "inspect"]).arg(chain("xbstream")));
    r.assert_ok();
    let out = &r.stdout;
    assert!(out.contains("Result: restorable"), "{out}");
    assert!(
        out.contains("Chain (apply order): full.xbstream -> inc1.xbstream -> inc2.xbstream"),
        "{out}"
    );
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("expected/meta.json")).unwrap(),
    )
    .unwrap();
    let to_lsn = meta["sets"]["inc1"]["to_lsn"].as_u64().unwrap();
    assert!(out.contains(&to_lsn.to_string()), "{out}");
}

#[test]
fn inspect_json_documents_every_set() {
    let r = run(ferry()
        .args(["backup", "inspect", "--json"])
        .arg(chain("mixed")));
    r.assert_ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(doc["restorable"], true);
    let sets = doc["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 3);
    let full = sets.iter().find(|s| s["kind"] == "full").unwrap();
    assert_eq!(full["format"], "xbstream");
    assert!(full["parts"].as_u64().unwrap() > 90);
    assert_eq!(full["from_lsn"], 0);
    assert_eq!(full["partial"], false);
    assert!(full["binlog"]["file"]
        .as_str()
        .unwrap()
        .starts_with("mysql-bin."));
    let incs: Vec<_> = sets.iter().filter(|s| s["kind"] == "incremental").collect();
    assert_eq!(incs.len(), 2);
    assert!(incs.iter().all(|s| s["format"] == "directory"));
    assert_eq!(doc["chain"].as_array().unwrap().len(), 3);
    assert_eq!(doc["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn file_url_sources_work() {
    let r = run(ferry()
        .args(["backup", "inspect"])
        .arg(format!("file://{}", chain("dir").display())));
    r.assert_ok();
    assert!(r.stdout.contains("Result: restorable"), "{}", r.stdout);
}

#[test]
fn relative_target_and_staging_paths_work() {
    let out = tempfile::tempdir().unwrap();
    let r = run(ferry()
        .current_dir(out.path())
        .args(["backup", "restore"])
        .arg(chain("xbstream"))
        .args(["--target-dir", "restored/datadir", "--staging-dir", "work"]));
    r.assert_ok();
    verify_datadir(
        &out.path().join("restored/datadir"),
        &expected_for("xbstream"),
    );
    assert!(!out.path().join("work").exists(), "staging removed");
}
