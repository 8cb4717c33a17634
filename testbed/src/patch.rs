//! The two patch formats the apiserver accepts for custom resources: JSON merge patch
//! (RFC 7386) and JSON patch (RFC 6902). Strategic merge and server-side apply are refused
//! by the router (415), as strategic merge is by a real server for custom resources.

use serde_json::Value;

/// Applies an RFC 7386 merge patch: objects merge recursively, `null` deletes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (k, v) in patch_map {
            if v.is_null() {
                map.remove(k);
            } else {
                merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Applies an RFC 6902 JSON patch, returning the patched document or why it does not apply.
pub(crate) fn json_patch(doc: &Value, ops: &Value) -> Result<Value, String> {
    let ops = ops
        .as_array()
        .ok_or("a JSON patch must be an array of operations")?;
    let mut doc = doc.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_op(&mut doc, op).map_err(|e| format!("operation {i}: {e}"))?;
    }
    Ok(doc)
}

fn apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let field = |k: &str| {
        op.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("missing string field {k:?}"))
    };
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| "missing field \"value\"".to_string())
    };
    let path = field("path")?;
    match field("op")? {
        "add" => add(doc, path, value()?),
        "remove" => remove(doc, path).map(drop),
        "replace" => {
            remove(doc, path)?;
            add(doc, path, value()?)
        }
        "move" => {
            let v = remove(doc, field("from")?)?;
            add(doc, path, v)
        }
        "copy" => {
            let v = doc
                .pointer(field("from")?)
                .cloned()
                .ok_or("\"from\" path does not exist")?;
            add(doc, path, v)
        }
        "test" => {
            if doc.pointer(path) == Some(&value()?) {
                Ok(())
            } else {
                Err(format!("test failed at {path}"))
            }
        }
        other => Err(format!("unknown operation {other:?}")),
    }
}

fn split(path: &str) -> Result<(String, String), String> {
    if path.is_empty() {
        return Err("cannot add or remove the document root".into());
    }
    let idx = path
        .rfind('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    let last = path[idx + 1..].replace("~1", "/").replace("~0", "~");
    Ok((path[..idx].to_string(), last))
}

fn add(doc: &mut Value, path: &str, v: Value) -> Result<(), String> {
    let (parent, key) = split(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(map)) => {
            map.insert(key, v);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let idx = if key == "-" {
                items.len()
            } else {
                key.parse::<usize>()
                    .map_err(|_| format!("bad array index {key:?}"))?
            };
            if idx > items.len() {
                return Err(format!("array index {idx} out of bounds"));
            }
            items.insert(idx, v);
            Ok(())
        }
        _ => Err(format!("path {parent:?} does not exist")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = split(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(map)) => map
            .remove(&key)
            .ok_or_else(|| format!("path {path:?} does not exist")),
        Some(Value::Array(items)) => {
            let idx = key
                .parse::<usize>()
                .map_err(|_| format!("bad array index {key:?}"))?;
            if idx < items.len() {
                Ok(items.remove(idx))
            } else {
                Err(format!("array index {idx} out of bounds"))
            }
        }
        _ => Err(format!("path {parent:?} does not exist")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut v, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(v, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn json_patch_ops() {
        let v = json!({"metadata": {"finalizers": ["a", "b"]}, "x": 1});
        let out = json_patch(
            &v,
            &json!([
                {"op": "test", "path": "/x", "value": 1},
                {"op": "remove", "path": "/metadata/finalizers/0"},
                {"op": "add", "path": "/metadata/finalizers/-", "value": "c"},
                {"op": "replace", "path": "/x", "value": 2},
                {"op": "copy", "from": "/x", "path": "/y"},
                {"op": "move", "from": "/y", "path": "/z"}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"finalizers": ["b", "c"]}, "x": 2, "z": 2})
        );
        assert!(json_patch(&v, &json!([{"op": "test", "path": "/x", "value": 9}])).is_err());
        assert!(json_patch(&v, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
