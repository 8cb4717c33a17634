//! Helpers for the xtask tests: scratch copies of the repository and a static file server
//! standing in for the release-file host.

#![allow(dead_code)] // Each test binary uses a different part.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Copies what `regenerate` reads and writes into `parent/checkout`.
pub fn scratch_copy(parent: &Path) -> PathBuf {
    let root = parent.join("checkout");
    for dir in ["crds", "component-template", "generated", "docs"] {
        if repo_root().join(dir).is_dir() {
            copy_dir(&repo_root().join(dir), &root.join(dir));
        }
    }
    root
}

/// A scratch copy that pins the TrainingJob CRD alone (lock, vendored CRDs, templates and
/// `generated/` as `regenerate` makes them): what the tests that step through the
/// TrainingJob release history need, since the mirror has the other kinds' CRDs of some
/// releases only.
pub fn training_job_only(parent: &Path) -> PathBuf {
    let root = scratch_copy(parent);
    let mut lock = xtask::lock::Lock::read(&root).expect("lock");
    for other in lock
        .crds
        .iter()
        .filter(|c| !c.file.ends_with("_trainingjobs.yaml"))
    {
        std::fs::remove_file(root.join(other.repo_path())).expect("remove a vendored CRD");
    }
    lock.crds.retain(|c| c.file.ends_with("_trainingjobs.yaml"));
    std::fs::write(
        root.join(xtask::lock::LOCK_FILE),
        lock.to_toml().expect("lock"),
    )
    .expect("write the lock");
    let plan = xtask::regenerate::plan(&root).expect("plan");
    xtask::regenerate::apply(&root, &plan).expect("regenerate");
    root
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Every file under `root`'s `crds/` and `generated/`, with its bytes.
pub fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.join("crds"), root.join("generated")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// How the mirror misbehaves, per test.
#[derive(Clone, Debug, Default)]
pub enum Fault {
    #[default]
    None,
    /// Announce the whole file, send this many bytes, then close the connection.
    CutOffAfter(usize),
    /// Answer every request with this body instead of the file.
    Substitute(String),
}

/// A static file server on 127.0.0.1 serving the fixture mirror, laid out like the
/// raw-file host. One request per connection; stops when dropped.
pub struct Mirror {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Mirror {
    pub fn serve(fault: Fault) -> Mirror {
        Mirror::serve_dir(repo_root().join("fixtures/ack-mirror"), fault)
    }

    /// Serves `root`, laid out like the raw-file host.
    pub fn serve_dir(root: PathBuf, fault: Fault) -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        answer(stream, &root, &fault, &requests);
                    }
                }
            })
        };
        Mirror {
            url: format!("http://{addr}"),
            requests,
            stop,
            addr,
            thread: Some(thread),
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(mut stream: TcpStream, root: &Path, fault: &Fault, requests: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    requests.lock().expect("lock").push(path.clone());
    let file = (!path.contains(".."))
        .then(|| std::fs::read(root.join(path.trim_start_matches('/'))).ok())
        .flatten();
    let body = match (fault, file) {
        (_, None) => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 14\r\nConnection: close\r\n\r\n404: Not Found");
            return;
        }
        (Fault::Substitute(text), Some(_)) => text.clone().into_bytes(),
        (_, Some(bytes)) => bytes,
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let sent = match fault {
        Fault::CutOffAfter(n) => &body[..(*n).min(body.len())],
        _ => &body[..],
    };
    let _ = stream.write_all(sent);
    let _ = stream.flush();
}
