//! Running `ferry serve` as a child process and driving it the way users do: with the real
//! AWS CLI and boto3 from the test virtualenv, pointed at it with `--endpoint-url`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `ferry serve` child. Dropping it stops it (SIGTERM, then SIGKILL) and any server it
/// left behind.
pub struct Serve {
    child: Option<Child>,
    pub data_dir: PathBuf,
    pub port: u16,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
}

fn tool(name: &str) -> PathBuf {
    ferry_testkit::venv_bin(name)
        .unwrap_or_else(|| panic!("{name} is missing from the test virtualenv: run `make deps`"))
}

/// What a CLI run printed.
pub struct CliRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// For commands that print nothing on success.
    pub fn succeeds(&self) {
        assert!(self.ok, "aws failed:\n{}", self.stderr);
    }

    pub fn json(&self) -> serde_json::Value {
        assert!(self.ok, "aws failed:\n{}", self.stderr);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("aws printed no JSON ({e}):\n{}", self.stdout))
    }

    /// The error an AWS CLI user sees: `An error occurred (Code) when calling ...: message`.
    pub fn error(&self) -> &str {
        assert!(
            !self.ok,
            "aws succeeded but should have failed:\n{}",
            self.stdout
        );
        self.stderr.trim()
    }
}

impl Serve {
    /// Starts `ferry serve` on `data_dir`, buckets served from subdirectories of `file_root`.
    pub fn start(data_dir: &Path, file_root: &Path, extra: &[&str]) -> Serve {
        let root = file_root.display().to_string();
        let mut args = vec!["--file-root", root.as_str()];
        args.extend_from_slice(extra);
        Serve::launch(data_dir, &args, Vec::new())
    }

