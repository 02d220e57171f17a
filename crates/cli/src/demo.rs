//! `ferry demo`: the whole migration on one machine, with nothing but the repo.
//!
//! A throwaway source MariaDB with sample data and binlogs; a full and an incremental backup
//! by mariabackup into a local bucket directory as split xbstream parts; the control plane;
//! a cluster restored through the RDS API (signed requests, as the AWS CLI sends them); the
//! writer instance; the data compared with the source; replication from the source through the
//! `mysql.rds_*` procedures while it keeps taking writes, the lag watched to 0 and a cutover
//! with the source set read-only, the data compared again; then the seed's other road, a
//! `mariadb-dump` of the source loaded into a second, empty cluster with `ferry import`
//! (`demo/import.rs`); and how to connect and drive the same with the AWS CLI. Everything lives
//! under one directory, wiped at the next run.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use camino::{Utf8Path, Utf8PathBuf};
use clap::Args;
use ferry_api::client::Client;

use crate::demo_source::{self, DemoSourceOptions};

mod iam;
mod import;
use crate::serve::{self, ServeArgs};

const MARKER: &str = ".ferry-demo";
const BUCKET: &str = "ferry-demo-backups";
const CLUSTER: &str = "demo-cluster";
const INSTANCE: &str = "demo-writer";
const MASTER_USER: &str = "admin";

