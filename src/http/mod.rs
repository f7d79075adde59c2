//! The one HTTP/1.1 server layer of the judge, the proxy and the visualizer: bounded
//! heads, bodies, times and connections, strict framing. `docs/http.md` records why it is our own
//! blocking layer over `httparse` rather than hyper, and how it is fuzzed.

mod body;
mod chunked;
mod conn;
mod handler;
mod head;
mod limits;
mod response;
mod server;

pub use body::{is_too_large, Body, TooLarge};
pub use chunked::ChunkedDecoder;
pub use conn::too_large_message;
pub use handler::{Handler, Request};
pub use head::{parse_head, read_head, Framing, Head, HeadError};
pub use limits::*;
pub use response::{reason_phrase, BodyFraming, Response};
pub use server::{Server, ShutdownHandle};
