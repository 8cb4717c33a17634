//! Every generated resource type judged by its CRD's own openAPIV3Schema alone: instances
//! are built by walking the schema's JSON (not the generator's model), validated with a
//! JSON Schema validator (`jsonschema`), and read and written by the generated types.
//!
//! For every CRD the conformance crate compiles ([`conformance::RESOURCES`]):
//! - a maximal instance (every property, a valid value of its type, format and enum) is
//!   valid and survives a round trip through the types unchanged: every property has a
//!   field of the right JSON name whose type holds its value;
//! - an instance of only the required properties the types read too (nothing the schema
//!   leaves optional is required);
//! - without a required spec property (at any depth), schema and types both reject it;
//! - a value of the wrong JSON type for any spec property, schema and types both reject
//!   (the schema not for int-or-string, which draft 4 cannot say);
//! - an unknown field in any spec object the types reject; one in status they accept.

use std::path::Path;

use serde_json::{Map, Value, json};

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The CRD's group, storage version, kind and storage version's openAPIV3Schema.
fn storage_schema(crd_path: &str) -> (String, String, Value) {
    let crd: Value = serde_saphyr::from_str(&repo_file(crd_path)).expect("CRD is YAML");
    let version = crd["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["storage"] == json!(true)))
        .expect("a storage version");
    let api_version = format!(
        "{}/{}",
        crd["spec"]["group"].as_str().expect("a group"),
        version["name"].as_str().expect("a version name")
    );
    let kind = crd["spec"]["names"]["kind"].as_str().expect("a kind");
    (
        api_version,
        kind.to_owned(),
        version["schema"]["openAPIV3Schema"].clone(),
    )
}

/// A JSON pointer step (`~` and `/` escaped).
fn step(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Arbitrary JSON, for fields that keep whatever they are given.
fn arbitrary() -> Value {
    json!({"anything": [1, "two", {"three": null, "four": 4.5}]})
}

/// A valid value of `schema` with every property present, arrays of one item and maps of
/// one entry.
fn maximal(schema: &Value) -> Value {
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    if schema["x-kubernetes-int-or-string"] == json!(true) {
        return json!("25%");
    }
    match schema["type"].as_str() {
        Some("string") => match schema["format"].as_str() {
            Some("date-time") => json!("2024-05-06T07:08:09Z"),
            Some("byte") => json!("aGVsbG8="),
            _ => json!("some text"),
        },
        // An int32 that fits, an int64 (the Kubernetes default) that needs 64 bits.
        Some("integer") if schema["format"] == json!("int32") => json!(2_000_000_000),
        Some("integer") => json!(5_000_000_000_i64),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        Some("array") => json!([maximal(&schema["items"])]),
        _ => {
            let mut object = Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    object.insert(name.clone(), maximal(property));
                }
            } else if schema["additionalProperties"].is_object() {
                object.insert(
                    "some-key".to_owned(),
                    maximal(&schema["additionalProperties"]),
                );
            } else if schema["x-kubernetes-preserve-unknown-fields"] == json!(true) {
                return arbitrary();
            }
            Value::Object(object)
        }
    }
}

