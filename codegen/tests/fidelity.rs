//! Schema fidelity: for every CRD in the fixtures, the generated Rust has exactly one
//! field per schema property, with the JSON name, type, required-ness and format the
//! schema gives, and no field or type that no schema path accounts for.
//!
//! The check reads the schema straight from k8s-openapi's `JSONSchemaProps` and the
//! generated code by parsing it with syn, so it does not trust the generator's model.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use quote::ToTokens;

/// A struct or enum as generated: JSON name -> field, or the enum's JSON values.
#[derive(Debug)]
enum Item {
    Struct {
        fields: BTreeMap<String, FieldInfo>,
        deny_unknown_fields: bool,
    },
    Enum {
        values: BTreeSet<String>,
    },
}

#[derive(Debug)]
struct FieldInfo {
    optional: bool,
    /// The type inside `Option`, if any.
    ty: syn::Type,
}

fn serde_attrs(attrs: &[syn::Attribute]) -> (Option<String>, bool) {
    let (mut rename, mut deny) = (None, false);
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.path.is_ident("deny_unknown_fields") {
                deny = true;
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        })
        .expect("serde attributes parse");
    }
    (rename, deny)
}

/// The structs and enums of a generated module, with those it imports from the shared
/// `ack` module.
fn items(source: &str) -> BTreeMap<String, Item> {
    let mut items = BTreeMap::new();
    let mut shared = Vec::new();
    collect_items(source, &mut items, &mut shared);
    if !shared.is_empty() {
        let mut all_shared = BTreeMap::new();
        collect_items(
            &codegen::generate_shared(),
            &mut all_shared,
            &mut Vec::new(),
        );
        // The imported types and, transitively, the shared types their fields name.
        let mut pending = shared;
        while let Some(name) = pending.pop() {
            let Some(item) = all_shared.remove(&name) else {
                continue;
            };
            if let Item::Struct { fields, .. } = &item {
                for field in fields.values() {
                    let ty = field.ty.to_token_stream().to_string();
                    pending.extend(
                        ty.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .filter(|word| all_shared.contains_key(*word))
                            .map(str::to_owned),
                    );
                }
            }
            assert!(
                items.insert(name.clone(), item).is_none(),
                "{name} defined and imported"
            );
        }
    }
    items
}

/// Names imported by `use super::ack::...`.
fn ack_imports(tree: &syn::UseTree, under_ack: bool, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(path) => {
            let ack = path.ident == "ack";
            ack_imports(&path.tree, under_ack || ack, out);
        }
        syn::UseTree::Name(name) if under_ack => out.push(name.ident.to_string()),
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                ack_imports(tree, under_ack, out);
            }
        }
        _ => {}
    }
}

fn collect_items(source: &str, items: &mut BTreeMap<String, Item>, shared: &mut Vec<String>) {
    let file = syn::parse_file(source).expect("generated code parses");
    for item in file.items {
        match item {
            syn::Item::Use(item) => ack_imports(&item.tree, false, shared),
            syn::Item::Struct(s) => {
                let (_, deny_unknown_fields) = serde_attrs(&s.attrs);
                let mut fields = BTreeMap::new();
                for field in s.fields {
                    let ident = field.ident.expect("named fields").to_string();
                    let (rename, _) = serde_attrs(&field.attrs);
                    let json = rename.unwrap_or_else(|| ident.trim_start_matches("r#").to_owned());
                    let (optional, ty) = match generic("Option", &field.ty) {
                        Some(inner) => (true, inner),
                        None => (false, field.ty.clone()),
                    };
                    assert!(
                        fields
                            .insert(json.clone(), FieldInfo { optional, ty })
                            .is_none(),
                        "{}: JSON name {json} twice",
                        s.ident
                    );
                }
                items.insert(
                    s.ident.to_string(),
                    Item::Struct {
                        fields,
                        deny_unknown_fields,
                    },
                );
            }
            syn::Item::Enum(e) => {
                // The listed values are the unit variants; a status enum's `Other(String)`
                // holds the unlisted ones.
                let values = e
                    .variants
                    .iter()
                    .filter(|v| matches!(v.fields, syn::Fields::Unit))
                    .map(|v| {
                        serde_attrs(&v.attrs)
                            .0
                            .unwrap_or_else(|| v.ident.to_string())
                    })
                    .collect();
                items.insert(e.ident.to_string(), Item::Enum { values });
            }
            _ => {}
        }
    }
}