#[derive(Args)]
pub struct DemoArgs {
    /// Where the demo keeps everything (wiped first if an earlier demo made it).
    #[arg(long, default_value = "ferry-demo")]
    dir: Utf8PathBuf,
    /// Exit after showing the result instead of running until Ctrl-C.
    #[arg(long)]
    no_wait: bool,
    /// About how many rows of sample data the source gets.
    #[arg(long, default_value_t = 50_000)]
    rows: u64,
    /// Address of the API (default 127.0.0.1:8900, or any free port if that is taken).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

fn say(line: &str) {
    println!("{line}");
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let dir = prepare_dir(&args.dir)?;
    say(&format!("ferry demo in {dir}"));

    // 1. The source and its backups.
    let source_port = free_port()?;
    let bucket_dir = dir.join("buckets").join(BUCKET);
    let mut opts = DemoSourceOptions::new(dir.join("source"), bucket_dir.clone(), source_port);
    opts.rows = args.rows;
    say("== source: a MariaDB server with sample data, backed up with mariabackup");
    let source = demo_source::build(&opts, &|line: &str| say(&format!("   {line}"))).await?;
    say(&format!(
        "   {} split parts under {}",
        source.parts.len(),
        source.backup_root()
    ));

    // 2. The control plane.
    let listen = match args.listen {
        Some(l) => l,
        None if std::net::TcpListener::bind("127.0.0.1:8900").is_ok() => {
            "127.0.0.1:8900".parse().expect("valid address")
        }
        None => "127.0.0.1:0".parse().expect("valid address"),
    };
    let serve_args = ServeArgs {
        data_dir: dir.join("control"),
        listen: Some(listen),
        config: None,
        file_root: Some(dir.join("buckets")),
        advertised_host: None,
    };
    say("== control plane: ferry serve");
    let running = serve::start(&serve_args).await?;
    let endpoint = format!("http://{}", running.addr);
    say(&format!(
        "   RDS API on {endpoint}; admin credentials in {}",
        running.credentials
    ));

    let result = drive(&dir, &endpoint, &running.credentials, &source).await;
    let wait = args.no_wait;
    if result.is_ok() && !wait {
        say("\nRunning until Ctrl-C ...");
        serve::Signals::new()?.wait().await;
    }
    say("== stopping the control plane and the source");
    running.shutdown().await?;
    source.stop().await?;
    result?;
    say(&format!("done; everything the demo made is under {dir}"));
    Ok(ExitCode::SUCCESS)
}

async fn drive(
    dir: &Utf8Path,
    endpoint: &str,
    credentials: &Utf8Path,
    source: &demo_source::DemoSource,
) -> anyhow::Result<()> {
    let admin = Client::from_credentials_file(endpoint, credentials.as_std_path())
        .context("read the admin credentials")?;
    let password = demo_source::random_password();
    let password_file = dir.join("master-password");
    write_private(&password_file, &password)?;
    let series = source
        .server_version
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");

    // Everything from here runs as a user holding only the seed's policies.
    let (client, role, credentials) =
        iam::restricted_user(&admin, dir, BUCKET, &source.prefix).await?;
    let credentials = credentials.as_path();
    say("== RestoreDBClusterFromS3 (as the migrating user)");
    client
        .call(
            "RestoreDBClusterFromS3",
            &[
                ("DBClusterIdentifier", CLUSTER),
                ("Engine", "aurora-mysql"),
                ("MasterUsername", MASTER_USER),
                ("MasterUserPassword", &password),
                ("SourceEngine", "mariadb"),
                ("SourceEngineVersion", &series),
                ("S3BucketName", BUCKET),
                ("S3Prefix", &source.prefix),
                ("S3IngestionRoleArn", &role),
            ],
        )
        .await
        .context("RestoreDBClusterFromS3")?;
    let mut shown = wait_cluster_available(&client, CLUSTER, 0).await?;

    say("== CreateDBInstance (the writer)");
    let (host, port, shown_now) = create_writer(&client, CLUSTER, INSTANCE, shown).await?;
    shown = shown_now;

    say(&format!("== comparing {host}:{port} with the source"));
    compare(&host, port, &password, &source.tables).await?;

    let coords = client
        .call(
            "DescribeEvents",
            &[
                ("SourceType", "db-cluster"),
                ("SourceIdentifier", CLUSTER),
                ("Duration", "1440"),
            ],
        )
        .await?
        .texts("Message")
        .into_iter()
        .find(|m| m.starts_with("Recovered from Binary log"))
        .unwrap_or_default();
    catch_up_and_cut_over(&client, &host, port, &password, source, &coords).await?;
    shown = print_new_events(&client, shown).await?;
    shown = import::dump_and_import(
        &client,
        endpoint,
        credentials,
        dir,
        source,
        &password_file,
        shown,
    )
    .await?;
    print_new_events(&client, shown).await?;
    let aws = format!(
        "AWS_SHARED_CREDENTIALS_FILE={credentials} {} --endpoint-url {endpoint}",
        aws_command()
    );
    say(&format!(
        "\n== the cluster is ready, cut over from the source (now read-only)\n\
         connect:      mariadb -h {host} -P {port} -u {MASTER_USER} -p\"$(cat {password_file})\"\n\
         binlog:       {coords}\n\
         imported:     cluster {} (from {dir}/shop-dump.sql by ferry import)\n\
         source:       127.0.0.1:{} (root password in {dir}/root-password; replication user {} with its password in {dir}/repl-password)\n\
         AWS CLI:      {aws} rds describe-db-clusters\n\
         \x20             {aws} rds describe-events --source-type db-cluster --source-identifier {CLUSTER} --duration 1440\n\
         \x20             {aws} rds describe-db-instances --db-instance-identifier {INSTANCE}\n\
         replication:  {} replication status {CLUSTER} --endpoint-url {endpoint} --credentials {credentials}\n\
         console:      {endpoint}/console (sign in with access key ID {}; its secret is aws_secret_access_key in {credentials})
\
         metrics:      curl {endpoint}/metrics",
        import::IMPORT_CLUSTER,
        source.server.port(),
        source.repl_user,
        std::env::current_exe()
            .ok()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "ferry".to_owned()),
        client.access_key_id(),
    ));
    write_private(&dir.join("root-password"), source.root_password.expose())?;
    write_private(&dir.join("repl-password"), source.repl_password.expose())?;
    Ok(())
}

