//! Amazon Web Services discoveries: `ec2`, `lightsail`, `ecs`,
//! `elasticache`, `msk`, `rds`, and the role-based `aws_sd_configs` that
//! stands for any of them. pharos cannot run these yet.

use std::time::Duration;

use super::{yaml_struct, SdConfig};
use crate::http_client::HttpClientConfig;
use crate::secret::Secret;
use crate::validate::{invalid, Check};

yaml_struct! {
    /// An EC2/RDS filter: `name` and the `values` it may take.
    pub struct AwsFilter {
        name: String = String::new(),
        values: Vec<String> = Vec::new(),
    }
}

/// Defines one AWS discovery: the fields they all share plus its own.
macro_rules! aws_sd {
    ($(#[$meta:meta])* $name:ident, $key:literal, concurrency: $conc:expr, { $($extra:tt)* }) => {
        yaml_struct! {
            $(#[$meta])*
            pub struct $name {
                endpoint: String = String::new(),
                region: String = String::new(),
                access_key: String = String::new(),
                secret_key: Secret = Secret::default(),
                profile: String = String::new(),
                role_arn: String = String::new(),
                external_id: String = String::new(),
                #[serde(with = "crate::values::duration")]
                refresh_interval: Duration = Duration::from_secs(60),
                port: u16 = 80,
                request_concurrency: u32 = $conc,
                #[serde(rename = "$inline_http")]
                http: HttpClientConfig = HttpClientConfig::default(),
                $($extra)*
            }
        }

        impl SdConfig for $name {
            const KEY: &'static str = $key;
            const SUPPORTED: bool = false;
            fn validate(&mut self) -> Check {
                self.check_own()?;
                self.http.validate()
            }
            fn set_directory(&mut self, dir: &std::path::Path) {
                self.http.set_directory(dir);
            }
        }
    };
}

fn check_filters(filters: &[AwsFilter]) -> Check {
    for (i, f) in filters.iter().enumerate() {
        if f.values.is_empty() {
            return Err(
                invalid("EC2 SD configuration filter values cannot be empty")
                    .at_index(i)
                    .at("filters"),
            );
        }
    }
    Ok(())
}

aws_sd!(
    /// `ec2_sd_configs`.
    Ec2SdConfig, "ec2_sd_configs", concurrency: 0, {
        filters: Vec<AwsFilter> = Vec::new(),
    }
);
aws_sd!(
    /// `lightsail_sd_configs`.
    LightsailSdConfig, "lightsail_sd_configs", concurrency: 0, {}
);
aws_sd!(
    /// `ecs_sd_configs`.
    EcsSdConfig, "ecs_sd_configs", concurrency: 20, {
        clusters: Vec<String> = Vec::new(),
    }
);
aws_sd!(
    /// `elasticache_sd_configs`.
    ElasticacheSdConfig, "elasticache_sd_configs", concurrency: 10, {
        clusters: Vec<String> = Vec::new(),
    }
);
aws_sd!(
    /// `msk_sd_configs`.
    MskSdConfig, "msk_sd_configs", concurrency: 10, {
        clusters: Vec<String> = Vec::new(),
    }
);
aws_sd!(
    /// `rds_sd_configs`.
    RdsSdConfig, "rds_sd_configs", concurrency: 10, {
        clusters: Vec<String> = Vec::new(),
        filters: Vec<AwsFilter> = Vec::new(),
    }
);
aws_sd!(
    /// `aws_sd_configs`: one of the AWS discoveries chosen by `role`.
    AwsSdConfig, "aws_sd_configs", concurrency: 0, {
        role: String = String::new(),
        filters: Vec<AwsFilter> = Vec::new(),
        clusters: Vec<String> = Vec::new(),
    }
);

impl Ec2SdConfig {
    fn check_own(&self) -> Check {
        check_filters(&self.filters)
    }
}

impl RdsSdConfig {
    fn check_own(&self) -> Check {
        Ok(())
    }
}

impl AwsSdConfig {
    fn check_own(&self) -> Check {
        match self.role.as_str() {
            "ec2" => check_filters(&self.filters),
            "ecs" | "elasticache" | "lightsail" | "msk" | "rds" => Ok(()),
            other => Err(invalid(format!("unknown AWS SD role {other:?}")).at("role")),
        }
    }
}

macro_rules! no_own_checks {
    ($($name:ident),*) => {$(
        impl $name {
            fn check_own(&self) -> Check {
                Ok(())
            }
        }
    )*};
}
no_own_checks!(
    LightsailSdConfig,
    EcsSdConfig,
    ElasticacheSdConfig,
    MskSdConfig
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_filters_need_values() {
        let mut c = Ec2SdConfig {
            filters: vec![AwsFilter {
                name: "tag:x".into(),
                values: vec![],
            }],
            ..Ec2SdConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().message,
            "EC2 SD configuration filter values cannot be empty"
        );
        let mut c = AwsSdConfig {
            role: "nope".into(),
            ..AwsSdConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .message
            .contains("unknown AWS SD role"));
        assert_eq!(EcsSdConfig::default().request_concurrency, 20);
    }
}