/// `T` if `ty` is `Name<T>`.
fn generic(name: &str, ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().rev().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

fn type_text(ty: &syn::Type) -> String {
    ty.to_token_stream().to_string().replace(' ', "")
}

struct Checker<'a> {
    items: &'a BTreeMap<String, Item>,
    visited: BTreeSet<String>,
    problems: Vec<String>,
    paths: usize,
}

impl Checker<'_> {
    fn object(&mut self, schema: &JSONSchemaProps, name: &str, path: &str, spec_side: bool) {
        self.visited.insert(name.to_owned());
        let Some(Item::Struct {
            fields,
            deny_unknown_fields,
        }) = self.items.get(name)
        else {
            self.problems.push(format!("{path}: no struct {name}"));
            return;
        };
        if *deny_unknown_fields != spec_side {
            self.problems.push(format!(
                "{path}: {name} deny_unknown_fields is {deny_unknown_fields}, spec side is {spec_side}"
            ));
        }
        let required: BTreeSet<&String> = schema.required.iter().flatten().collect();
        let properties = schema.properties.clone().unwrap_or_default();
        for json in fields.keys() {
            if !properties.contains_key(json) {
                self.problems.push(format!(
                    "{name}.{json}: generated field without a schema path"
                ));
            }
        }
        for (property, sub) in &properties {
            let sub_path = format!("{path}.{property}");
            self.paths += 1;
            let Some(field) = fields.get(property) else {
                self.problems
                    .push(format!("{sub_path}: no field in {name}"));
                continue;
            };
            if field.optional == required.contains(property) {
                self.problems.push(format!(
                    "{sub_path}: required is {}, but the field is {}",
                    required.contains(property),
                    if field.optional {
                        "an Option"
                    } else {
                        "not an Option"
                    }
                ));
            }
            self.value(sub, &field.ty, &sub_path, spec_side);
        }
    }

    fn value(&mut self, schema: &JSONSchemaProps, ty: &syn::Type, path: &str, spec_side: bool) {
        let text = type_text(ty);
        let expect = |this: &mut Self, wanted: &str| {
            if text != wanted {
                this.problems
                    .push(format!("{path}: expected {wanted}, generated {text}"));
            }
        };
        if schema.x_kubernetes_int_or_string == Some(true) {
            return expect(self, "IntOrString");
        }
        if schema.x_kubernetes_preserve_unknown_fields == Some(true) {
            return expect(self, "serde_json::Value");
        }
        match (schema.type_.as_deref(), schema.format.as_deref()) {
            (Some("string"), _) if schema.enum_.is_some() => {
                let wanted: BTreeSet<String> = schema
                    .enum_
                    .iter()
                    .flatten()
                    .filter_map(|v| v.0.as_str().map(str::to_owned))
                    .collect();
                match self.items.get(&text) {
                    Some(Item::Enum { values }) if *values == wanted => {
                        self.visited.insert(text);
                    }
                    other => self
                        .problems
                        .push(format!("{path}: enum {wanted:?}, generated {other:?}")),
                }
            }
            (Some("string"), Some("date-time")) => expect(self, "Time"),
            (Some("string"), _) => expect(self, "String"),
            (Some("integer"), Some("int32")) => expect(self, "i32"),
            (Some("integer"), _) => expect(self, "i64"),
            (Some("number"), _) => expect(self, "f64"),
            (Some("boolean"), _) => expect(self, "bool"),
            (Some("array"), _) => {
                let Some(inner) = generic("Vec", ty) else {
                    return expect(self, "Vec<..>");
                };
                match &schema.items {
                    Some(JSONSchemaPropsOrArray::Schema(items)) => {
                        self.paths += 1;
                        self.value(items, &inner, &format!("{path}[]"), spec_side)
                    }
                    _ => self
                        .problems
                        .push(format!("{path}: array without one items schema")),
                }
            }
            (Some("object") | None, _) => {
                let has_properties = schema.properties.as_ref().is_some_and(|p| !p.is_empty());
                match (&schema.additional_properties, has_properties) {
                    (_, true) => self.object(schema, &text, path, spec_side),
                    (Some(JSONSchemaPropsOrBool::Schema(values)), false) => {
                        match generic("BTreeMap", ty) {
                            Some(inner) if text.starts_with("BTreeMap<String,") => {
                                self.paths += 1;
                                self.value(values, &inner, &format!("{path}{{}}"), spec_side)
                            }
                            _ => expect(self, "BTreeMap<String, ..>"),
                        }
                    }
                    _ => expect(self, "serde_json::Value"),
                }
            }
            (Some(other), _) => self
                .problems
                .push(format!("{path}: unexpected type {other}")),
        }
    }
}

