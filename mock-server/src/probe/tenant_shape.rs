//! The probed tenant's shape, from the objects the battery read: sizes, shares and
//! distributions, which become the `[generate]` section of the probe's scenario. Only counts
//! leave this module; no object, name, e-mail, phone number or id does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::battery::Context;
use crate::scenario_writer::ScenarioWriter;

/// Sizes and shares of the probed tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TenantShape {
    /// Users (`total_objects`).
    pub users: Option<u64>,
    /// Administrators.
    pub admins: Option<u64>,
    /// Groups.
    pub groups: Option<u64>,
    /// Users read to estimate the shares below (the largest page).
    pub users_sampled: usize,
    /// User statuses among those read.
    pub user_status: BTreeMap<String, u64>,
    /// Shares among the users read (enrolled, phones/tokens/webauthn among the enrolled…).
    pub shares: BTreeMap<String, f64>,
    /// Fewest and most groups a user read is in.
    pub groups_per_user: Option<[u64; 2]>,
    /// Members of each group counted, largest first.
    pub group_sizes: Vec<u64>,
    /// The Zipf exponent that fits those sizes (the scenario's `group_size_skew`).
    pub group_size_skew: Option<f64>,
    /// Administrators by role (Duo's roles; others as `Custom role`).
    pub admin_roles: BTreeMap<String, u64>,
}

fn share(count: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| ((count as f64 / of as f64) * 100.0).round() / 100.0)
}

