//! A [`Handler`] that serves the files under a folder: GET reads, PUT writes (RFC 7252
//! sections 5.8.1 and 5.8.3).

use super::server::{Handler, RequestInfo};
use super::{Request, Response, uint_of};
use crate::coap::{Code, OptionNumber};
use std::format;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::string::ToString;

/// Serves the files under a root folder. GET returns a file's bytes (2.05), and with Observe 0
/// registers an observer (RFC 7641); PUT replaces or creates a file (2.04 / 2.01) in an existing
/// folder, atomically, which notifies its observers; other methods get 4.05.
/// Paths never leave the root: `.` and `..` segments, separators inside a segment and symbolic
/// links that lead outside are refused.
#[derive(Debug, Clone)]
pub struct FileHandler {
    root: PathBuf,
    writable: bool,
}

impl FileHandler {
    /// Serves `root`, read-only unless `writable`.
    pub fn new(root: &Path, writable: bool) -> io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
            writable,
        })
    }

    /// The file a request's Uri-Path names, or why not.
    fn target(&self, request: &Request) -> Result<PathBuf, Response> {
        let mut path = self.root.clone();
        let mut any = false;
        for seg in request.path() {
            let seg = core::str::from_utf8(seg)
                .map_err(|_| Response::error(Code::NOT_FOUND, "path is not UTF-8"))?;
            let mut parts = Path::new(seg).components();
            match (parts.next(), parts.next()) {
                (Some(Component::Normal(p)), None) if p == seg => path.push(p),
                (None, None) if seg.is_empty() => {}
                _ => return Err(Response::error(Code::NOT_FOUND, "bad path segment")),
            }
            any = true;
        }
        if !any {
            return Err(Response::error(Code::NOT_FOUND, "no file named"));
        }
        Ok(path)
    }

    /// Whether `path` (resolved through symbolic links) is inside the root.
    fn inside(&self, path: &Path) -> bool {
        path.canonicalize()
            .is_ok_and(|p| p.starts_with(&self.root) && p != self.root)
    }

    fn get(&self, path: &Path) -> Response {
        if !path.is_file() || !self.inside(path) {
            return Response::error(Code::NOT_FOUND, "Not Found");
        }
        match std::fs::read(path) {
            Ok(bytes) => Response::new(Code::CONTENT).with_payload(bytes),
            Err(e) => Response::error(Code::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    }

    fn put(&self, path: &Path, body: &[u8]) -> Response {
        if !self.writable {
            return Response::error(Code::METHOD_NOT_ALLOWED, "read-only");
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Response::error(Code::NOT_FOUND, "Not Found");
        };
        let parent_ok = parent
            .canonicalize()
            .is_ok_and(|p| p.starts_with(&self.root));
        if !parent_ok || path.is_dir() || (path.exists() && !self.inside(path)) {
            return Response::error(Code::NOT_FOUND, "Not Found");
        }
        let existed = path.exists();
        let tmp = parent.join(format!(
            ".{}.{}.part",
            name.to_string_lossy(),
            std::process::id()
        ));
        let written = std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, path));
        match written {
            Ok(()) if existed => Response::new(Code::CHANGED),
            Ok(()) => Response::new(Code::CREATED),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Response::error(Code::INTERNAL_SERVER_ERROR, &e.to_string())
            }
        }
    }
}

impl Handler for FileHandler {
    fn handle(&mut self, request: &Request, _info: &RequestInfo) -> Response {
        let path = match self.target(request) {
            Ok(p) => p,
            Err(r) => return r,
        };
        match request.method {
            // Every file is observable (RFC 7641 section 4.1); a PUT to it notifies.
            Code::GET if request.option(OptionNumber::OBSERVE).and_then(uint_of) == Some(0) => {
                let r = self.get(&path);
                if r.is_error() {
                    return r;
                }
                r.with_option(OptionNumber::OBSERVE, [])
            }
            Code::GET => self.get(&path),
            Code::PUT => self.put(&path, &request.payload),
            _ => Response::error(Code::METHOD_NOT_ALLOWED, "GET and PUT only"),
        }
    }
}
