//! Routing: URL + method -> verb, fault injection, then the store operation, answered with
//! the object or a `Status` body.

use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use serde_json::Value;

use super::body::ResponseBody;
use super::query::Params;
use super::{Ctx, discovery, watch};
use crate::ResourceRef;
use crate::api_error::ApiError;
use crate::proxy::{RequestRecord, Verb};
use crate::selector::Selector;
use crate::store::{Change, Subresource, list_document};

/// The apiserver's default request body limit (`--max-request-bytes` is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

#[derive(Debug)]
enum Route {
    Version,
    Health,
    Api,
    ApiV1,
    Apis,
    Group(String),
    GroupVersion(String, String),
    Collection {
        r: ResourceRef,
        ns: Option<String>,
    },
    Object {
        r: ResourceRef,
        ns: String,
        name: String,
        status: bool,
    },
    Unknown,
}

impl Route {
    fn parse(path: &str) -> Route {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let r = |g: &str, v: &str, p: &str| ResourceRef {
            group: g.into(),
            version: v.into(),
            plural: p.into(),
        };
        match segs.as_slice() {
            ["version"] => Route::Version,
            ["healthz" | "livez" | "readyz"] => Route::Health,
            ["api"] => Route::Api,
            ["api", "v1"] => Route::ApiV1,
            ["apis"] => Route::Apis,
            ["apis", g] => Route::Group((*g).into()),
            ["apis", g, v] => Route::GroupVersion((*g).into(), (*v).into()),
            ["apis", g, v, p] => Route::Collection {
                r: r(g, v, p),
                ns: None,
            },
            ["apis", g, v, "namespaces", ns, p] => Route::Collection {
                r: r(g, v, p),
                ns: Some((*ns).into()),
            },
            ["apis", g, v, "namespaces", ns, p, name] => Route::Object {
                r: r(g, v, p),
                ns: (*ns).into(),
                name: (*name).into(),
                status: false,
            },
            ["apis", g, v, "namespaces", ns, p, name, "status"] => Route::Object {
                r: r(g, v, p),
                ns: (*ns).into(),
                name: (*name).into(),
                status: true,
            },
            _ => Route::Unknown,
        }
    }

    fn verb(&self, method: &Method, params: &Params) -> Verb {
        match (self, method) {
            (
                Route::Version
                | Route::Api
                | Route::ApiV1
                | Route::Apis
                | Route::Group(_)
                | Route::GroupVersion(..),
                &Method::GET,
            ) => Verb::Discovery,
            (Route::Collection { .. }, &Method::GET) if params.flag("watch") => Verb::Watch,
            (Route::Collection { .. }, &Method::GET) => Verb::List,
            (Route::Collection { .. }, &Method::POST) => Verb::Create,
            (Route::Object { .. }, &Method::GET) => Verb::Get,
            (Route::Object { .. }, &Method::PUT) => Verb::Update,
            (Route::Object { .. }, &Method::PATCH) => Verb::Patch,
            (Route::Object { .. }, &Method::DELETE) => Verb::Delete,
            _ => Verb::Other,
        }
    }
}

