//! `fieldSelector` and `labelSelector` query parameters, reduced to what the apiserver allows
//! for custom resources: field selectors on `metadata.name` / `metadata.namespace` only
//! (`=`, `==`, `!=`), label selectors with equality, inequality and existence terms.

use serde_json::Value;

use crate::api_error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Eq(String, String),
    NotEq(String, String),
    Exists(String),
    NotExists(String),
}

/// A parsed pair of selectors; the default matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Selector {
    fields: Vec<Term>,
    labels: Vec<Term>,
}

impl Selector {
    /// Parses the two query parameters (either may be absent or empty).
    pub(crate) fn parse(field: Option<&str>, label: Option<&str>) -> Result<Selector, ApiError> {
        let mut fields = Vec::new();
        for term in split_terms(field.unwrap_or_default()) {
            let t = parse_term(term).ok_or_else(|| {
                ApiError::bad_request(format!("invalid field selector: {term:?}"))
            })?;
            let key = match &t {
                Term::Eq(k, _) | Term::NotEq(k, _) => k,
                Term::Exists(k) | Term::NotExists(k) => {
                    return Err(ApiError::bad_request(format!(
                        "invalid field selector: {k:?}: an operator is required"
                    )));
                }
            };
            if key != "metadata.name" && key != "metadata.namespace" {
                return Err(ApiError::bad_request(format!(
                    "Unable to find \"{key}\" in the field selector: field label not supported: {key}"
                )));
            }
            fields.push(t);
        }
        let mut labels = Vec::new();
        for term in split_terms(label.unwrap_or_default()) {
            labels.push(parse_term(term).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unable to parse requirement: unsupported label selector term {term:?}"
                ))
            })?);
        }
        Ok(Selector { fields, labels })
    }

    /// Whether the object satisfies every term.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.fields
            .iter()
            .all(|t| check(t, |k| field_value(obj, k)))
            && self
                .labels
                .iter()
                .all(|t| check(t, |k| label_value(obj, k)))
    }
}

fn field_value<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    match key {
        "metadata.name" => obj.pointer("/metadata/name").and_then(Value::as_str),
        "metadata.namespace" => obj.pointer("/metadata/namespace").and_then(Value::as_str),
        _ => None,
    }
}

fn label_value<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

fn check<'a>(t: &Term, get: impl Fn(&str) -> Option<&'a str>) -> bool {
    match t {
        Term::Eq(k, v) => get(k) == Some(v.as_str()),
        Term::NotEq(k, v) => get(k) != Some(v.as_str()),
        Term::Exists(k) => get(k).is_some(),
        Term::NotExists(k) => get(k).is_none(),
    }
}

fn split_terms(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty())
}

fn parse_term(term: &str) -> Option<Term> {
    let valid = |k: &str| !k.is_empty() && !k.contains([' ', '(', ')', '!', '=']);
    if let Some((k, v)) = term.split_once("!=") {
        return valid(k.trim()).then(|| Term::NotEq(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return valid(k.trim()).then(|| Term::Eq(k.trim().into(), v.trim().into()));
    }
    if let Some(k) = term.strip_prefix('!') {
        return valid(k).then(|| Term::NotExists(k.into()));
    }
    valid(term).then(|| Term::Exists(term.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_by_name_and_labels() {
        let obj = json!({"metadata": {"name": "a", "namespace": "ns", "labels": {"team": "ml"}}});
        assert!(
            Selector::parse(Some("metadata.name=a"), Some("team=ml,!gone"))
                .unwrap()
                .matches(&obj)
        );
        assert!(
            !Selector::parse(Some("metadata.name==b"), None)
                .unwrap()
                .matches(&obj)
        );
        assert!(
            !Selector::parse(None, Some("team!=ml"))
                .unwrap()
                .matches(&obj)
        );
        assert!(Selector::parse(Some("spec.x=1"), None).is_err());
        assert!(Selector::parse(None, Some("team in (ml)")).is_err());
    }
}