/// A valid value of `schema` with only its required properties (at every depth).
fn minimal(schema: &Value) -> Value {
    if schema["type"] == json!("array") {
        return json!([]);
    }
    let Some(properties) = schema["properties"].as_object() else {
        return maximal(schema);
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    Value::Object(
        properties
            .iter()
            .filter(|(name, _)| required.contains(&name.as_str()))
            .map(|(name, property)| (name.clone(), minimal(property)))
            .collect(),
    )
}

/// What one schema walk found in an instance, by JSON pointer.
#[derive(Default)]
struct Paths {
    /// Every schema node the maximal instance has a value for.
    all: Vec<String>,
    /// Required properties under `spec`.
    required: Vec<String>,
    /// Properties under `spec` with a value of a definite JSON type, and one of another.
    wrong_type: Vec<(String, Value)>,
    /// Objects with fixed properties (under `spec`, or `status` itself).
    closed_objects: Vec<String>,
}

/// A value of a JSON type `schema` does not allow, if it has one type.
fn wrong_type(schema: &Value) -> Option<Value> {
    if schema["x-kubernetes-int-or-string"] == json!(true) {
        return Some(json!(true));
    }
    match schema["type"].as_str()? {
        "string" => Some(json!(12)),
        "integer" | "number" | "boolean" => Some(json!("not this type")),
        "array" => Some(json!({"not": "a list"})),
        // Not a list: serde's derived structs also read a list of their fields in order
        // (`[value, ...]`), which the schema rejects; that leniency is not judged here.
        // Nor for an object the schema says nothing about: its type holds any JSON.
        "object"
            if schema["x-kubernetes-preserve-unknown-fields"] != json!(true)
                && (schema["properties"].is_object()
                    || schema["additionalProperties"].is_object()) =>
        {
            Some(json!("not an object"))
        }
        _ => None,
    }
}

fn walk(schema: &Value, pointer: &str, paths: &mut Paths) {
    paths.all.push(pointer.to_owned());
    let in_spec = pointer.starts_with("/spec");
    if in_spec
        && pointer != "/spec"
        && let Some(wrong) = wrong_type(schema)
    {
        paths.wrong_type.push((pointer.to_owned(), wrong));
    }
    if schema["type"] == json!("array") {
        walk(&schema["items"], &format!("{pointer}/0"), paths);
    } else if let Some(properties) = schema["properties"].as_object() {
        if (in_spec || pointer == "/status")
            && schema["x-kubernetes-preserve-unknown-fields"] != json!(true)
        {
            paths.closed_objects.push(pointer.to_owned());
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().expect("required names are strings");
            if in_spec || pointer.is_empty() && name == "spec" {
                paths.required.push(step(pointer, name));
            }
        }
        for (name, property) in properties {
            // Kubernetes' own metadata is k8s-openapi's ObjectMeta, not the CRD's to judge.
            if !(pointer.is_empty() && ["apiVersion", "kind", "metadata"].contains(&&**name)) {
                walk(property, &step(pointer, name), paths);
            }
        }
    } else if schema["additionalProperties"].is_object() {
        walk(
            &schema["additionalProperties"],
            &step(pointer, "some-key"),
            paths,
        );
    }
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The schema of the value at `pointer` (one of the walk's).
fn schema_at<'a>(schema: &'a Value, pointer: &str) -> &'a Value {
    let mut node = schema;
    for key in pointer.split('/').skip(1) {
        node = if node["type"] == json!("array") {
            &node["items"]
        } else if node["properties"].is_object() {
            &node["properties"][key.replace("~1", "/").replace("~0", "~")]
        } else {
            &node["additionalProperties"]
        };
    }
    node
}

/// `pointer`'s parent and last key (unescaped).
fn split(pointer: &str) -> (&str, String) {
    let (parent, last) = pointer.rsplit_once('/').expect("a pointer below the root");
    (parent, last.replace("~1", "/").replace("~0", "~"))
}

#[test]
fn every_crd_judged_by_instances_of_its_own_schema() {
    let (mut crds, mut paths_covered, mut required, mut wrong, mut closed) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for &(crd_path, round_trip) in conformance::RESOURCES {
        crds += 1;
        let (api_version, kind, schema) = storage_schema(crd_path);
        // The API server's structural schemas are the draft 4 subset OpenAPI 3.0 uses.
        let validator = jsonschema::draft4::new(&schema).expect("the CRD's schema compiles");
        let mut instance = maximal(&schema);
        instance["apiVersion"] = json!(api_version);
        instance["kind"] = json!(kind);
        instance["metadata"] = json!({"name": "instance"});
        let mut paths = Paths::default();
        walk(&schema, "", &mut paths);
        paths_covered += paths.all.len();
        let mut fail = |what: String| failures.push(format!("{crd_path} ({kind}): {what}"));

        // (1) and (2): valid, and read and written back unchanged.
        let invalid = errors(&validator, &instance);
        if !invalid.is_empty() {
            fail(format!("the maximal instance is invalid: {invalid:?}"));
        }
        match round_trip(instance.clone()) {
            Err(e) => fail(format!("the types reject the maximal instance: {e}")),
            Ok(written) if written != instance => {
                for path in &paths.all {
                    if written.pointer(path) != instance.pointer(path) {
                        fail(format!(
                            "{path} changes in a round trip: {:?} becomes {:?}",
                            instance.pointer(path),
                            written.pointer(path)
                        ));
                    }
                }
                fail("the round trip changes the instance".to_owned());
            }
            Ok(_) => {}
        }

        // Every property the schema leaves optional, the types do too.
        let mut bare = minimal(&schema);
        bare["apiVersion"] = json!(instance["apiVersion"]);
        bare["kind"] = json!(instance["kind"]);
        bare["metadata"] = json!({"name": "instance"});
        // The types' spec is never optional, whether or not the schema requires it.
        bare["spec"] = minimal(&schema["properties"]["spec"]);
        let invalid = errors(&validator, &bare);
        if !invalid.is_empty() {
            fail(format!("the minimal instance is invalid: {invalid:?}"));
        }
        if let Err(e) = round_trip(bare) {
            fail(format!("the types reject the minimal instance: {e}"));
        }

        // (3): a required property left out.
        for path in &paths.required {
            required += 1;
            let mut value = instance.clone();
            let (parent, name) = split(path);
            value
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .map(|object| object.remove(&name));
            if errors(&validator, &value).is_empty() {
                fail(format!("the schema accepts {path} left out"));
            }
            if round_trip(value).is_ok() {
                fail(format!("the types accept {path} left out"));
            }
        }

        // (4): a value of the wrong JSON type.
        for (path, wrong_value) in &paths.wrong_type {
            wrong += 1;
            let mut value = instance.clone();
            *value.pointer_mut(path).expect("the walk's pointers exist") = wrong_value.clone();
            // Draft 4 knows no `x-kubernetes-int-or-string` (the API server checks it).
            let int_or_string =
                schema_at(&schema, path)["x-kubernetes-int-or-string"] == json!(true);
            if !int_or_string && errors(&validator, &value).is_empty() {
                fail(format!("the schema accepts {wrong_value} at {path}"));
            }
            if round_trip(value).is_ok() {
                fail(format!("the types accept {wrong_value} at {path}"));
            }
        }

        // (5): unknown fields, denied in spec, kept out of the way in status.
        for path in &paths.closed_objects {
            closed += 1;
            let mut value = instance.clone();
            value
                .pointer_mut(path)
                .and_then(Value::as_object_mut)
                .expect("the walk's pointers exist")
                .insert("fieldNoSchemaHas".to_owned(), json!(1));
            let read = round_trip(value);
            if path.starts_with("/spec") && read.is_ok() {
                fail(format!("the types accept an unknown field in {path}"));
            } else if path == "/status"
                && let Err(e) = read
            {
                fail(format!("the types reject an unknown field in status: {e}"));
            }
        }
    }
    println!(
        "{crds} CRDs, {paths_covered} schema paths; {required} required spec properties left \
         out, {wrong} spec values of a wrong type, unknown fields in {closed} objects"
    );
    assert!(crds > 0 && paths_covered > crds, "nothing was judged");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
