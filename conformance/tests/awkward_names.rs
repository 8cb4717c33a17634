//! Names that are not Rust identifiers, and spec fields named like the launcher's own
//! options, are renamed by the generator's documented rules: the generated arguments
//! flatten into a command line with the launcher's options without clap refusing them.

use clap::{Args, CommandFactory, Parser};
use conformance::awkward::{AwkwardInputs, AwkwardOutputPaths, AwkwardStatus, Spec3d};

/// The launcher's own options (`launcher/src/main.rs`), by the ids clap gives them.
#[derive(Debug, Args)]
struct RunOptions {
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    namespace: Option<String>,
    #[arg(long)]
    status_timeout: Option<String>,
    #[arg(long)]
    recoverable_timeout: Option<String>,
    #[arg(long)]
    max_object_bytes: Option<usize>,
    #[arg(long)]
    api_timeout: Option<String>,
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    inputs: AwkwardInputs,
    #[command(flatten)]
    outputs: AwkwardOutputPaths,
    #[command(flatten)]
    run: RunOptions,
}

#[test]
fn the_arguments_flatten_beside_the_launchers_options() {
    // What clap checks (and panics on) when a command starts.
    Cli::command().debug_assert();
}

#[test]
fn a_clashing_spec_field_is_its_own_input() {
    let cli = Cli::try_parse_from([
        "launcher",
        "--region",
        "us-west-2",
        "--namespace",
        "the-launchers",
        "--spec_namespace",
        "the-resources",
        "--spec_region",
        "eu-west-1",
        "--namespace_output_path",
        "/tmp/ns",
        "--spec_3d",
        r#"{"größe": "L", "a.b": "1", "a-b": "2"}"#,
    ])
    .expect("parses");
    assert_eq!(cli.run.namespace.as_deref(), Some("the-launchers"));
    let read = cli.inputs.read().expect("valid inputs");
    assert_eq!(read.region, "us-west-2");
    assert_eq!(read.spec.namespace, "the-resources");
    assert_eq!(read.spec.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        read.spec._3d,
        // Names that meet are numbered in property order: `a-b` sorts before `a.b`.
        Some(Spec3d {
            gr_e: Some("L".to_owned()),
            a_b: Some("2".to_owned()),
            a_b_2: Some("1".to_owned()),
        })
    );
    assert_eq!(
        cli.outputs.namespace.as_deref(),
        Some(std::path::Path::new("/tmp/ns"))
    );
}

#[test]
fn digit_first_status_fields_keep_their_json_names() {
    let status: AwkwardStatus =
        serde_json::from_value(serde_json::json!({"2xx": 3, "dryRun": true})).expect("reads");
    assert_eq!(status._2xx, Some(3));
    assert_eq!(status.dry_run, Some(true));
}
