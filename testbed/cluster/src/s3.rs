//! The artifact store Argo's own S3 client (minio-go, in `argoexec`) writes the steps'
//! outputs to: moto's S3 server (`moto_server` 5.2.5, from PyPI, pinned in
//! `s3/requirements.txt`, installed into `<target>/s3-venv`), listening on the host's end
//! of the node's veth pair, with the bucket KFP's Argo configuration names
//! (`mlpipeline`).
//!
//! Why moto: KFP deploys MinIO, which no registry reachable here serves as a release
//! (neither Debian nor the Go module proxy; building it would cost many minutes of CI).
//! moto is maintained (monthly releases), Apache-2.0, made to stand in for AWS in tests,
//! installs from PyPI in about 20 s with no compiler, and its S3 answers the calls
//! minio-go makes for artifacts (bucket location, put, get, head, list). Where it differs
//! from S3: it keeps objects in memory, and it checks no signature (any key pair is
//! accepted; the step still signs with the Secret's keys, as with MinIO).

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::ClusterError;
use crate::go_build::go_dir;
use crate::process::{Server, log_tail};

/// The bucket KFP's artifact repository names.
pub const BUCKET: &str = "mlpipeline";

/// The port on the host's end of the node's link.
pub const S3_PORT: u16 = 9000;

const REQUIREMENTS: &str = include_str!("../s3/requirements.txt");

/// A running S3 server with the bucket made. Dropping it kills it.
#[derive(Debug)]
pub struct S3Server {
    server: Server,
    addr: SocketAddr,
    access_key: String,
    secret_key: String,
    python: PathBuf,
}

impl S3Server {
    /// Creates the venv if needed, starts `moto_server` on `address:9000` and makes the
    /// bucket.
    pub fn start(
        dir: &Path,
        address: IpAddr,
        group: Option<u32>,
    ) -> Result<S3Server, ClusterError> {
        let venv = ensure_venv()?;
        let addr = SocketAddr::new(address, S3_PORT);
        let mut server = Server::spawn(
            "moto_server",
            &venv.join("bin/moto_server"),
            &[
                "-H".into(),
                address.to_string(),
                "-p".into(),
                S3_PORT.to_string(),
            ],
            dir.join("s3.log"),
            group,
        )?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            server.check_running()?;
            if request(addr, "GET", "/").is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(ClusterError::NotReady {
                    name: "moto_server",
                    log_tail: log_tail(&server.log),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // One PUT makes a bucket (in us-east-1, the default region, as MinIO's).
        let status = request(addr, "PUT", &format!("/{BUCKET}"))?;
        if status != 200 {
            return Err(ClusterError::Invalid(format!(
                "creating the bucket {BUCKET} on the S3 server at {addr}: HTTP {status}"
            )));
        }
        Ok(S3Server {
            server,
            addr,
            access_key: crate::random::random_hex(10)?,
            secret_key: crate::random::random_hex(20)?,
            python: venv.join("bin/python"),
        })
    }

    /// `host:port`, as Argo's `s3.endpoint` takes it.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// The key pair the steps sign with (`accesskey`, `secretkey` of the Secret).
    pub fn keys(&self) -> (&str, &str) {
        (&self.access_key, &self.secret_key)
    }

    /// The keys of every object under `prefix`, read with boto3 (a real S3 client).
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, ClusterError> {
        let out = self.boto3(
            "import boto3, sys\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name='us-east-1')\n\
             for page in s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[4], Prefix=sys.argv[5]):\n\
             \x20   for o in page.get('Contents', []):\n\
             \x20       print(o['Key'])\n",
            &[BUCKET, prefix],
        )?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    /// An object's content, as text (an archived log, say).
    pub fn read(&self, key: &str) -> Result<String, ClusterError> {
        self.boto3(
            "import boto3, sys\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name='us-east-1')\n\
             sys.stdout.write(s3.get_object(Bucket=sys.argv[4], Key=sys.argv[5])['Body'].read().decode())\n",
            &[BUCKET, key],
        )
    }

    /// The file inside an Argo artifact (a `.tgz` of one file), as text.
    pub fn read_artifact(&self, key: &str) -> Result<String, ClusterError> {
        self.boto3(
            "import boto3, io, sys, tarfile\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name='us-east-1')\n\
             body = s3.get_object(Bucket=sys.argv[4], Key=sys.argv[5])['Body'].read()\n\
             with tarfile.open(fileobj=io.BytesIO(body), mode='r:gz') as tar:\n\
             \x20   files = [m for m in tar.getmembers() if m.isfile()]\n\
             \x20   assert len(files) == 1, [m.name for m in files]\n\
             \x20   sys.stdout.write(tar.extractfile(files[0]).read().decode())\n",
            &[BUCKET, key],
        )
    }

    fn boto3(&self, script: &str, args: &[&str]) -> Result<String, ClusterError> {
        let out = Command::new(&self.python)
            .arg("-c")
            .arg(script)
            .arg(format!("http://{}", self.addr))
            .arg(&self.access_key)
            .arg(&self.secret_key)
            .args(args)
            .output()
            .map_err(|e| ClusterError::io("cannot run", &self.python, e))?;
        if !out.status.success() {
            return Err(ClusterError::Invalid(format!(
                "S3 client: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Leaves the server running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}

/// One HTTP/1.1 request without a body; the status code.
fn request(addr: SocketAddr, method: &str, path: &str) -> Result<u16, ClusterError> {
    let io = |e| {
        ClusterError::io(
            "cannot reach the S3 server at",
            Path::new(&addr.to_string()),
            e,
        )
    };
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(io)?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| ClusterError::Invalid(format!("S3 server at {addr}: no HTTP status")))
}

/// `<target>/s3-venv`, created from the pinned requirements when they (or Python) changed.
/// A file lock: parallel test binaries create it once.
fn ensure_venv() -> Result<PathBuf, ClusterError> {
    let target = go_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(go_dir);
    let venv = target.join("s3-venv");
    std::fs::create_dir_all(&target).map_err(|e| ClusterError::io("cannot create", &target, e))?;
    let lock_path = target.join("s3-venv.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| ClusterError::io("cannot create", &lock_path, e))?;
    lock.lock()
        .map_err(|e| ClusterError::io("cannot lock", &lock_path, e))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let version = crate::netns::run(&python, &["--version"]).map_err(|e| {
        ClusterError::Invalid(format!(
            "the artifact store needs Python 3.11 or later (`{python}`): {e}"
        ))
    })?;
    let want = format!("{}{REQUIREMENTS}", version.trim());
    let stamp = venv.join("ack-kfp.stamp");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return Ok(venv);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| ClusterError::io("cannot remove", &venv, e))?;
    }
    eprintln!(
        "cluster: installing moto's S3 server into {} (about 20 s)",
        venv.display()
    );
    crate::netns::run(&python, &["-m", "venv", &venv.display().to_string()])?;
    let requirements = target.join("s3-requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS)
        .map_err(|e| ClusterError::io("cannot write", &requirements, e))?;
    crate::netns::run(
        &venv.join("bin/pip").display().to_string(),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            &requirements.display().to_string(),
        ],
    )?;
    std::fs::write(&stamp, want).map_err(|e| ClusterError::io("cannot write", &stamp, e))?;
    Ok(venv)
}
