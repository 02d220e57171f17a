//! The demo's second road, the seed's "mysqldump" section: `mariadb-dump --routines
//! --triggers --events` of the source (its view, trigger and procedure have `root@localhost`
//! as definer, as a real source's do), an empty cluster made with CreateDBCluster and its
//! writer, then `ferry import --cluster` as the migrating user, its progress on the terminal,
//! and the tables compared with the source's.

use std::process::Stdio;

use anyhow::{bail, Context};
use camino::Utf8Path;
use ferry_api::client::Client;

use super::{compare, create_writer, say, wait_cluster_available, write_private, MASTER_USER};
use crate::demo_source::{self, DemoSource};

pub(super) const IMPORT_CLUSTER: &str = "demo-import";
const IMPORT_INSTANCE: &str = "demo-import-writer";

/// Dumps the source, makes the second cluster and imports the dump into it; returns the count
/// of events shown.
pub(super) async fn dump_and_import(
    client: &Client,
    endpoint: &str,
    credentials: &Utf8Path,
    dir: &Utf8Path,
    source: &DemoSource,
    password_file: &Utf8Path,
    shown: usize,
) -> anyhow::Result<usize> {
    say("\n== the seed's mysqldump road: mariadb-dump of the source, ferry import into a new cluster");
    let dump = dir.join("shop-dump.sql");
    dump_source(source, dir, &dump).await?;
    let bytes = std::fs::metadata(&dump)
        .with_context(|| format!("stat {dump}"))?
        .len();
    say(&format!(
        "   mariadb-dump --single-transaction --routines --triggers --events --databases {} > {dump} ({:.1} MB)",
        demo_source::SCHEMA,
        bytes as f64 / 1e6
    ));

    say("== CreateDBCluster (an empty cluster) and its writer");
    let password =
        std::fs::read_to_string(password_file).with_context(|| format!("read {password_file}"))?;
    client
        .call(
            "CreateDBCluster",
            &[
                ("DBClusterIdentifier", IMPORT_CLUSTER),
                ("Engine", "aurora-mysql"),
                ("MasterUsername", MASTER_USER),
                ("MasterUserPassword", password.trim_end()),
            ],
        )
        .await
        .context("CreateDBCluster")?;
    let shown = wait_cluster_available(client, IMPORT_CLUSTER, shown).await?;
    let (host, port, shown) = create_writer(client, IMPORT_CLUSTER, IMPORT_INSTANCE, shown).await?;

    let exe = std::env::current_exe().context("find the ferry binary")?;
    say(&format!(
        "== ferry import {dump} --cluster {IMPORT_CLUSTER} --password-file {password_file} (as the migrating user)"
    ));
    let status = tokio::process::Command::new(&exe)
        .arg("import")
        .arg(dump.as_str())
        .args(["--cluster", IMPORT_CLUSTER, "--endpoint-url", endpoint])
        .args(["--credentials", credentials.as_str()])
        .args(["--password-file", password_file.as_str()])
        .args(["--state-file", dir.join("shop-dump.import-state").as_str()])
        .stdin(Stdio::null())
        .status()
        .await
        .with_context(|| format!("run {}", exe.display()))?;
    if !status.success() {
        bail!("ferry import into {IMPORT_CLUSTER} failed ({status})");
    }
    say(&format!("== comparing {host}:{port} with the source"));
    let mut src = source
        .server
        .connect("root", Some(source.root_password.expose()))
        .await
        .context("connect to the source as root")?;
    let now = demo_source::summarize_schema(&mut src, demo_source::SCHEMA).await?;
    src.disconnect().await.ok();
    compare(&host, port, password.trim_end(), &now).await?;
    Ok(shown)
}

/// The real `mariadb-dump`, its credentials in a 0600 option file (never on the command line),
/// into `out`.
async fn dump_source(source: &DemoSource, dir: &Utf8Path, out: &Utf8Path) -> anyhow::Result<()> {
    let defaults = dir.join("source-client.cnf");
    write_private(
        &defaults,
        &format!(
            "[client]\nuser=root\npassword={}\nsocket={}\n",
            source.root_password.expose(),
            source.server.socket()
        ),
    )?;
    let file = std::fs::File::create(out).with_context(|| format!("create {out}"))?;
    let result = tokio::process::Command::new("mariadb-dump")
        .arg(format!("--defaults-extra-file={defaults}"))
        .args([
            "--single-transaction",
            "--routines",
            "--triggers",
            "--events",
            "--databases",
            demo_source::SCHEMA,
        ])
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::piped())
        // spawn + wait_with_output, not output(): tokio's output() pipes stdout whatever
        // was set, and the dump must go to the file.
        .spawn()
        .context("run mariadb-dump");
    let result = match result {
        Ok(child) => child
            .wait_with_output()
            .await
            .context("wait for mariadb-dump"),
        Err(e) => Err(e),
    };
    std::fs::remove_file(&defaults).ok();
    let output = result?;
    if !output.status.success() {
        bail!(
            "mariadb-dump failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