/// Checks one CRD; returns how many schema paths it compared.
fn check(file_name: &str, yaml: &str) -> usize {
    let crd: CustomResourceDefinition = serde_saphyr::from_str(yaml).expect("CRD parses");
    let version = crd
        .spec
        .versions
        .iter()
        .find(|v| v.storage)
        .expect("a storage version");
    let root = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("schema");
    let kind = &crd.spec.names.kind;
    let generated = common::generate(yaml);
    let items = items(&generated.rust);
    let mut checker = Checker {
        items: &items,
        visited: BTreeSet::new(),
        problems: Vec::new(),
        paths: 0,
    };
    let properties = root.properties.as_ref().expect("root properties");
    checker.object(&properties["spec"], &format!("{kind}Spec"), "spec", true);
    if let Some(status) = properties.get("status") {
        checker.object(status, &format!("{kind}Status"), "status", false);
    }
    let companions = [
        kind.clone(),
        format!("{kind}Inputs"),
        format!("{kind}OutputPaths"),
    ];
    for name in items.keys() {
        if !checker.visited.contains(name) && !companions.contains(name) {
            checker
                .problems
                .push(format!("type {name} has no schema path"));
        }
    }
    assert!(
        checker.problems.is_empty(),
        "{file_name}:\n{}",
        checker.problems.join("\n")
    );
    checker.paths
}

#[test]
fn every_fixture_crd_maps_one_to_one() {
    let mut crds = 0;
    let mut paths = 0;
    for (name, yaml) in common::fixture_crds() {
        let compared = check(&name, &yaml);
        if name.ends_with("v1.9.1/helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml") {
            // The CRD history in the reference notes counts 170 paths, `spec` and
            // `status` themselves included.
            assert_eq!(compared, 170 - 2, "{name}");
        }
        paths += compared;
        crds += 1;
    }
    // 20 CRDs of v0.4.2 and 26 of v1.9.1, 13 more TrainingJob releases, the synthetic two,
    // one of another controller.
    assert_eq!(crds, 20 + 26 + 13 + 2 + 1);
    println!("{crds} CRDs, {paths} schema paths compared");
    assert!(paths > 5_000, "only {paths} schema paths compared");
}

#[test]
fn the_checker_catches_a_wrong_field() {
    let yaml = std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/widgets.yaml"))
        .expect("fixture");
    let generated = common::generate(&yaml);
    let broken = generated
        .rust
        .replacen("pub replicas: i32", "pub replicas: i64", 1);
    assert_ne!(
        broken, generated.rust,
        "the fixture has the field this test breaks"
    );
    let items = items(&broken);
    let crd: CustomResourceDefinition = serde_saphyr::from_str(&yaml).expect("CRD parses");
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .unwrap()
        .open_api_v3_schema
        .as_ref()
        .unwrap();
    let mut checker = Checker {
        items: &items,
        visited: BTreeSet::new(),
        problems: Vec::new(),
        paths: 0,
    };
    checker.object(
        &schema.properties.as_ref().unwrap()["spec"],
        "WidgetSpec",
        "spec",
        true,
    );
    assert_eq!(
        checker.problems,
        ["spec.replicas: expected i32, generated i64"]
    );
}