fn non_empty(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

impl TenantShape {
    /// The shape of what the battery read.
    pub(crate) fn of(ctx: &Context) -> Self {
        let int = |id: &str| ctx.settled.get(id).and_then(Value::as_u64);
        let users = ctx_objects(ctx, "max_limit_users");
        let mut shape = Self {
            users: int("users_total"),
            admins: int("admins_total"),
            groups: int("groups_total"),
            users_sampled: users.len(),
            ..Self::default()
        };
        let enrolled: Vec<&Value> = users
            .iter()
            .filter(|u| u.get("is_enrolled").and_then(Value::as_bool) == Some(true))
            .collect();
        let count = |list: &[&Value], test: &dyn Fn(&Value) -> bool| list.iter().filter(|u| test(u)).count();
        let all: Vec<&Value> = users.iter().collect();
        let mut shares = BTreeMap::new();
        let mut put = |name: &str, value: Option<f64>| {
            if let Some(value) = value {
                shares.insert(name.to_owned(), value);
            }
        };
        put("enrolled", share(enrolled.len(), all.len()));
        put(
            "phones",
            share(count(&enrolled, &|u| non_empty(u.get("phones"))), enrolled.len()),
        );
        put(
            "tokens",
            share(count(&enrolled, &|u| non_empty(u.get("tokens"))), enrolled.len()),
        );
        put(
            "webauthn",
            share(
                count(&enrolled, &|u| non_empty(u.get("webauthncredentials"))),
                enrolled.len(),
            ),
        );
        put(
            "aliases",
            share(
                count(&all, &|u| {
                    non_empty(u.get("aliases")) || non_empty(u.get("alias1"))
                }),
                all.len(),
            ),
        );
        put(
            "directory_synced",
            share(count(&all, &|u| non_empty(u.get("external_id"))), all.len()),
        );
        put(
            "never_logged_in",
            share(
                count(&all, &|u| u.get("last_login").is_some_and(Value::is_null)),
                all.len(),
            ),
        );
        put(
            "non_ascii_names",
            share(
                count(&all, &|u| {
                    u.get("realname")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.is_ascii())
                }),
                all.len(),
            ),
        );
        put(
            "unusual_usernames",
            share(
                count(&all, &|u| {
                    u.get("username").and_then(Value::as_str).is_some_and(|n| {
                        !n.chars()
                            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
                    })
                }),
                all.len(),
            ),
        );
        shape.shares = shares;
        for user in &users {
            if let Some(status) = user.get("status").and_then(Value::as_str) {
                let known = crate::scenario::USER_STATUSES.contains(&status);
                let name = if known { status } else { "active" };
                *shape.user_status.entry(name.to_owned()).or_default() += 1;
            }
        }
        let per_user: Vec<u64> = users
            .iter()
            .filter_map(|u| u.get("groups").and_then(Value::as_array).map(|g| g.len() as u64))
            .collect();
        if let (Some(lo), Some(hi)) = (per_user.iter().min(), per_user.iter().max()) {
            shape.groups_per_user = Some([*lo, *hi]);
        }
        if let Some(sizes) = ctx
            .settled
            .get("group_sizes")
            .and_then(|v| v.get("sizes"))
            .and_then(Value::as_array)
        {
            shape.group_sizes = sizes.iter().filter_map(Value::as_u64).collect();
            shape.group_size_skew = zipf_exponent(&shape.group_sizes);
        }
        for admin in ctx_objects(ctx, "max_limit_admins") {
            if let Some(role) = admin.get("role").and_then(Value::as_str) {
                let name = if crate::model::DUO_ROLES.contains(&role) {
                    role
                } else {
                    "Custom role"
                };
                *shape.admin_roles.entry(name.to_owned()).or_default() += 1;
            }
        }
        shape
    }

    /// `[generate]` and its tables.
    pub(crate) fn write(&self, w: &mut ScenarioWriter) {
        w.table("generate");
        w.key("users", self.users.unwrap_or(0))
            .key("admins", self.admins.unwrap_or(0))
            .key("groups", self.groups.unwrap_or(0));
        if self.users_sampled > 0 {
            w.comment(&format!("shares among the {} users read", self.users_sampled));
        }
        for (name, value) in &self.shares {
            w.key(name, *value);
        }
        if let Some(range) = self.groups_per_user {
            w.key("groups_per_user", vec![range[0], range[1]]);
        }
        if let Some(skew) = self.group_size_skew {
            w.comment(&format!(
                "fits the member counts of {} groups: {:?}",
                self.group_sizes.len(),
                self.group_sizes
            ));
            w.key("group_size_skew", skew);
        }
        if self.user_status.values().any(|n| *n > 0) {
            w.table("generate.user_status");
            for status in crate::scenario::USER_STATUSES {
                let key = status.replace(' ', "_");
                w.key(&key, self.user_status.get(status).copied().unwrap_or(0));
            }
        }
        if self.admin_roles.values().any(|n| *n > 0) {
            w.table("generate.admin_roles");
            for (role, count) in &self.admin_roles {
                w.key(role, *count);
            }
        }
    }
}

fn ctx_objects(ctx: &Context, id: &str) -> Vec<Value> {
    ctx.answers_of(id)
        .first()
        .filter(|a| a.status == 200)
        .and_then(crate::upstream::Answer::json)
        .and_then(|j| j.get("response").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// The exponent `s` of sizes falling as `rank^-s`, by least squares on the logarithms; `None`
/// with fewer than three groups that have members.
fn zipf_exponent(sizes: &[u64]) -> Option<f64> {
    let points: Vec<(f64, f64)> = sizes
        .iter()
        .filter(|s| **s > 0)
        .enumerate()
        .map(|(rank, size)| (((rank + 1) as f64).ln(), (*size as f64).ln()))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let cov: f64 = points.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let var: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if var == 0.0 {
        return None;
    }
    let skew = (-cov / var).clamp(0.0, 8.0);
    Some((skew * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::zipf_exponent;

    #[test]
    fn the_exponent_of_zipf_sizes_is_found() {
        let sizes: Vec<u64> = (1..=10).map(|r| (1000.0 / f64::from(r)) as u64).collect();
        let s = zipf_exponent(&sizes).unwrap();
        assert!((s - 1.0).abs() < 0.05, "{s}");
        assert_eq!(zipf_exponent(&[5, 5, 5, 5]), Some(0.0));
        assert_eq!(zipf_exponent(&[3, 1]), None);
    }
}