/// Polls the cluster until it is `available`, printing its status and progress as they change
/// and every new event; returns the count of events shown.
async fn wait_cluster_available(
    client: &Client,
    cluster: &str,
    mut shown: usize,
) -> anyhow::Result<usize> {
    let started = Instant::now();
    let mut last_line = String::new();
    loop {
        let r = client
            .call("DescribeDBClusters", &[("DBClusterIdentifier", cluster)])
            .await
            .context("DescribeDBClusters")?;
        let status = r.text("Status").unwrap_or_default();
        let line = match r.text("PercentProgress") {
            Some(p) => format!("   cluster {cluster}: {status} ({p}%)"),
            None => format!("   cluster {cluster}: {status}"),
        };
        if line != last_line {
            say(&line);
            last_line = line;
        }
        shown = print_new_events(client, shown).await?;
        match status.as_str() {
            "available" => return Ok(shown),
            "creating" => {}
            other => bail!("cluster {cluster} ended {other}; see the events above"),
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("cluster {cluster} did not become available within 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// CreateDBInstance (the writer) and its wait until `available`; returns the cluster's
/// endpoint, port and the count of events shown.
async fn create_writer(
    client: &Client,
    cluster: &str,
    instance: &str,
    mut shown: usize,
) -> anyhow::Result<(String, u16, usize)> {
    client
        .call(
            "CreateDBInstance",
            &[
                ("DBInstanceIdentifier", instance),
                ("DBClusterIdentifier", cluster),
                ("Engine", "aurora-mysql"),
                ("DBInstanceClass", "db.t3.medium"),
            ],
        )
        .await
        .context("CreateDBInstance")?;
    let started = Instant::now();
    loop {
        let r = client
            .call("DescribeDBInstances", &[("DBInstanceIdentifier", instance)])
            .await
            .context("DescribeDBInstances")?;
        let status = r.text("DBInstanceStatus").unwrap_or_default();
        shown = print_new_events(client, shown).await?;
        match status.as_str() {
            "available" => break,
            "creating" | "starting" => {}
            other => bail!("instance {instance} is {other}; see the events above"),
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("instance {instance} did not become available within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let r = client
        .call("DescribeDBClusters", &[("DBClusterIdentifier", cluster)])
        .await?;
    let host = r.text("Endpoint").context("the cluster has no Endpoint")?;
    let port: u16 = r
        .text("Port")
        .and_then(|p| p.parse().ok())
        .context("the cluster has no Port")?;
    Ok((host, port, shown))
}

/// Prints cluster and instance events after the first `shown`; returns the new count.
async fn print_new_events(client: &Client, shown: usize) -> anyhow::Result<usize> {
    let r = client
        .call("DescribeEvents", &[("Duration", "1440")])
        .await
        .context("DescribeEvents")?;
    let events = r.all_of("Event");
    for e in events.iter().skip(shown) {
        say(&format!(
            "   event  {} {}: {}",
            e.get("SourceType").map(String::as_str).unwrap_or(""),
            e.get("SourceIdentifier").map(String::as_str).unwrap_or(""),
            e.get("Message").map(String::as_str).unwrap_or("")
        ));
    }
    Ok(events.len().max(shown))
}

/// Row counts and checksums of every source table, read through the cluster endpoint.
fn master_opts(host: &str, port: u16, password: &str) -> mysql_async::OptsBuilder {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port)
        .user(Some(MASTER_USER))
        .pass(Some(password))
        .prefer_socket(false)
}

/// The seed's replication section: the source takes writes after the backup; the master user
/// points the cluster at it from the restore's coordinates and starts replication; ferry's
/// lag reaches 0 at the source's own position; cutover with the source set read-only; the
/// tables equal the source's again.
async fn catch_up_and_cut_over(
    client: &Client,
    host: &str,
    port: u16,
    password: &str,
    source: &demo_source::DemoSource,
    coords_event: &str,
) -> anyhow::Result<()> {
    use mysql_async::prelude::Queryable;
    let (file, pos) = coords_event
        .strip_prefix("Recovered from Binary log filename '")
        .and_then(|rest| rest.split_once("', position '"))
        .and_then(|(f, p)| Some((f.to_owned(), p.trim_end_matches("'.").parse::<u64>().ok()?)))
        .context("no \"Recovered from Binary log\" event with the restore's coordinates")?;

    say("== catching up: the source keeps taking writes after its backup");
    let mut src = source
        .server
        .connect("root", Some(source.root_password.expose()))
        .await
        .context("connect to the source as root")?;
    for sql in [
        "INSERT INTO shop.search_log (term, hits, searched_at) \
         SELECT CONCAT('after the backup ', seq), seq % 17, NOW() FROM shop.seq_1_to_2000",
        "UPDATE shop.orders SET status = 'shipped' WHERE status = 'paid' ORDER BY id LIMIT 500",
        "DELETE FROM shop.reviews ORDER BY id LIMIT 100",
    ] {
        src.query_drop(sql)
            .await
            .with_context(|| format!("write on the source: {sql}"))?;
    }
    say("   2000 searches logged, up to 500 orders shipped, 100 reviews deleted on the source");

    let mut cluster = mysql_async::Conn::new(master_opts(host, port, password))
        .await
        .context("connect to the cluster as the master user")?;
    let set = format!(
        "CALL mysql.rds_set_external_master('127.0.0.1', {}, '{}', {}, '{file}', {pos}, 0)",
        source.server.port(),
        source.repl_user,
        mysql_async::Value::from(source.repl_password.expose()).as_sql(false),
    );
    say(&format!(
        "   as {MASTER_USER}: CALL mysql.rds_set_external_master('127.0.0.1', {}, '{}', '...', '{file}', {pos}, 0)",
        source.server.port(),
        source.repl_user
    ));
    cluster
        .query_drop(set)
        .await
        .context("CALL mysql.rds_set_external_master")?;
    let started: Option<String> = cluster
        .query_first("CALL mysql.rds_start_replication")
        .await
        .context("CALL mysql.rds_start_replication")?;
    say(&format!(
        "   as {MASTER_USER}: CALL mysql.rds_start_replication -> {}",
        started.unwrap_or_default()
    ));
    cluster.disconnect().await.ok();

    let target = ferry_replication::source::read_position(&mut src).await?;
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let r = crate::replication::describe(client, CLUSTER).await?;
        if let Some(r) = r {
            let executed = format!("{}:{}", r.executed_log_file, r.executed_log_position);
            let lag = r
                .lag
                .map_or_else(|| "?".to_owned(), |d| format!("{:.3}", d.as_secs_f64()));
            let line = format!(
                "   replication: IO {}, lag {lag} s, executed {executed} of the source's {}",
                r.io_thread.as_str(),
                target.coord
            );
            if line != last {
                say(&line);
                last = line;
            }
            if r.last_sql_errno != 0 {
                bail!("replication broke: {}", r.last_sql_error);
            }
            if executed == target.coord.to_string() && r.lag == Some(Duration::ZERO) {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the cluster did not catch up with the source within 5 minutes");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    say("== cutover: ferry replication cutover demo-cluster --source mysql://root@127.0.0.1:... --set-read-only");
    let endpoint = ferry_replication::source::SourceEndpoint::new(
        "127.0.0.1",
        source.server.port(),
        "root",
        source.root_password.clone(),
        ferry_replication::source::SourceTls::Off,
    );
    let done = crate::replication::cut_over(
        client,
        CLUSTER,
        &endpoint,
        true,
        Duration::from_secs(300),
        &|line| say(&format!("   {line}")),
    )
    .await?;
    say(&format!(
        "   the cluster executed the source up to {}; replication stopped; writes were blocked for {:.2} s",
        done.executed,
        done.blocked.unwrap_or_default().as_secs_f64()
    ));
    let now = demo_source::summarize_schema(&mut src, demo_source::SCHEMA).await?;
    src.disconnect().await.ok();
    say(&format!(
        "== comparing {host}:{port} with the source after the cutover"
    ));
    compare(host, port, password, &now).await
}

async fn compare(
    host: &str,
    port: u16,
    password: &str,
    expected: &[demo_source::TableSummary],
) -> anyhow::Result<()> {
    let mut conn = mysql_async::Conn::new(master_opts(host, port, password))
        .await
        .context("connect to the cluster as the master user")?;
    let restored = demo_source::summarize_schema(&mut conn, demo_source::SCHEMA).await?;
    conn.disconnect().await.ok();
    let by_name: HashMap<&str, &demo_source::TableSummary> =
        restored.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut mismatches = 0;
    for t in expected {
        let got = by_name.get(t.name.as_str());
        let rows = got.map(|g| g.rows);
        let same = got.is_some_and(|g| g.rows == t.rows && g.checksum == t.checksum);
        if !same {
            mismatches += 1;
        }
        say(&format!(
            "   {:<24} source {:>8} rows   cluster {:>8} rows   checksum {}",
            t.name,
            t.rows,
            rows.map(|r| r.to_string())
                .unwrap_or_else(|| "missing".into()),
            if same { "equal" } else { "DIFFERS" }
        ));
    }
    if mismatches > 0 || restored.len() != expected.len() {
        bail!(
            "{mismatches} table(s) differ from the source ({} tables on the cluster, {} on the source)",
            restored.len(),
            expected.len()
        );
    }
    say(&format!(
        "   all {} tables equal the source",
        expected.len()
    ));
    Ok(())
}

fn prepare_dir(dir: &Utf8Path) -> anyhow::Result<Utf8PathBuf> {
    let dir = std::path::absolute(dir).context("resolve --dir")?;
    let dir = Utf8PathBuf::from_path_buf(dir)
        .map_err(|p| anyhow::anyhow!("--dir {} is not UTF-8", p.display()))?;
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .with_context(|| format!("read {dir}"))?
            .next()
            .is_none();
        if !empty {
            if !dir.join(MARKER).exists() {
                bail!("{dir} exists and was not made by ferry demo: choose another --dir");
            }
            stop_leftovers(&dir);
            std::fs::remove_dir_all(&dir).with_context(|| format!("remove the old demo {dir}"))?;
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("create {dir}"))?;
    std::fs::write(
        dir.join(MARKER),
        "made by ferry demo; removed by the next run\n",
    )
    .with_context(|| format!("write {dir}/{MARKER}"))?;
    Ok(dir)
}

/// A 0600 file (created so from the start), via ferry-base's one helper for that.
fn write_private(path: &Utf8Path, text: &str) -> anyhow::Result<()> {
    ferry_base::fs::write_private_file(path, text.as_bytes())
        .with_context(|| format!("write {path}"))
}

/// `aws` when it is on PATH, else the repo virtualenv's (what `make deps` installs), if any.
fn aws_command() -> String {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("aws").is_file()))
        .unwrap_or(false);
    if !on_path {
        if let Ok(venv) = std::path::absolute(".venv/bin/aws") {
            if venv.is_file() {
                return venv.display().to_string();
            }
        }
    }
    "aws".to_string()
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(l.local_addr().context("read the port")?.port())
}

/// Stops MariaDB servers an interrupted earlier demo left running under `dir` (their pid
/// files are there and their command lines name it).
fn stop_leftovers(dir: &Utf8Path) {
    let mut stack = vec![dir.to_path_buf()];
    let mut pids = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if let Ok(p) = Utf8PathBuf::from_path_buf(path) {
                    stack.push(p);
                }
            } else if e.file_name() == "mariadbd.pid" {
                if let Some(pid) = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| t.trim().parse::<i32>().ok())
                {
                    pids.push(pid);
                }
            }
        }
    }
    for pid in pids {
        let names_dir = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(dir.as_str()))
            .unwrap_or(false);
        if pid > 1 && names_dir {
            // SAFETY: kill(2) on a server whose command line names the demo directory.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}
