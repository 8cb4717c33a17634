//! Rust and KFP names from CRD property names.
//!
//! ACK property names are lowerCamelCase with acronyms kept upper case (`roleARN`,
//! `securityGroupIDs`, `volumeKMSKeyID`, `s3URI`). Splitting them into words must keep an
//! acronym whole, including its plural `s`, so that `securityGroupIDs` becomes
//! `security_group_ids` and not `security_group_i_ds`.
//!
//! **Names that are not identifiers.** Only ASCII letters and digits make words; every
//! other character (`-`, `.`, `/`, spaces, non-ASCII letters) separates them: `x-amz-target`
//! -> `x_amz_target`, `größe` -> `gr_e`. A name that starts with a digit gets a leading `_`
//! as a field (`3d` -> `_3d`) and its parent's name as a type (`spec.3d` -> `Spec3d`). A
//! name with no ASCII letter or digit at all (``, `-`, `日本`) has nothing to build a name
//! from: [`field_ident`] refuses it and the generator reports its schema path. Names that
//! meet after this (`a.b`, `a-b`) are numbered (`a_b`, `a_b_2`).

/// Splits a property name into words: `volumeKMSKeyID` -> `volume`, `KMS`, `Key`, `ID`.
///
/// Digits stay with the word before them (`s3URI` -> `s3`, `URI`); every character but an
/// ASCII letter or digit separates words.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii_alphanumeric() {
            flush(&mut words, &mut current);
            i += 1;
            continue;
        }
        if c.is_ascii_uppercase() {
            let prev = current.chars().last();
            let starts_word = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if starts_word {
                flush(&mut words, &mut current);
            } else if prev.is_some_and(|p| p.is_ascii_uppercase()) {
                // Inside an upper-case run: `KMSKey` splits before `Key`, but an acronym's
                // plural (`IDs`, `ARNs` at the end or before the next word) stays whole.
                let next = chars.get(i + 1).copied();
                let after = chars.get(i + 2).copied();
                let next_lower = next.is_some_and(|n| n.is_ascii_lowercase());
                let plural_s = next == Some('s') && after.is_none_or(|a| !a.is_ascii_lowercase());
                if next_lower && !plural_s {
                    flush(&mut words, &mut current);
                }
            }
        }
        current.push(c);
        i += 1;
    }
    flush(&mut words, &mut current);
    words
}

