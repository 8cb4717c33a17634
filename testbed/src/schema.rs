//! Validation and pruning of custom resource bodies against a structural `openAPIV3Schema`,
//! the way the apiextensions apiserver does it: unknown fields are dropped silently, type,
//! `required`, `enum` and `format: date-time` violations become field causes of a 422.
//!
//! Supported keywords: `type`, `properties`, `required`, `items`, `additionalProperties`,
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string`, `nullable`, `enum`,
//! `format: date-time`. Others (patterns, min/max, CEL rules) are ignored.

use serde_json::{Map, Value};

use crate::api_error::Cause;

/// The Go-style name of a JSON value's type, as used in the apiserver's messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(path: &str, expected: &str, v: &Value) -> Cause {
    let actual = type_name(v);
    Cause {
        reason: "FieldValueTypeInvalid",
        message: format!(
            "Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""
        ),
        field: path.to_string(),
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Validates `value` at `path` against `schema`, pruning unknown fields in place and pushing
/// one cause per violation. An integral float (`3600.0`) for an `integer` is normalised to an
/// integer, as the apiserver's JSON decoding does.
pub(crate) fn validate_and_prune(
    schema: &Value,
    value: &mut Value,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            causes.push(type_error(path, t, value));
        }
        return;
    }
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    if int_or_string {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            causes.push(type_error(path, "integer,string", value));
        }
        return;
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            "integer" => normalise_integer(value),
            _ => true,
        };
        if !ok {
            causes.push(type_error(path, t, value));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        causes.push(Cause {
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
            field: path.to_string(),
        });
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Some(s) = value.as_str()
        && !crate::clock::is_rfc3339(s)
    {
        causes.push(Cause::invalid(
            path,
            &format!("{value}"),
            &format!("{path} in body must be of type date-time: {value}"),
        ));
    }
    match value {
        Value::Object(map) => validate_object(schema, map, path, causes),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    validate_and_prune(item_schema, item, &format!("{path}[{i}]"), causes);
                }
            }
        }
        _ => {}
    }
}

fn normalise_integer(value: &mut Value) -> bool {
    if value.is_i64() || value.is_u64() {
        return true;
    }
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            // Whole-valued floats are accepted and stored as integers (f is exactly representable).
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i64;
            *value = Value::from(i);
            true
        }
        _ => false,
    }
}

fn validate_object(
    schema: &Map<String, Value>,
    map: &mut Map<String, Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let field_path = child(path, &key);
        if let Some(prop) = properties.and_then(|p| p.get(&key)) {
            if let Some(v) = map.get_mut(&key) {
                validate_and_prune(prop, v, &field_path, causes);
            }
        } else if let Some(add) = additional.filter(|a| a.is_object()) {
            if let Some(v) = map.get_mut(&key) {
                validate_and_prune(add, v, &field_path, causes);
            }
        } else if !(preserve || additional == Some(&Value::Bool(true))) {
            map.remove(&key);
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                causes.push(Cause::required(&child(path, r)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "required": ["a"], "properties": {
            "a": {"type": "integer"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "mode": {"type": "string", "enum": ["File", "Pipe"]}
        }})
    }

    #[test]
    fn prunes_unknown_fields_and_keeps_preserved_ones() {
        let mut v = json!({"a": 1, "zzz": true, "list": [{"k": "x", "extra": 1}], "free": {"any": 1}, "tags": {"t": "v"}});
        let mut causes = vec![];
        validate_and_prune(&schema(), &mut v, "spec", &mut causes);
        assert!(causes.is_empty(), "{causes:?}");
        assert_eq!(
            v,
            json!({"a": 1, "list": [{"k": "x"}], "free": {"any": 1}, "tags": {"t": "v"}})
        );
    }

    #[test]
    fn reports_types_required_and_enum_with_paths() {
        let mut v = json!({"list": [{"k": 5}], "tags": {"t": 1}, "mode": "Stream"});
        let mut causes = vec![];
        validate_and_prune(&schema(), &mut v, "spec", &mut causes);
        let fields: Vec<(&str, &str)> = causes
            .iter()
            .map(|c| (c.field.as_str(), c.reason))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("spec.list[0].k", "FieldValueTypeInvalid"),
                ("spec.mode", "FieldValueNotSupported"),
                ("spec.tags.t", "FieldValueTypeInvalid"),
                ("spec.a", "FieldValueRequired"),
            ]
        );
        assert_eq!(
            causes[0].message,
            "Invalid value: \"integer\": spec.list[0].k in body must be of type string: \"integer\""
        );
    }

    #[test]
    fn whole_floats_become_integers_and_fractions_fail() {
        let mut v = json!({"a": 3600.0});
        let mut causes = vec![];
        validate_and_prune(&schema(), &mut v, "spec", &mut causes);
        assert!(causes.is_empty());
        assert_eq!(v, json!({"a": 3600}));
        let mut v = json!({"a": 1.5});
        validate_and_prune(&schema(), &mut v, "spec", &mut causes);
        assert_eq!(causes.len(), 1);
    }
}
