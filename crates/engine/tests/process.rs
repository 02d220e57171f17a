//! The supervision path on plain shell children: environment isolation, output draining,
//! failures quoting their output, timeouts, and children that refuse to die.

mod common;

use std::time::{Duration, Instant};

use common::{process_alive, short_tempdir, wait_for_line, wait_gone};
use ferry_engine::process::{run_to_completion, ProcessError, ProcessSpec};

fn sh(script: &str) -> ProcessSpec {
    ProcessSpec::new("/bin/sh").arg("-c").arg(script)
}

fn observed(spec: ProcessSpec) -> (ProcessSpec, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let spec = spec.on_line(move |_, line| {
        let _ = tx.send(line.to_owned());
    });
    (spec, rx)
}

#[tokio::test]
async fn child_gets_a_cleared_environment_plus_explicit_extras_and_its_working_dir() {
    let dir = short_tempdir();
    // cargo sets CARGO_PKG_NAME for test binaries; the child must not inherit it.
    assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
    let out = run_to_completion(
        sh(r#"echo "pkg=${CARGO_PKG_NAME:-unset} extra=$FERRY_TEST_EXTRA path=${PATH:+set} pwd=$(pwd)""#)
            .env("FERRY_TEST_EXTRA", "yes")
            .current_dir(dir.path())
            .capture_stdout(true),
    )
    .await
    .expect("sh runs");
    assert!(out.status.success());
    let canonical = std::fs::canonicalize(dir.path()).expect("canonical dir");
    assert_eq!(
        out.stdout_text().trim(),
        format!("pkg=unset extra=yes path=set pwd={}", canonical.display())
    );
}

#[tokio::test]
async fn non_zero_exit_is_an_error_quoting_the_last_stderr_lines() {
    let dir = short_tempdir();
    let log = dir.path().join("child.log");
    let err = run_to_completion(
        sh("for i in $(seq 1 100); do echo \"progress $i\" >&2; done; echo 'fatal: disk on fire' >&2; exit 3")
            .name("fire-starter")
            .log_file(&log),
    )
    .await
    .expect_err("exit 3 is a failure");
    match &err {
        ProcessError::Failed {
            name, status, tail, ..
        } => {
            assert_eq!(name, "fire-starter");
            assert_eq!(status.code(), Some(3));
            assert!(tail.ends_with("fatal: disk on fire\n"), "{tail}");
            assert!(!tail.contains("progress 1\n"), "tail is bounded: {tail}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("fire-starter (pid"), "{text}");
    assert!(text.contains("exit status: 3"), "{text}");
    assert!(text.contains("  fatal: disk on fire"), "{text}");
    assert!(
        text.contains(&format!("(full log: {})", log.display())),
        "{text}"
    );
    let logged = std::fs::read_to_string(&log).expect("log written");
    assert!(logged.contains("progress 1\n") && logged.contains("fatal: disk on fire\n"));
}

#[tokio::test]
async fn a_noisy_child_never_blocks_and_its_whole_output_reaches_the_log() {
    let dir = short_tempdir();
    let log = dir.path().join("noisy.log");
    // ~20 MB on each stream, far beyond any pipe buffer.
    let script = "i=0; while [ $i -lt 4 ]; do head -c 5000000 /dev/zero | tr '\\0' 'x' | fold -w 100; head -c 5000000 /dev/zero | tr '\\0' 'y' | fold -w 100 >&2; i=$((i+1)); done; echo done-out; echo done-err >&2";
    let out = run_to_completion(sh(script).log_file(&log).timeout(Duration::from_secs(120)))
        .await
        .expect("noisy child completes");
    assert!(out.stdout_tail.ends_with("done-out\n"));
    assert!(out.stderr_tail.ends_with("done-err\n"));
    let logged = std::fs::metadata(&log).expect("log").len();
    // 40 MB of payload plus newlines, plus the marker line.
    assert!(logged > 40_000_000, "log has {logged} bytes");
}

#[tokio::test]
async fn a_child_past_its_timeout_is_stopped_and_reported() {
    let started = Instant::now();
    let err = run_to_completion(
        sh("echo started; exec sleep 30")
            .name("sleeper")
            .timeout(Duration::from_millis(300)),
    )
    .await
    .expect_err("times out");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        ProcessError::TimedOut {
            name, pid, tail, ..
        } => {
            assert_eq!(name, "sleeper");
            assert!(tail.contains("started"), "{tail}");
            assert!(!process_alive(*pid));
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

#[tokio::test]
async fn stop_kills_a_child_that_ignores_sigterm_after_the_grace_period() {
    let (spec, mut rx) = observed(sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"));
    let mut guard = spec.spawn().expect("spawn");
    wait_for_line(&mut rx, Duration::from_secs(10), |l| l == "ready").await;
    let started = Instant::now();
    let stopped = guard.stop(Duration::from_millis(300)).await.expect("stop");
    let took = started.elapsed();
    assert!(
        stopped.forced,
        "SIGTERM was ignored, so the stop must be forced"
    );
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&stopped.status),
        Some(9)
    );
    assert!(
        took >= Duration::from_millis(300),
        "waited the grace period: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "then killed promptly: {took:?}"
    );
    assert!(!process_alive(guard.pid()));
}

#[tokio::test]
async fn stop_is_graceful_when_the_child_honours_sigterm() {
    let (spec, mut rx) = observed(sh(
        "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
    ));
    let mut guard = spec.spawn().expect("spawn");
    wait_for_line(&mut rx, Duration::from_secs(10), |l| l == "ready").await;
    let stopped = guard.stop(Duration::from_secs(10)).await.expect("stop");
    assert!(!stopped.forced);
    assert!(stopped.status.success(), "{:?}", stopped.status);
    wait_for_line(&mut rx, Duration::from_secs(1), |l| l == "bye").await;
}

#[tokio::test]
async fn dropping_a_guard_terminates_the_child_and_what_it_forked() {
    // The grandchild ignores SIGTERM too, so this exercises the SIGKILL step of the drop path.
    let (spec, mut rx) = observed(
        sh("trap '' TERM; sleep 1000 & echo \"grandchild $!\"; while :; do sleep 0.05; done")
            .stop_grace(Duration::from_millis(200)),
    );
    let guard = spec.spawn().expect("spawn");
    let pid = guard.pid();
    let line = wait_for_line(&mut rx, Duration::from_secs(10), |l| {
        l.starts_with("grandchild ")
    })
    .await;
    let grandchild: u32 = line["grandchild ".len()..].parse().expect("pid");
    assert!(process_alive(pid) && process_alive(grandchild));
    drop(guard);
    assert!(
        !process_alive(pid),
        "the child is reaped by the time drop returns"
    );
    assert!(
        wait_gone(grandchild, Duration::from_secs(5)).await,
        "the grandchild died with its process group"
    );
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error_naming_it() {
    let err = run_to_completion(ProcessSpec::new("/nonexistent/mariadbd"))
        .await
        .expect_err("cannot spawn");
    assert!(matches!(err, ProcessError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/mariadbd"), "{err}");
}

#[tokio::test]
async fn try_status_notices_an_exit_without_blocking() {
    let (spec, mut rx) = observed(sh("echo ready; read never"));
    let mut guard = spec.spawn().expect("spawn");
    wait_for_line(&mut rx, Duration::from_secs(10), |l| l == "ready").await;
    // stdin is /dev/null, so `read` hits EOF and the shell exits with status 0 or 1.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = guard.try_status().expect("try_status") {
            break status;
        }
        assert!(Instant::now() < deadline, "child did not exit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(status.code().is_some());
}
