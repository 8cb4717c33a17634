//! The README's table of components lists every generated component once, with the
//! launcher subcommand its command runs and exactly its inputs and outputs, in
//! component.yaml's order: a regenerated component that gains or loses one shows here.

mod common;

use std::collections::BTreeSet;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Component {
    inputs: Vec<Named>,
    outputs: Vec<Named>,
    implementation: Implementation,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Implementation {
    container: Container,
}

#[derive(Debug, Deserialize)]
struct Container {
    command: Vec<String>,
}

/// The backquoted words of a table cell, in order.
fn quoted(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_table_lists_every_component_with_its_inputs_and_outputs() {
    let root = common::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut listed = BTreeSet::new();
    for row in readme.lines().filter(|l| l.starts_with("| [`")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        assert!(cells.len() >= 3, "{row}");
        let names = quoted(cells[0]);
        let [module, subcommand] = names.as_slice() else {
            panic!("the first cell names the module and the subcommand: {row}")
        };
        let path = root.join(format!("generated/components/{module}/component.yaml"));
        let component: Component = serde_saphyr::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .expect("component.yaml");
        assert_eq!(
            component.implementation.container.command.get(1),
            Some(subcommand),
            "{module}"
        );
        let names = |list: &[Named]| list.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            quoted(cells[1]),
            names(&component.inputs),
            "{module}'s inputs"
        );
        assert_eq!(
            quoted(cells[2]),
            names(&component.outputs),
            "{module}'s outputs"
        );
        assert!(listed.insert(module.clone()), "{module} listed twice");
    }
    let generated: BTreeSet<String> = std::fs::read_dir(root.join("generated/components"))
        .expect("generated/components")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(listed, generated, "every generated component has a row");
}
