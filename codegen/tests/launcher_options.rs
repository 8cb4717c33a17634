//! `component::LAUNCHER_OPTIONS` lists every option the launcher defines itself, so that the
//! generator renames a spec field that would clash with one (read from the launcher's
//! source, not copied).

mod common;

use codegen::component::LAUNCHER_OPTIONS;

#[test]
fn every_run_option_of_the_launcher_is_reserved() {
    let main = std::fs::read_to_string(common::repo_root().join("launcher/src/main.rs"))
        .expect("launcher source");
    let file = syn::parse_file(&main).expect("launcher parses");
    let run_options = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "RunOptions" => Some(s),
            _ => None,
        })
        .expect("the launcher's RunOptions");
    let fields: Vec<String> = run_options
        .fields
        .iter()
        .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
        .collect();
    assert!(fields.len() >= 2, "{fields:?}");
    for field in &fields {
        assert!(
            LAUNCHER_OPTIONS.contains(&field.as_str()),
            "{field} is not reserved"
        );
    }
}
