//! The judge's handler on the shared HTTP layer ([`crate::http`]): routes each request and answers
//! in `FastAPI`'s shape (`{"detail": ...}`), also for the refusals the layer sends itself.

use std::io;

use serde_json::{json, Value};

use super::routes::{self, Context};
use crate::http::{Handler, Request, Response};

/// The judge API as an HTTP handler.
pub struct JudgeHandler(pub Context);

impl Handler for JudgeHandler {
    fn handle(&self, req: &mut Request<'_>, res: &mut Response<'_>) -> io::Result<()> {
        let (path, query) = req
            .head
            .target
            .split_once('?')
            .map_or((req.head.target.clone(), String::new()), |(p, q)| {
                (p.to_owned(), q.to_owned())
            });
        let (status, body) = routes::dispatch(&self.0, req, &path, &query);
        res.json(status, &body)
    }

    fn error_body(&self, _status: u16, message: &str) -> Value {
        json!({ "detail": message })
    }
}