fn flush(words: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

/// `roleARN` -> `role_arn`.
pub fn snake_case(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// `vpcConfig` -> `VpcConfig`, `s3DataSource` -> `S3DataSource`, `KMSKeyID` -> `KmsKeyId`.
pub fn pascal_case(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| capitalize(&w.to_lowercase()))
        .collect()
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The singular of the last word of a property name, for an array's item type:
/// `tags` -> `tag`, `ruleEvaluationStatuses` -> `ruleEvaluationStatus`,
/// `securityGroupIDs` -> `securityGroupID`. Words without a plural ending stay as they are.
pub fn singular(name: &str) -> String {
    let mut words = words(name);
    let Some(last) = words.pop() else {
        return name.to_owned();
    };
    let lower = last.to_lowercase();
    let cut = if lower.ends_with("ies") && lower.len() > 4 {
        words.push(format!("{}y", &last[..last.len() - 3]));
        None
    } else if lower.ends_with("sses")
        || lower.ends_with("uses")
        || lower.ends_with("xes")
        || lower.ends_with("ches")
        || lower.ends_with("shes")
    {
        Some(2)
    } else if lower.ends_with('s')
        && !lower.ends_with("ss")
        && !lower.ends_with("us")
        && !lower.ends_with("is")
        && lower.len() > 2
    {
        Some(1)
    } else {
        Some(0)
    };
    if let Some(cut) = cut {
        words.push(last[..last.len() - cut].to_owned());
    }
    // Re-join as lowerCamelCase-ish text; callers only ever case it again.
    words.iter().map(|w| capitalize(w)).collect()
}

/// The module name of each resource, from its API group and kind: the kind in snake_case
/// (`TrainingJob` -> `training_job`), qualified by the group's service (the first label,
/// `s3.services.k8s.aws` -> `s3_bucket`) for every kind whose name another resource in the
/// list, of another controller, shares, or that would be a module the crate has already
/// (`reserved`, e.g. `ack`). All clashing kinds are qualified, so a name does not depend on
/// the order resources are listed in.
pub fn module_names(resources: &[(&str, &str)], reserved: &[&str]) -> Vec<String> {
    let bases: Vec<String> = resources.iter().map(|(_, kind)| snake_case(kind)).collect();
    resources
        .iter()
        .zip(&bases)
        .map(|((group, _), base)| {
            let clashes = bases.iter().filter(|b| *b == base).count() > 1
                || reserved.contains(&base.as_str());
            if clashes {
                let service = group.split('.').next().unwrap_or_default();
                format!("{}_{base}", snake_case(service))
            } else {
                base.clone()
            }
        })
        .collect()
}

/// Rust keywords that cannot be field names as they are.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// Keywords that not even a raw identifier can spell.
const UNRAWABLE: &[&str] = &["self", "Self", "super", "crate", "_"];

/// A Rust field identifier for a property, as the text `syn` parses: `type` -> `r#type`,
/// `self` -> `self_`, `3d` -> `_3d`; `None` for a name with no ASCII letter or digit.
pub fn field_ident(json_name: &str) -> Option<String> {
    let mut snake = snake_case(json_name);
    if snake.is_empty() {
        return None;
    }
    if snake.starts_with(|c: char| c.is_ascii_digit()) {
        snake.insert(0, '_');
    }
    if UNRAWABLE.contains(&snake.as_str()) {
        snake.push('_');
    } else if KEYWORDS.contains(&snake.as_str()) {
        snake.insert_str(0, "r#");
    }
    Some(snake)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keeps_acronyms_whole() {
        for (json, rust) in [
            ("roleARN", "role_arn"),
            ("securityGroupIDs", "security_group_ids"),
            ("s3URI", "s3_uri"),
            ("volumeKMSKeyID", "volume_kms_key_id"),
            (
                "enableInterContainerTrafficEncryption",
                "enable_inter_container_traffic_encryption",
            ),
            ("s3DataSource", "s3_data_source"),
            ("volumeSizeInGB", "volume_size_in_gb"),
            ("kmsKeyID", "kms_key_id"),
            ("subnets", "subnets"),
            ("hyperParameters", "hyper_parameters"),
            ("tensorBoardOutputConfig", "tensor_board_output_config"),
            ("ackResourceMetadata", "ack_resource_metadata"),
            ("ownerAccountID", "owner_account_id"),
            ("instanceGroupNames", "instance_group_names"),
            ("ruleEvaluationJobARN", "rule_evaluation_job_arn"),
            (
                "enableSageMakerMetricsTimeSeries",
                "enable_sage_maker_metrics_time_series",
            ),
            ("ARNs", "arns"),
            ("dataCaptureConfig", "data_capture_config"),
            ("HTTPHeaders", "http_headers"),
            ("x-amz-target", "x_amz_target"),
        ] {
            assert_eq!(snake_case(json), rust, "{json}");
        }
    }

    #[test]
    fn pascal_case_treats_acronyms_as_words() {
        assert_eq!(pascal_case("vpcConfig"), "VpcConfig");
        assert_eq!(pascal_case("s3DataSource"), "S3DataSource");
        assert_eq!(pascal_case("KMSKeyID"), "KmsKeyId");
        assert_eq!(pascal_case("securityGroupIDs"), "SecurityGroupIds");
    }

    #[test]
    fn singular_of_item_types() {
        assert_eq!(pascal_case(&singular("tags")), "Tag");
        assert_eq!(
            pascal_case(&singular("ruleEvaluationStatuses")),
            "RuleEvaluationStatus"
        );
        assert_eq!(pascal_case(&singular("policies")), "Policy");
        assert_eq!(
            pascal_case(&singular("securityGroupIDs")),
            "SecurityGroupId"
        );
        assert_eq!(pascal_case(&singular("inputDataConfig")), "InputDataConfig");
        assert_eq!(pascal_case(&singular("status")), "Status");
        assert_eq!(pascal_case(&singular("addresses")), "Address");
        assert_eq!(
            pascal_case(&singular("metricDefinitions")),
            "MetricDefinition"
        );
    }

    #[test]
    fn kinds_of_the_same_name_are_qualified_by_their_service() {
        let resources = [
            ("sagemaker.services.k8s.aws", "TrainingJob"),
            ("s3.services.k8s.aws", "Bucket"),
            ("s3control.services.k8s.aws", "Bucket"),
            ("example.services.k8s.aws", "Ack"),
        ];
        assert_eq!(
            module_names(&resources, &["ack"]),
            [
                "training_job",
                "s3_bucket",
                "s3control_bucket",
                "example_ack"
            ]
        );
    }

    #[test]
    fn field_idents_are_valid_rust() {
        for (json, rust) in [
            ("type", "r#type"),
            ("self", "self_"),
            ("3d", "_3d"),
            ("roleARN", "role_arn"),
            ("größe", "gr_e"),
            ("a.b", "a_b"),
            ("x-y", "x_y"),
            ("ÄrgerID", "rger_id"),
        ] {
            let ident = field_ident(json).expect(json);
            assert_eq!(ident, rust, "{json}");
            syn::parse_str::<syn::Ident>(&ident).expect(json);
        }
        for nothing in ["", "-", "日本", "..."] {
            assert_eq!(field_ident(nothing), None, "{nothing:?}");
        }
    }
}
