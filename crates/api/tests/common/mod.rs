//! Shared support for ferry-api's integration tests: the repository virtualenv's Python (with
//! botocore, boto3 and the AWS CLI) and a tiny Query-protocol server built only from this
//! crate's pieces (SigV4 verification, parameter parsing, XML responses).

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub mod server;

/// The access key the test server knows.
pub const ACCESS_KEY_ID: &str = "AKIAFERRYTEST0000001";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "ferry/Test+Secret/0123456789abcdefghijklmnop";
/// The user it belongs to.
pub const USER: &str = "admin";
pub const REGION: &str = "us-east-1";

/// `<repo>/.venv/bin/<name>`, or `None` (after printing why the test is skipped) when the
/// virtualenv is absent. When the virtualenv exists, tests that need it must run.
pub fn venv_bin(name: &str) -> Option<PathBuf> {
    let venv = ferry_testkit::repo_root().join(".venv");
    if !venv.is_dir() {
        eprintln!(
            "skipping: no virtualenv at {} (scripts/install-deps creates it with botocore and the \
             AWS CLI)",
            venv.display()
        );
        return None;
    }
    Some(venv.join("bin").join(name))
}

/// Runs `python -c script args...` from the virtualenv with `stdin`, and returns its stdout.
/// Panics with the interpreter's stderr if it fails.
pub fn run_python(python: &PathBuf, script: &str, args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", python.display()));
    let mut input = child.stdin.take().expect("stdin was piped");
    input.write_all(stdin).expect("write python stdin");
    drop(input);
    let out = child.wait_with_output().expect("wait for python");
    assert!(
        out.status.success(),
        "python failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python printed UTF-8")
}
