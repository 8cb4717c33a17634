//! A kubeconfig pointing at the double, so a separate process (the launcher) can connect
//! with its ordinary client configuration code.

/// The dummy bearer token written into kubeconfigs; the double accepts any credentials.
pub const TOKEN: &str = "testbed-token";

pub(crate) use cluster::kubeconfig::render;
