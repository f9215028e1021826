//! What each request is answered with. Pure: a request head and the shared
//! state in, a response out; nothing here reads the request body.

use std::io::Read as _;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Version};
use serde_json::json;

use crate::Shared;
use crate::metrics::{Route, Status};

/// The largest manifest served; a bigger file is answered 503.
pub const MANIFEST_LIMIT: u64 = 1024 * 1024;

const JSON: &str = "application/json";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";
const ALLOW: &str = "GET, HEAD";

/// The answer to `req` (whose body is never read). HEAD gets the GET
/// response; hyper leaves its body out and keeps its Content-Length.
pub(crate) fn respond<B>(req: &Request<B>, shared: &Shared) -> Response<Full<Bytes>> {
    let route = Route::of_path(req.uri().path());
    let (status, response) = answer(req, route, shared);
    shared.metrics.count(route, status);
    response
}

fn answer<B>(req: &Request<B>, route: Route, shared: &Shared) -> (Status, Response<Full<Bytes>>) {
    // RFC 9112 §3.2: a server answers 400 to an HTTP/1.1 request without
    // exactly one Host header.
    if req.version() == Version::HTTP_11 && req.headers().get_all(header::HOST).iter().count() != 1
    {
        return error(
            Status::BadRequest,
            json!({"error": "an HTTP/1.1 request needs exactly one Host header"}),
        );
    }
    if route == Route::Other {
        return error(
            Status::NotFound,
            json!({"error": "not found", "routes": ["/health", "/features", "/metrics"]}),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let (status, mut response) = error(
            Status::MethodNotAllowed,
            json!({"error": "method not allowed", "allow": ["GET", "HEAD"]}),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return (status, response);
    }
    match route {
        Route::Health => {
            let body = format!(
                "{{\"status\":\"ok\",\"version\":\"{}\",\"uptime_seconds\":{}}}",
                crate::VERSION,
                shared.uptime_seconds()
            );
            (Status::Ok, response(StatusCode::OK, JSON, body.into()))
        }
        Route::Features => match read_manifest(&shared.manifest) {
            Ok(json) => (Status::Ok, response(StatusCode::OK, JSON, json.into())),
            Err(problem) => {
                shared.log.problem(format_args!(
                    "GET /features: {}. Fix: {}",
                    problem.reason, problem.fix
                ));
                error(
                    Status::Unavailable,
                    json!({
                        "error": "the feature manifest cannot be served",
                        "file": shared.manifest.display().to_string(),
                        "reason": problem.reason,
                        "fix": problem.fix,
                    }),
                )
            }
        },
        Route::Metrics => (
            Status::Ok,
            response(
                StatusCode::OK,
                PROMETHEUS,
                shared.metrics.render(shared.uptime_seconds()).into(),
            ),
        ),
        Route::Other => error(Status::NotFound, json!({"error": "not found"})),
    }
}

/// Why the manifest cannot be served, and what to do about it.
#[derive(Debug)]
struct Unservable {
    reason: String,
    fix: &'static str,
}

/// The manifest's bytes, when the file is a regular file of at most
/// [`MANIFEST_LIMIT`] bytes holding one JSON object.
fn read_manifest(path: &Path) -> Result<Vec<u8>, Unservable> {
    const FIX_MISSING: &str = "attach the domi-nix trunk, which writes it, or pass --manifest with the path of the manifest";
    const FIX_INVALID: &str = "the file must be the JSON object the domi-nix trunk writes; rebuild the system, or point --manifest at that file";
    let file = path.display();
    let unreadable = |e: std::io::Error| Unservable {
        reason: format!("cannot read {file}: {e}"),
        fix: FIX_MISSING,
    };
    // A FIFO or a device would block the worker in open or read: only a
    // regular file (symbolic links followed) is opened.
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Unservable {
            reason: format!("{file} is not a regular file"),
            fix: FIX_MISSING,
        });
    }
    let mut bytes =
        Vec::with_capacity(usize::try_from(meta.len().min(MANIFEST_LIMIT)).unwrap_or(0));
    std::fs::File::open(path)
        .and_then(|f| f.take(MANIFEST_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MANIFEST_LIMIT {
        return Err(Unservable {
            reason: format!("{file} is larger than {MANIFEST_LIMIT} bytes"),
            fix: FIX_INVALID,
        });
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        return Err(Unservable {
            reason: format!("{file} is not JSON: {e}"),
            fix: FIX_INVALID,
        });
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Unservable {
            reason: format!("{file} is JSON, but not an object"),
            fix: FIX_INVALID,
        });
    }
    Ok(bytes)
}

fn error(status: Status, body: serde_json::Value) -> (Status, Response<Full<Bytes>>) {
    let code = StatusCode::from_u16(status.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, response(code, JSON, body.to_string().into()))
}

fn response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The whole response written to a connection refused for being over
/// `--max-connections`, before it is closed.
pub(crate) const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
cache-control: no-store\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 76\r\n\
\r\n\
{\"error\":\"too many connections\",\"fix\":\"retry later, over fewer connections\"}";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_whole_response_with_a_json_body() {
        let text = std::str::from_utf8(REFUSED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length = format!("content-length: {}", body.len());
        assert!(head.split("\r\n").any(|l| l == length), "{head}");
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"], "too many connections");
    }

    #[test]
    fn the_manifest_must_be_a_json_object_in_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features.json");
        let missing = read_manifest(&path).unwrap_err();
        assert!(missing.reason.contains("features.json"), "{missing:?}");
        for (text, ok) in [
            ("{\"version\":1,\"features\":{}}", true),
            ("  \n{}", true),
            ("{\"version\":1,", false),
            ("[1, 2]", false),
            ("", false),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_manifest(&path).is_ok(), ok, "{text:?}");
        }
        std::fs::write(&path, vec![b' '; MANIFEST_LIMIT as usize + 1]).unwrap();
        assert!(read_manifest(&path).unwrap_err().reason.contains("larger"));
        assert!(
            read_manifest(dir.path())
                .unwrap_err()
                .reason
                .contains("not a regular file")
        );
    }
}
