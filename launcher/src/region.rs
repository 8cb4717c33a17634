//! The `region` input: checked for the form of an AWS region before anything is sent, since
//! a controller given `us east 1` cannot reach SageMaker and the step would only fail after
//! the recoverable timeout.

/// Regions of the published partitions (aws, aws-cn, aws-us-gov, aws-iso*), for a
/// warning only: AWS adds regions, and a launcher older than one must not refuse it.
const KNOWN: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "eu-isoe-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "eusc-de-east-1",
];

/// `<area>-[<partition part>-]<direction>-<n>` in lower case: `us-west-2`, `us-gov-west-1`,
/// `cn-north-1`, `us-isob-east-1`.
pub fn check(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let well_formed = (3..=4).contains(&parts.len())
        && parts[..parts.len() - 1].iter().all(lower)
        && parts[0].len() >= 2
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
        && parts[parts.len() - 1].len() <= 2;
    if well_formed {
        Ok(())
    } else {
        let hint = if region.trim().is_empty() {
            ", got only white space".to_owned()
        } else if region.to_ascii_lowercase() != region {
            format!(
                ", got `{region}`; regions are lower case: `{}`?",
                region.to_ascii_lowercase()
            )
        } else {
            format!(", got `{region}`")
        };
        Err(format!(
            "expected an AWS region such as `us-west-2` (lower-case letters and digits joined by hyphens){hint}"
        ))
    }
}

/// A warning for a well-formed region that no published partition lists.
pub fn warning(region: &str) -> Option<String> {
    (!KNOWN.contains(&region)).then(|| {
        format!(
            "`{region}` is not a region this launcher knows; using it as given (AWS adds regions)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked_for_form_and_unknown_ones_only_warned_about() {
        for good in [
            "us-west-2",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "xx-moon-1",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in [
            "us east 1",
            "US-EAST-1",
            "",
            " ",
            "us-east",
            "us-east-1 ",
            "useast1",
            "-us-east-1",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert!(check("US-EAST-1").unwrap_err().contains("`us-east-1`?"));
        assert_eq!(warning("us-west-2"), None);
        assert!(warning("xx-moon-1").is_some());
    }
}
