//! Downloading a controller release's CRD files, from the release host, a mirror of it
//! over HTTP, or a mirror folder on this machine (laid out like the host's paths).

use std::time::Duration;

use anyhow::bail;

/// Where release files are fetched from unless told otherwise: the raw-file host of the
/// controllers' GitHub repositories.
pub const DEFAULT_BASE_URL: &str = "https://raw.githubusercontent.com";

/// Overrides the base URL, e.g. with a mirror for machines without internet access.
pub const BASE_URL_ENV: &str = "ACK_RELEASES_URL";

/// `<base>/aws-controllers-k8s/<controller>/<release>/helm/crds/<file>`: a URL when `base`
/// is an `http(s)://` URL, else a path on this machine (`base` a folder, or `file://`).
pub fn release_file_url(base: &str, controller: &str, release: &str, file_name: &str) -> String {
    format!(
        "{}/aws-controllers-k8s/{controller}/{release}/helm/crds/{file_name}",
        base.trim_end_matches('/')
    )
}

/// Fetches one file as text (over HTTP with timeouts, or read from a mirror folder), turning
/// each way it can fail into an error that says what to try.
pub fn get(location: &str) -> anyhow::Result<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return get_http(location);
    }
    if let Some((scheme, _)) = location.split_once("://")
        && scheme != "file"
    {
        bail!("{location}: a mirror is an http:// or https:// URL, or a folder on this machine");
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{path} is not UTF-8")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{path}: no such file in the mirror folder: no such release there, or the file is \
             not in it (a mirror holds aws-controllers-k8s/<controller>/<tag>/helm/crds/<file>)"
        ),
        Err(e) => bail!("cannot read {path}: {e}"),
    }
}

fn get_http(url: &str) -> anyhow::Result<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = match agent.get(url).call() {
        Ok(response) => response,
        Err(error) => bail!(
            "cannot reach {url}: {error}. Check the network, or fetch from a mirror of the \
             release files with --mirror URL (or {BASE_URL_ENV}=URL)."
        ),
    };
    match response.status().as_u16() {
        200 => {}
        404 => bail!("{url}: 404 Not Found: no such release, or the file is not in it"),
        status => bail!("{url}: the server answered HTTP {status}"),
    }
    match response.body_mut().read_to_string() {
        Ok(text) => Ok(text),
        Err(error) => bail!("the download of {url} broke off: {error}; nothing was changed"),
    }
}
