//! What the layer hands to a server's code: one [`Request`] at a time, answered by its
//! [`Handler`]; and what all connections of one server share.

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::json;

use super::body::Body;
use super::head::Head;
use super::limits::Limits;
use super::response::Response;

/// One request: its head and its body, still to be read.
#[derive(Debug)]
pub struct Request<'a> {
    pub head: Head,
    pub body: Body<'a>,
}

/// What a server does with each request.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request through `res` (every exchange must write a response; a handler that
    /// returns without one, or panics, gets a 500 sent for it).
    fn handle(&self, req: &mut Request<'_>, res: &mut Response<'_>) -> io::Result<()>;

    /// The JSON body of an answer the layer sends itself (400, 408, 413, 431, 500, 503).
    fn error_body(&self, _status: u16, message: &str) -> serde_json::Value {
        json!({ "error": message })
    }
}

impl<F> Handler for F
where
    F: Fn(&mut Request<'_>, &mut Response<'_>) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, req: &mut Request<'_>, res: &mut Response<'_>) -> io::Result<()> {
        self(req, res)
    }
}

/// What every connection of a server shares.
pub(super) struct Shared {
    pub name: &'static str,
    pub limits: Limits,
    pub handler: Arc<dyn Handler>,
    pub stopping: Arc<AtomicBool>,
}