    /// Starts `ferry serve` on `data_dir` with extra arguments and AWS environment variables
    /// (the test's own `AWS_*` variables are never passed on).
    pub fn launch(data_dir: &Path, extra: &[&str], env: Vec<(String, String)>) -> Serve {
        let port = ferry_testkit::free_port();
        let mut args = vec![
            "serve".to_string(),
            "--data-dir".to_string(),
            data_dir.display().to_string(),
            "--listen".to_string(),
            format!("127.0.0.1:{port}"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let log = data_dir.with_extension("serve.log");
        let mut s = Serve {
            child: None,
            data_dir: data_dir.to_path_buf(),
            port,
            args,
            env,
            log,
        };
        s.spawn();
        s.ensure_test_role();
        s
    }

    /// The ingestion role every test restore passes ([`ROLE`]): made once per data dir with
    /// `ferry iam create-ingestion-role`, allowed to read any bucket, as the admin.
    fn ensure_test_role(&self) {
        let name = ROLE.rsplit('/').next().expect("a role name");
        let out = super::ferry()
            .args([
                "iam",
                "create-ingestion-role",
                "--bucket",
                "*",
                "--name",
                name,
            ])
            .arg("--endpoint-url")
            .arg(self.endpoint())
            .arg("--credentials")
            .arg(self.credentials())
            .output()
            .expect("run ferry iam create-ingestion-role");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("EntityAlreadyExists"),
            "ferry iam create-ingestion-role failed:\n{stderr}\nserve log:\n{}",
            self.log_text()
        );
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the serve log");
        let mut cmd = super::ferry();
        cmd.args(&self.args)
            .envs(self.env.iter().cloned())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log);
        self.child = Some(cmd.spawn().expect("start ferry serve"));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "ferry serve exited at start ({status}):\n{}",
                    self.log_text()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.data_dir.join("admin-credentials").exists()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ferry serve did not start:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn credentials(&self) -> PathBuf {
        self.data_dir.join("admin-credentials")
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            if let Some(status) = child.try_wait().expect("wait for ferry serve") {
                assert!(
                    status.success(),
                    "ferry serve exited with {status}:\n{}",
                    self.log_text()
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "ferry serve did not stop within 240 s:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, as a crash or the OOM killer would: nothing is shut down cleanly.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Replaces the environment of the next start (a fault test's failpoints, then none).
    pub fn set_env(&mut self, env: Vec<(String, String)>) {
        self.env = env;
    }

    /// Whether it has exited (killed, or killed itself at a failpoint); reaps it if so.
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(None)) => false,
            Some(_) | None => {
                self.child = None;
                true
            }
        }
    }

    /// Starts it again after [`Serve::stop`] or [`Serve::kill_hard`].
    pub fn start_again(&mut self) {
        self.spawn();
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// The AWS CLI against this server, as the admin user, JSON output.
    pub fn aws(&self, args: &[&str]) -> CliRun {
        self.aws_with(&self.credentials(), args)
    }

    pub fn aws_with(&self, credentials: &Path, args: &[&str]) -> CliRun {
        let mut cmd = Command::new(tool("aws"));
        clean_aws_env(&mut cmd, credentials);
        cmd.arg("--endpoint-url")
            .arg(self.endpoint())
            .arg("--output")
            .arg("json")
            .args(args);
        let out = cmd.output().expect("run the aws CLI");
        CliRun {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A boto3 waiter polling every second (the CLI's own `aws rds wait` polls every 30 s,
    /// which is what users get; tests use the same waiter definitions, faster).
    pub fn wait(&self, waiter: &str, kwargs: serde_json::Value) {
        let script = r#"
import json, sys, boto3, botocore.exceptions
client = boto3.client("rds", endpoint_url=sys.argv[1])
try:
    client.get_waiter(sys.argv[2]).wait(WaiterConfig={"Delay": 1, "MaxAttempts": 300}, **json.loads(sys.argv[3]))
except botocore.exceptions.WaiterError as e:
    print("waiter failed:", e, json.dumps(e.last_response, default=str)[:4000])
    sys.exit(1)
"#;
        let mut cmd = Command::new(tool("python"));
        clean_aws_env(&mut cmd, &self.credentials());
        let out = cmd
            .arg("-c")
            .arg(script)
            .arg(self.endpoint())
            .arg(waiter)
            .arg(kwargs.to_string())
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "waiter {waiter} failed:\n{}{}\nserve log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
    }

    /// An empty cluster (CreateDBCluster, master user `admin`) on `port` and its writer
    /// `<id>-1`, both waited for until `available`, with the AWS CLI as a user would.
    pub fn create_cluster_with_writer(&self, id: &str, master_password: &str, port: u16) {
        self.aws(&[
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            id,
            "--engine",
            "aurora-mysql",
            "--master-username",
            "admin",
            "--master-user-password",
            master_password,
            "--port",
            &port.to_string(),
        ])
        .json();
        self.wait(
            "db_cluster_available",
            serde_json::json!({ "DBClusterIdentifier": id }),
        );
        let writer = format!("{id}-1");
        self.aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            &writer,
            "--db-cluster-identifier",
            id,
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.medium",
        ])
        .json();
        self.wait(
            "db_instance_available",
            serde_json::json!({ "DBInstanceIdentifier": writer }),
        );
    }

    /// A new IAM user `name` whose only (inline) policy is `policy`; returns its access key.
    pub fn user_with_policy(&self, name: &str, policy: &str) -> (String, String) {
        self.aws(&["iam", "create-user", "--user-name", name])
            .json();
        self.aws(&[
            "iam",
            "put-user-policy",
            "--user-name",
            name,
            "--policy-name",
            "inline",
            "--policy-document",
            policy,
        ])
        .succeeds();
        let key = self
            .aws(&["iam", "create-access-key", "--user-name", name])
            .json();
        let field = |k: &str| key["AccessKey"][k].as_str().unwrap().to_string();
        (field("AccessKeyId"), field("SecretAccessKey"))
    }

    /// Event messages for one cluster, oldest first.
    pub fn cluster_events(&self, id: &str) -> Vec<String> {
        let v = self
            .aws(&[
                "rds",
                "describe-events",
                "--source-type",
                "db-cluster",
                "--source-identifier",
                id,
                "--duration",
                "600",
            ])
            .json();
        v["Events"]
            .as_array()
            .expect("Events")
            .iter()
            .map(|e| e["Message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn cluster(&self, id: &str) -> serde_json::Value {
        let v = self
            .aws(&["rds", "describe-db-clusters", "--db-cluster-identifier", id])
            .json();
        v["DBClusters"][0].clone()
    }

    /// Polls until the cluster's status is `want` (or the deadline passes).
    pub fn poll_cluster_status(&self, id: &str, want: &str, within: Duration) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let c = self.cluster(id);
            if c["Status"] == want {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "cluster {id} is {} after {within:?}, not {want}; events: {:?}\nserve log:\n{}",
                c["Status"],
                self.cluster_events(id),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn clean_aws_env(cmd: &mut Command, credentials: &Path) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_PAGER", "");
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(120);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        kill_leftover_servers(&self.data_dir);
    }
}

/// Kills any `mariadbd` whose pid file lies under `dir` (after a test failure).
pub fn kill_leftover_servers(dir: &Path) {
    let Ok(walk) = std::fs::read_dir(dir.join("clusters")) else {
        return;
    };
    for cluster in walk.flatten() {
        let mut run_dirs = vec![cluster.path().join("boot")];
        if let Ok(instances) = std::fs::read_dir(cluster.path().join("instances")) {
            run_dirs.extend(instances.flatten().map(|e| e.path()));
        }
        for run in run_dirs {
            if let Ok(pid) = std::fs::read_to_string(run.join("mariadbd.pid")) {
                if let Ok(pid) = pid.trim().parse::<i32>() {
                    // SAFETY: kill(2); the pid came from a pid file ferry's server wrote.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
    }
}

/// The S3 ingestion role tests pass (ferry checks its form only).
pub const ROLE: &str = "arn:aws:iam::000000000000:role/ferry-s3-import";
/// A policy that lets its holder look at everything RDS and change nothing.
pub const LOOK_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:Describe*","Resource":"*"}]}"#;
/// The master user password of the clusters tests restore.
pub const PASSWORD: &str = "Master-pw-2024";

/// `aws rds restore-db-cluster-from-s3` arguments for a MariaDB 10.11 backup in `bucket`.
pub fn restore_args<'a>(id: &'a str, bucket: &'a str, port: &'a str) -> Vec<&'a str> {
    vec![
        "rds",
        "restore-db-cluster-from-s3",
        "--db-cluster-identifier",
        id,
        "--engine",
        "aurora-mysql",
        "--master-username",
        "admin",
        "--master-user-password",
        PASSWORD,
        "--source-engine",
        "mysql",
        "--source-engine-version",
        "10.11",
        "--s3-bucket-name",
        bucket,
        "--s3-ingestion-role-arn",
        ROLE,
        "--port",
        port,
    ]
}

/// Connects to a cluster endpoint on `port` over TCP, on a runtime of its own (returned with
/// the connection, which needs it).
pub fn connect(
    port: u16,
    user: &str,
    password: &str,
) -> (tokio::runtime::Runtime, mysql_async::Conn) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(password))
        .prefer_socket(false);
    let conn = rt
        .block_on(mysql_async::Conn::new(opts))
        .expect("connect to the cluster endpoint as the master user");
    (rt, conn)
}

/// A data dir whose parent lets other users pass (0711), so that the database servers run as
/// Debian's `mysql` user, as they do for a data dir in a normal place.
pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = ferry_testkit::short_tempdir();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let dir = tmp.path().join("d");
    (tmp, dir)
}
