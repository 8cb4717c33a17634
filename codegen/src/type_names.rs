//! The naming pass: Rust names for the model's types, decided for all of them at once.
//!
//! A type is named after the property it sits under, in PascalCase, singular for an
//! array's items (`tags[]` -> `Tag`) and with `Value` for a map's values. `spec` and
//! `status` themselves are `<Kind>Spec` and `<Kind>Status`. A type that an earlier pass
//! named (an ACK runtime type, [`crate::share`]) keeps its name.
//!
//! **Collisions.** When two types would get the same name, or a name the generated code
//! already uses ([`crate::reserved`]: `<Kind>`, `<Kind>Inputs`, `String`, `Time`, ...),
//! *every* type in the clash is qualified by its parent property, then its grandparent and
//! so on (`resourceConfig.instanceGroups[]` -> `ResourceConfigInstanceGroup`), until the
//! names differ; so is a name that would start with a digit (`spec.3d` -> `Spec3d`).
//! Qualifying all of them, not just the later one, keeps a name independent of the order
//! properties were visited in. Only if two full paths still spell the same name (`fooID`
//! and `fooId`) does the one later in path order get a number (`FooId2`).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{PathSegment, ResourceModel, SchemaPath};
use crate::naming;
use crate::reserved::{self, FixedNames};

/// Fills in the name of every type that has none yet.
pub fn assign(mut model: ResourceModel) -> ResourceModel {
    let fixed = FixedNames::of(&model.kind);
    let (spec, status) = (model.spec, model.status);
    let types = &mut model.types;
    types[spec.0].name.clone_from(&fixed.spec);
    if let Some(status) = status {
        types[status.0].name.clone_from(&fixed.status);
    }
    // Names an earlier pass gave (the ACK runtime's types, which the module imports) stay.
    let given: BTreeSet<String> = types
        .iter()
        .map(|t| t.name.clone())
        .filter(|name| !name.is_empty())
        .collect();
    let reserved = |name: &str| reserved::is_reserved(&fixed, name) || given.contains(name);

    let named: Vec<usize> = (0..types.len())
        .filter(|&i| types[i].name.is_empty())
        .collect();
    let parts: Vec<Vec<String>> = named.iter().map(|&i| name_parts(&types[i].path)).collect();
    let mut levels = vec![0_usize; named.len()];
    let candidate = |j: usize, level: usize| parts[j][parts[j].len() - 1 - level..].concat();

    loop {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (j, &level) in levels.iter().enumerate() {
            by_name.entry(candidate(j, level)).or_default().push(j);
        }
        let mut progressed = false;
        for (name, members) in &by_name {
            // A name must start with a letter (`spec.3d` -> `Spec3d`).
            let letter_first = name.starts_with(|c: char| c.is_ascii_alphabetic());
            if members.len() == 1 && !reserved(name) && letter_first {
                continue;
            }
            for &j in members {
                if levels[j] + 1 < parts[j].len() {
                    levels[j] += 1;
                    progressed = true;
                }
            }
        }
        if !progressed {
            break;
        }
    }

    // Whatever still clashes has run out of qualifiers: number it in path order.
    let mut order: Vec<usize> = (0..named.len()).collect();
    order.sort_by(|&a, &b| types[named[a]].path.cmp(&types[named[b]].path));
    let mut taken = BTreeSet::new();
    for j in order {
        let base = candidate(j, levels[j]);
        let mut name = base.clone();
        let mut n = 2;
        while reserved(&name) || !taken.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        types[named[j]].name = name;
    }
    model
}

/// One PascalCase word group per property on the path, outermost first:
/// `spec.inputDataConfig[].dataSource` -> `Spec`, `InputDataConfig`, `DataSource`.
fn name_parts(path: &SchemaPath) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut last_property = String::new();
    for segment in &path.0 {
        match segment {
            PathSegment::Property(name) => {
                last_property = name.clone();
                parts.push(naming::pascal_case(name));
            }
            PathSegment::Items => {
                match parts.last_mut() {
                    // An array's items are named for it, in the singular.
                    Some(last) if !last_property.is_empty() => {
                        *last = naming::pascal_case(&naming::singular(&last_property));
                    }
                    // The items of an array of arrays.
                    Some(last) => last.push_str("Item"),
                    None => parts.push("Item".to_owned()),
                }
                last_property.clear();
            }
            PathSegment::Values => match parts.last_mut() {
                Some(last) => last.push_str("Value"),
                None => parts.push("Value".to_owned()),
            },
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ObjectType, Side, TypeDef, TypeId, TypeKind};

    fn path(text: &str) -> SchemaPath {
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (name, suffix) = part.split_at(part.find(['[', '{']).unwrap_or(part.len()));
            segments.push(PathSegment::Property(name.to_owned()));
            for marker in suffix.split_inclusive([']', '}']) {
                segments.push(if marker == "[]" {
                    PathSegment::Items
                } else {
                    PathSegment::Values
                });
            }
        }
        SchemaPath(segments)
    }

    fn names(paths: &[&str]) -> Vec<String> {
        let types: Vec<TypeDef> = ["spec", "status"]
            .iter()
            .chain(paths)
            .map(|p| TypeDef {
                name: String::new(),
                path: path(p),
                side: Side::Spec,
                description: None,
                kind: TypeKind::Object(ObjectType { fields: vec![] }),
                shared: false,
            })
            .collect();
        let model = ResourceModel {
            crd_name: "jobs.example.com".to_owned(),
            group: "example.com".to_owned(),
            version: "v1".to_owned(),
            kind: "Job".to_owned(),
            plural: "jobs".to_owned(),
            namespaced: true,
            description: None,
            spec: TypeId(0),
            status: Some(TypeId(1)),
            types,
        };
        assign(model).types.into_iter().map(|t| t.name).collect()
    }

    #[test]
    fn leaf_names_when_unique() {
        assert_eq!(
            names(&[
                "spec.tags[]",
                "spec.vpcConfig",
                "spec.inputDataConfig[].dataSource"
            ]),
            ["JobSpec", "JobStatus", "Tag", "VpcConfig", "DataSource"]
        );
    }

    #[test]
    fn every_clashing_type_is_qualified() {
        assert_eq!(
            names(&["spec.a.config", "spec.b.config", "spec.c"]),
            ["JobSpec", "JobStatus", "AConfig", "BConfig", "C"]
        );
        // The same names whatever the order the types were found in.
        assert_eq!(
            names(&["spec.c", "spec.b.config", "spec.a.config"]),
            ["JobSpec", "JobStatus", "C", "BConfig", "AConfig"]
        );
    }

    #[test]
    fn reserved_names_are_avoided() {
        assert_eq!(
            names(&["spec.time", "status.jobSpec", "spec.strings[]"]),
            [
                "JobSpec",
                "JobStatus",
                "SpecTime",
                "StatusJobSpec",
                "SpecString"
            ]
        );
    }

    #[test]
    fn map_values_and_nested_arrays() {
        assert_eq!(
            names(&["spec.labels{}", "spec.matrix[][]"]),
            ["JobSpec", "JobStatus", "LabelsValue", "MatrixItem"]
        );
    }

    #[test]
    fn digit_first_names_take_their_parents() {
        assert_eq!(
            names(&["spec.3d", "spec.a.2x"]),
            ["JobSpec", "JobStatus", "Spec3d", "A2x"]
        );
    }

    #[test]
    fn identical_full_paths_get_numbers() {
        assert_eq!(
            names(&["spec.fooID", "spec.fooId"]),
            ["JobSpec", "JobStatus", "SpecFooId", "SpecFooId2"]
        );
    }
}
