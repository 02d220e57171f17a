//! The Landlock sandbox and the uid switch on plain shell children: a sandboxed child writes
//! inside its tree and nowhere else, cannot signal a process outside its domain, and a child
//! run as another uid has that uid and no supplementary groups.

mod common;

use common::short_tempdir;
use ferry_engine::process::{run_to_completion, ProcessSpec};
use ferry_engine::sandbox::{support, SandboxSpec, Support};

fn sh(script: &str) -> ProcessSpec {
    ProcessSpec::new("/bin/sh").arg("-c").arg(script)
}

/// Runs `script` sandboxed to `inside` (plus the system) and returns what it printed.
async fn sandboxed(inside: &std::path::Path, script: &str) -> String {
    let out = run_to_completion(
        sh(script)
            .sandbox(SandboxSpec::system().read_write(inside))
            .capture_stdout(true),
    )
    .await
    .expect("sh runs");
    out.stdout_text()
}

#[tokio::test]
async fn a_sandboxed_child_writes_only_inside_its_tree_and_signals_nothing_outside() {
    let support = support();
    if support.abi().is_none() {
        eprintln!("skipped: {support:?}");
        return;
    }
    let inside = short_tempdir();
    let outside = short_tempdir();
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "s3cret").expect("write the outside file");
    let script = format!(
        "echo x > {inside}/file && echo inside-ok; \
         echo x > {outside}/file 2>/dev/null && echo outside-written; \
         cat {secret} 2>/dev/null && echo outside-read; \
         echo x > /tmp/ferry-sandbox-test-$$ 2>/dev/null && echo tmp-written; \
         ls /usr >/dev/null && echo system-readable; ls / >/dev/null 2>&1 && echo root-listed; true",
        inside = inside.path().display(),
        outside = outside.path().display(),
        secret = secret.display(),
    );
    let printed = sandboxed(inside.path(), &script).await;
    assert!(printed.contains("inside-ok"), "{printed}");
    assert!(!printed.contains("outside-written"), "{printed}");
    assert!(!printed.contains("outside-read"), "{printed}");
    assert!(!printed.contains("tmp-written"), "{printed}");
    assert!(printed.contains("system-readable"), "{printed}");
    assert!(!printed.contains("root-listed"), "{printed}");
    assert!(!outside.path().join("file").exists());
    assert_eq!(
        std::fs::read_to_string(inside.path().join("file")).expect("inside file"),
        "x\n"
    );

    // A process outside the child's domain, of the same uid: only Landlock's scoping (ABI 6)
    // stops the signal.
    if let Support::Full { .. } = support {
        let mut bystander = std::process::Command::new("/bin/sleep")
            .arg("60")
            .spawn()
            .expect("start a bystander");
        let script = format!(
            "kill -0 {pid} 2>/dev/null && echo signalled || echo refused; \
             sh -c 'kill -0 $$' && echo own-domain-ok",
            pid = bystander.id()
        );
        let printed = sandboxed(inside.path(), &script).await;
        let still_running = bystander.try_wait().expect("poll the bystander").is_none();
        let _ = bystander.kill();
        let _ = bystander.wait();
        assert!(printed.contains("refused"), "{printed}");
        assert!(printed.contains("own-domain-ok"), "{printed}");
        assert!(still_running);
    }
}

#[tokio::test]
async fn a_child_run_as_another_uid_has_it_and_no_supplementary_groups() {
    if !ferry_engine::running_as_root() {
        eprintln!("skipped: switching uid needs root");
        return;
    }
    let out = run_to_completion(
        sh("grep -E '^(Uid|Gid|Groups):' /proc/self/status")
            .run_as(1_900_099_990, 1_900_099_991)
            .capture_stdout(true),
    )
    .await
    .expect("sh runs");
    let status = out.stdout_text();
    let field = |name: &str| -> Vec<String> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|rest| rest.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    assert_eq!(field("Uid:"), vec!["1900099990"; 4], "{status}");
    assert_eq!(field("Gid:"), vec!["1900099991"; 4], "{status}");
    assert!(field("Groups:").is_empty(), "{status}");
}

/// Starts a server on a fresh datadir `runs` times with and without the sandbox; returns the
/// start-to-ready times in milliseconds (without, with).
async fn start_times(runs: usize) -> (Vec<u128>, Vec<u128>) {
    use common::{free_port, test_config, test_init_options, toolbox, ServerDirs};
    use ferry_engine::{init_datadir, ReadyProbe, Server};
    let tb = toolbox().await;
    let dirs = ServerDirs::new();
    init_datadir(
        &tb,
        &dirs.datadir,
        &test_init_options(&dirs.path("install.log")),
    )
    .await
    .expect("init datadir");
    let (mut plain, mut boxed) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        for sandboxed in [false, true] {
            let mut cfg = test_config(&dirs.datadir, &dirs.run_dir, free_port());
            if sandboxed {
                cfg.sandbox = Some(SandboxSpec::system());
            }
            let started = std::time::Instant::now();
            let server = Server::start(
                &tb,
                &cfg,
                &dirs.run_dir,
                ReadyProbe::root(),
                std::time::Duration::from_secs(120),
            )
            .await
            .expect("server starts");
            let elapsed = started.elapsed().as_millis();
            if sandboxed {
                // The sandboxed server may not write outside its trees.
                let outside = short_tempdir();
                let target = outside.path().join("x.log");
                let mut conn = mysql_async::Conn::new(
                    mysql_async::OptsBuilder::default()
                        .socket(Some(cfg.socket.as_str()))
                        .user(Some("root")),
                )
                .await
                .expect("connect");
                use mysql_async::prelude::Queryable;
                let _ = conn
                    .query_drop(format!(
                        "SET GLOBAL general_log_file = '{}'",
                        target.display()
                    ))
                    .await;
                let _ = conn.query_drop("SET GLOBAL general_log = ON").await;
                let _ = conn.query_drop("SET GLOBAL general_log = OFF").await;
                let _ = conn.disconnect().await;
                assert!(!target.exists(), "the sandboxed server wrote outside");
                boxed.push(elapsed);
            } else {
                plain.push(elapsed);
            }
            server
                .stop(std::time::Duration::from_secs(60))
                .await
                .expect("server stops");
        }
    }
    (plain, boxed)
}

#[tokio::test]
async fn a_sandboxed_server_starts_and_writes_nowhere_else() {
    if support().abi().is_none() {
        eprintln!("skipped: no Landlock");
        return;
    }
    start_times(1).await;
}

/// The figure in ARCHITECTURE.md: `cargo nextest run -p ferry-engine --test sandbox
/// --run-ignored only --no-capture`.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn measure_what_the_sandbox_costs_a_server_start() {
    let (plain, boxed) = start_times(5).await;
    eprintln!("server start to ready, ms: without sandbox {plain:?}, with sandbox {boxed:?}");
}
