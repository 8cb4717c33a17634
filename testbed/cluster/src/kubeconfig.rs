//! Kubeconfigs, so a separate process (the launcher, kubectl) connects with its ordinary
//! client configuration code.

/// Kubeconfig YAML with one cluster/user/context named `testbed`; with `ca_pem`, the
/// cluster's `certificate-authority-data` so HTTPS is verified against the test bed's CA.
pub fn render(server: &str, namespace: &str, ca_pem: Option<&str>, token: &str) -> String {
    use base64::Engine as _;
    let ca = ca_pem.map_or_else(String::new, |pem| {
        format!(
            "\n    certificate-authority-data: {}",
            base64::engine::general_purpose::STANDARD.encode(pem)
        )
    });
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: {server}{ca}
users:
- name: testbed
  user:
    token: {token}
contexts:
- name: testbed
  context:
    cluster: testbed
    user: testbed
    namespace: {namespace}
current-context: testbed
preferences: {{}}
"
    )
}
