//! Every name a generated module imports is one the naming pass keeps free
//! (`codegen::reserved::IMPORTED_NAMES`), so that no schema type can take it: checked on the
//! output for every fixture CRD and on the committed `generated/`.

mod common;

use codegen::reserved::IMPORTED_NAMES;

/// The names bound by the `use` items of a module, but those of the shared ACK types
/// (`super::ack::...`), which keep the runtime's names and are reserved by the naming pass.
fn imported_names(source: &str) -> Vec<String> {
    fn leaves(tree: &syn::UseTree, under_ack: bool, out: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(path) => leaves(
                &path.tree,
                under_ack || path.ident == codegen::ack::MODULE,
                out,
            ),
            syn::UseTree::Name(name) if !under_ack => out.push(name.ident.to_string()),
            syn::UseTree::Rename(rename) if !under_ack => out.push(rename.rename.to_string()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    leaves(tree, under_ack, out);
                }
            }
            _ => {}
        }
    }
    let file = syn::parse_file(source).expect("generated code parses");
    let mut names = Vec::new();
    for item in &file.items {
        if let syn::Item::Use(item) = item {
            leaves(&item.tree, false, &mut names);
        }
    }
    names
}

#[test]
fn every_imported_name_is_reserved() {
    let mut sources: Vec<(String, String)> = common::fixture_crds()
        .into_iter()
        .map(|(name, yaml)| (name, common::generate(&yaml).rust))
        .collect();
    sources.push(("ack".to_owned(), codegen::generate_shared()));
    let mut seen = std::collections::BTreeSet::new();
    for (name, source) in &sources {
        for imported in imported_names(source) {
            assert!(
                IMPORTED_NAMES.contains(&imported.as_str()),
                "{name} imports `{imported}`, which codegen::reserved::IMPORTED_NAMES does not list"
            );
            seen.insert(imported);
        }
    }
    assert!(seen.len() >= 10, "{seen:?}");
}