fn respond(code: u16, value: &Value) -> Response<ResponseBody> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(ResponseBody::Full(Some(Bytes::from(body))));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(e: &ApiError) -> Response<ResponseBody> {
    let mut resp = respond(e.code, &e.to_status());
    if let Some(secs) = e.retry_after
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Handles one request: log it, apply faults, dispatch.
pub(crate) async fn handle(ctx: &Ctx, req: Request<Incoming>) -> Response<ResponseBody> {
    let at = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let params = Params::new(&query);
    let route = Route::parse(&path);
    let verb = route.verb(&method, &params);
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes());
    let seq = ctx.log.push(RequestRecord {
        seq: 0,
        at,
        method: method.to_string(),
        path: path.clone(),
        query,
        body: body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default(),
        verb,
        status: 0,
    });
    let (delay, error) = ctx.faults.decide(verb, &path);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let resp = match (error, body) {
        (Some(e), _) => error_response(&e),
        (None, Err(_)) => error_response(&ApiError::too_large(MAX_BODY)),
        (None, Ok(body)) => match dispatch(ctx, &method, route, &params, &content_type, &body) {
            Ok(r) => r,
            Err(e) => error_response(&e),
        },
    };
    ctx.log.set_status(seq, resp.status().as_u16());
    resp
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn dispatch(
    ctx: &Ctx,
    method: &Method,
    route: Route,
    params: &Params,
    content_type: &str,
    body: &[u8],
) -> Result<Response<ResponseBody>, ApiError> {
    let store = &ctx.store;
    let get_only = |v: Option<Value>| match (method, v) {
        (&Method::GET, Some(v)) => Ok(respond(200, &v)),
        (&Method::GET, None) => Err(ApiError::no_route()),
        _ => Err(ApiError::method_not_allowed()),
    };
    match route {
        Route::Version => get_only(Some(discovery::version())),
        Route::Health => match method {
            &Method::GET => {
                let mut resp = Response::new(ResponseBody::Full(Some(Bytes::from_static(b"ok"))));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/plain"),
                );
                Ok(resp)
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        Route::Api => get_only(Some(discovery::core_versions(&ctx.addr.to_string()))),
        Route::ApiV1 => get_only(Some(discovery::core_v1())),
        Route::Apis => get_only(Some(discovery::group_list(&store.crds()))),
        Route::Group(g) => get_only(discovery::group(&store.crds(), &g)),
        Route::GroupVersion(g, v) => get_only(discovery::resources(&store.crds(), &g, &v)),
        Route::Collection { r, ns } => {
            let crd = store.crd(&r.group, &r.version, &r.plural)?;
            match *method {
                Method::GET if params.flag("watch") => {
                    let rx = watch::start(ctx, r, crd, ns, params)?;
                    let mut resp = Response::new(ResponseBody::Stream(rx));
                    resp.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static("application/json"),
                    );
                    Ok(resp)
                }
                Method::GET => list(ctx, &r, &crd, ns.as_deref(), params),
                Method::POST => {
                    let ns = ns.ok_or_else(ApiError::method_not_allowed)?;
                    let obj = store.create(
                        &r,
                        &ns,
                        parse_json(body)?,
                        params.get("dryRun") == Some("All"),
                    )?;
                    Ok(respond(201, &obj))
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        Route::Object {
            r,
            ns,
            name,
            status,
        } => {
            store.crd(&r.group, &r.version, &r.plural)?;
            let sub = if status {
                Subresource::Status
            } else {
                Subresource::Main
            };
            let obj = match *method {
                Method::GET => store.get(&r, &ns, &name)?,
                Method::PUT => {
                    store.update(&r, &ns, &name, sub, Change::Replace(parse_json(body)?))?
                }
                Method::PATCH => {
                    let media = content_type.split(';').next().unwrap_or_default().trim();
                    let change = match media {
                        "application/merge-patch+json" => Change::Merge(parse_json(body)?),
                        "application/json-patch+json" => Change::Json(parse_json(body)?),
                        other => return Err(ApiError::unsupported_media_type(other)),
                    };
                    store.update(&r, &ns, &name, sub, change)?
                }
                Method::DELETE if !status => {
                    let options = if body.iter().all(u8::is_ascii_whitespace) {
                        None
                    } else {
                        Some(parse_json(body)?)
                    };
                    store.delete(&r, &ns, &name, options.as_ref())?
                }
                _ => return Err(ApiError::method_not_allowed()),
            };
            Ok(respond(200, &obj))
        }
        Route::Unknown => Err(ApiError::no_route()),
    }
}

/// `LIST` with selectors and `limit`/`continue` paging (the continue token is the last key).
fn list(
    ctx: &Ctx,
    r: &ResourceRef,
    crd: &crate::crd::Crd,
    ns: Option<&str>,
    params: &Params,
) -> Result<Response<ResponseBody>, ApiError> {
    let sel = Selector::parse(params.get("fieldSelector"), params.get("labelSelector"))?;
    let (items, rv) = ctx.store.list(r, ns, &sel)?;
    let key = |o: &Value| {
        format!(
            "{}/{}",
            o.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            o.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )
    };
    let start = match params.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => items
            .iter()
            .position(|o| key(o).as_str() > token)
            .unwrap_or(items.len()),
        None => 0,
    };
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(items.len());
    let cont = (end < items.len()).then(|| key(&items[end - 1]));
    let page = items[start..end].to_vec();
    Ok(respond(
        200,
        &list_document(crd, &r.version, page, rv, cont),
    ))
}
