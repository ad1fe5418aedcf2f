//! Rate limits: token buckets per integration (or per account) and endpoint class, off unless
//! the scenario has `[rate_limits]`. The `duo` preset has the defaults a Duo engineer quoted
//! (duo_client_python issue 101): 300/min to modify or get one object, 200/min for a page of
//! objects, 40/min for unpaged lists, 2/min for each log endpoint (each its own budget; Elastic's
//! collector found about 1/min on authentication, so each log endpoint's number can be set).
//! Besides these, `total` is one budget over every request of an integration (or of the
//! account), as customers describe Duo's limit ("50 requests a minute"); a call spends a token of
//! its class and one of the total, and is refused when either is empty.
//! Over the limit: 429 42901, no Retry-After.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use serde::Deserialize;

/// What kind of call a request is, for its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointClass {
    /// A page of objects (`GET /admin/v1/users`, a group's members…).
    Page,
    /// One object (`GET /admin/v1/users/{id}`, summary, settings).
    Single,
    /// A list fetched whole (`user_id_list`, `username_list`).
    Unpaged,
    /// Create, modify or delete.
    Modify,
    /// A log endpoint (index into `routes::logs::ENDPOINTS`): each has its own budget.
    Log(u8),
    /// Every request, whatever its class (`total`): never a request's own class.
    Total,
}

impl EndpointClass {
    /// The class of a request.
    pub fn of(method: &str, path: &str, query: &str) -> Self {
        if !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD") {
            return Self::Modify;
        }
        if let Some(i) = crate::routes::logs::ENDPOINTS.iter().position(|e| e.path == path) {
            return Self::Log(u8::try_from(i).unwrap_or(u8::MAX));
        }
        // A list is a catalogue row with paging: the one table says which routes page.
        let listed = crate::routes::catalogue::ROUTES
            .iter()
            .any(|r| r.paging.is_some() && template_matches(r.path, path));
        match listed {
            true if query.contains("_list=") => Self::Unpaged,
            true => Self::Page,
            false => Self::Single,
        }
    }
}

/// Whether `path` is an instance of the route template `template` (`{name}` is one segment).
fn template_matches(template: &str, path: &str) -> bool {
    let mut want = template.trim_matches('/').split('/');
    let mut got = path.trim_matches('/').split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') || w == g => {}
            _ => return false,
        }
    }
}

impl EndpointClass {
    /// Where a scenario sets this budget in `[rate_limits]` (a log endpoint's own key; `logs`
    /// sets every log endpoint's).
    pub fn key(self) -> String {
        match self {
            Self::Page => "page".to_owned(),
            Self::Single => "single".to_owned(),
            Self::Unpaged => "unpaged".to_owned(),
            Self::Modify => "modify".to_owned(),
            Self::Log(i) => crate::routes::logs::ENDPOINTS
                .get(usize::from(i))
                .map_or_else(|| "logs".to_owned(), |e| format!("log_endpoints.{}", e.name)),
            Self::Total => "total".to_owned(),
        }
    }
}

/// The class of every signed route the fake serves, as a Markdown table (`scenarios/README.md`
/// carries it; a test keeps the two the same): method, path, the `[rate_limits]` key of its
/// budget and the `duo` preset's number.
pub fn class_table() -> String {
    use std::fmt::Write as _;
    let preset = RateLimits::duo();
    let mut out = String::from(
        "| Method | Path | Budget (`[rate_limits]` key) | `duo` preset a minute |\n|---|---|---|---|\n",
    );
    for route in crate::routes::catalogue::ROUTES
        .iter()
        .filter(|r| r.grant.is_some())
    {
        let class = EndpointClass::of(route.method, route.path, "");
        let per_minute = |c: EndpointClass| preset.per_minute(c).map_or_else(String::new, |n| n.to_string());
        let (key, number) = if route.filters.iter().any(|f| f.ends_with("_list")) {
            (
                format!("`{}`; with a `…_list` parameter `unpaged`", class.key()),
                format!("{}; {}", per_minute(class), per_minute(EndpointClass::Unpaged)),
            )
        } else {
            (format!("`{}`", class.key()), per_minute(class))
        };
        let _ = writeln!(out, "| {} | `{}` | {key} | {number} |", route.method, route.path);
    }
    out
}

/// Whose budget a call spends (whether Duo counts per account or per application is unconfirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitScope {
    /// Each integration has its own budget.
    #[default]
    Integration,
    /// All integrations of the account share one.
    Account,
}

/// The scenario's `[rate_limits]`: requests per minute per class; `burst` is the bucket size.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// `duo` fills every class with Duo's published defaults; given classes override it.
    pub preset: Option<String>,
    /// Budget scope.
    #[serde(default)]
    pub scope: LimitScope,
    /// Requests per minute over every class together, besides the class budgets.
    pub total: Option<u32>,
    /// Pages of objects per minute.
    pub page: Option<u32>,
    /// Single objects per minute.
    pub single: Option<u32>,
    /// Unpaged lists per minute.
    pub unpaged: Option<u32>,
    /// Modifications per minute.
    pub modify: Option<u32>,
    /// Requests per minute to each log endpoint.
    pub logs: Option<u32>,
    /// Requests per minute to one log endpoint, by its name (`authentication`,
    /// `authentication_v1`, `administrator`, `telephony`, `telephony_v1`, `activity`,
    /// `offline_enrollment`, `trust_monitor`), over `logs`.
    #[serde(default)]
    pub log_endpoints: BTreeMap<String, u32>,
    /// Calls that may be made at once before the rate applies (default: one minute's worth).
    pub burst: Option<u32>,
}

impl RateLimits {
    /// Duo's preset and nothing else: each class at Duo's quoted number, no total.
    pub fn duo() -> Self {
        Self {
            preset: Some("duo".to_owned()),
            scope: LimitScope::default(),
            total: None,
            page: None,
            single: None,
            unpaged: None,
            modify: None,
            logs: None,
            log_endpoints: BTreeMap::new(),
            burst: None,
        }
    }

    /// Checks the preset name and the numbers.
    pub fn check(&self) -> Result<(), String> {
        match self.preset.as_deref() {
            None | Some("duo") => {}
            Some(other) => {
                return Err(format!(
                    "unknown rate-limit preset {other:?}; the preset is \"duo\""
                ));
            }
        }
        if [
            self.total,
            self.page,
            self.single,
            self.unpaged,
            self.modify,
            self.logs,
            self.burst,
        ]
        .contains(&Some(0))
            || self.log_endpoints.values().any(|n| *n == 0)
        {
            return Err("rate limits must be at least 1 (leave a class out to not limit it)".into());
        }
        for name in self.log_endpoints.keys() {
            if !crate::routes::logs::ENDPOINTS.iter().any(|e| e.name == name) {
                return Err(format!(
                    "rate_limits.log_endpoints: {name:?} is not a log endpoint; expected one of: {}",
                    crate::routes::logs::ENDPOINTS.map(|e| e.name).join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The limits in one line for the start-up banner.
    pub fn describe(&self) -> String {
        let classes: Vec<String> = [
            (EndpointClass::Total, "every request"),
            (EndpointClass::Page, "pages"),
            (EndpointClass::Single, "single objects"),
            (EndpointClass::Unpaged, "unpaged lists"),
            (EndpointClass::Modify, "modifications"),
        ]
        .iter()
        .filter_map(|(class, name)| self.per_minute(*class).map(|n| format!("{name} {n}/min")))
        .chain(self.describe_logs())
        .collect();
        let scope = match self.scope {
            LimitScope::Integration => "per integration",
            LimitScope::Account => "per account",
        };
        let burst = self
            .burst
            .map_or_else(|| "a minute's worth".to_owned(), |b| b.to_string());
        format!("{scope}: {}; burst {burst}", classes.join(", "))
    }

    /// The log endpoints' budgets: `logs 2/min each`, or each endpoint's when they differ.
    fn describe_logs(&self) -> Option<String> {
        let limits: Vec<(&str, u32)> = crate::routes::logs::ENDPOINTS
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let class = EndpointClass::Log(u8::try_from(i).unwrap_or(u8::MAX));
                self.per_minute(class).map(|n| (e.name, n))
            })
            .collect();
        let (_, first) = *limits.first()?;
        if limits.len() == crate::routes::logs::ENDPOINTS.len() && limits.iter().all(|(_, n)| *n == first) {
            return Some(format!("logs {first}/min each"));
        }
        let each: Vec<String> = limits.iter().map(|(name, n)| format!("{name} {n}/min")).collect();
        Some(format!("logs: {}", each.join(", ")))
    }

    /// Requests per minute for `class`, if limited.
    fn per_minute(&self, class: EndpointClass) -> Option<u32> {
        let duo = self.preset.is_some();
        let (given, preset) = match class {
            EndpointClass::Page => (self.page, 200),
            EndpointClass::Single => (self.single, 300),
            EndpointClass::Unpaged => (self.unpaged, 40),
            EndpointClass::Modify => (self.modify, 300),
            EndpointClass::Log(i) => {
                let named = crate::routes::logs::ENDPOINTS
                    .get(usize::from(i))
                    .and_then(|e| self.log_endpoints.get(e.name).copied());
                (named.or(self.logs), 2)
            }
            // Duo publishes no total: the preset leaves it out.
            EndpointClass::Total => return self.total,
        };
        given.or(duo.then_some(preset))
    }
}

/// One bucket's level, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketLevel {
    /// The integration's name, or empty for the account's shared budget.
    pub owner: String,
    /// The endpoint class.
    pub class: EndpointClass,
    /// Its rate.
    pub per_minute: u32,
    /// Calls that may be made now.
    pub tokens: f64,
    /// The bucket's size.
    pub capacity: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// Live buckets; part of the served world, so a reset refills them.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Option<RateLimits>,
    buckets: Mutex<HashMap<(String, EndpointClass), Bucket>>,
}

impl RateLimiter {
    /// Buckets for `limits` (`None`: no limits).
    pub fn new(limits: Option<RateLimits>) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the scenario set any limit (when not, no call needs classifying).
    pub fn is_on(&self) -> bool {
        self.limits.is_some()
    }

    /// The scenario's limits.
    pub fn limits(&self) -> Option<&RateLimits> {
        self.limits.as_ref()
    }

    /// Every bucket used so far, as of now: owner (an integration's name, or empty for the
    /// account), class, calls left and the bucket's size.
    pub fn buckets(&self) -> Vec<BucketLevel> {
        let Some(limits) = &self.limits else {
            return Vec::new();
        };
        let now = Instant::now();
        let buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut levels: Vec<BucketLevel> = buckets
            .iter()
            .filter_map(|((owner, class), bucket)| {
                let per_minute = limits.per_minute(*class)?;
                let capacity = f64::from(limits.burst.unwrap_or(per_minute));
                let refill = now.duration_since(bucket.refilled).as_secs_f64() * f64::from(per_minute) / 60.0;
                Some(BucketLevel {
                    owner: owner.clone(),
                    class: *class,
                    per_minute,
                    tokens: (bucket.tokens + refill).min(capacity),
                    capacity,
                })
            })
            .collect();
        levels.sort_by(|a, b| (&a.owner, a.class).cmp(&(&b.owner, b.class)));
        levels
    }

    /// Spends one call of `integration`'s budget for `class`; false when it is exhausted.
    pub fn allow(&self, integration: &str, class: EndpointClass) -> bool {
        self.spend(integration, class).is_ok()
    }

    /// Spends one call of `integration`'s budget for `class` and of its total, or neither: the
    /// error names the budget that was empty (the class's first).
    pub fn spend(&self, integration: &str, class: EndpointClass) -> Result<(), EndpointClass> {
        let Some(limits) = &self.limits else {
            return Ok(());
        };
        let budgets: Vec<(EndpointClass, u32)> = [class, EndpointClass::Total]
            .into_iter()
            .filter_map(|c| limits.per_minute(c).map(|n| (c, n)))
            .collect();
        if budgets.is_empty() {
            return Ok(());
        }
        let owner = match limits.scope {
            LimitScope::Integration => integration,
            LimitScope::Account => "",
        };
        let now = Instant::now();
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        for &(class, per_minute) in &budgets {
            let capacity = f64::from(limits.burst.unwrap_or(per_minute));
            let bucket = buckets.entry((owner.to_owned(), class)).or_insert(Bucket {
                tokens: capacity,
                refilled: now,
            });
            let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * f64::from(per_minute) / 60.0).min(capacity);
            bucket.refilled = now;
            if bucket.tokens < 1.0 {
                return Err(class);
            }
        }
        for (class, _) in budgets {
            if let Some(bucket) = buckets.get_mut(&(owner.to_owned(), class)) {
                bucket.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_duos_budgets() {
        assert_eq!(
            EndpointClass::of("GET", "/admin/v1/users", "limit=300"),
            EndpointClass::Page
        );
        assert_eq!(
            EndpointClass::of("GET", "/admin/v2/groups/DG1/users", ""),
            EndpointClass::Page
        );
        assert_eq!(
            EndpointClass::of("GET", "/admin/v1/users/DU1/groups", ""),
            EndpointClass::Page
        );
        assert_eq!(
            EndpointClass::of("GET", "/admin/v1/users/DU1", ""),
            EndpointClass::Single
        );
        assert_eq!(
            EndpointClass::of("GET", "/admin/v1/info/summary", ""),
            EndpointClass::Single
        );
        assert_eq!(
            EndpointClass::of("GET", "/admin/v1/users", "user_id_list=x"),
            EndpointClass::Unpaged
        );
        assert_eq!(
            EndpointClass::of("POST", "/admin/v1/users", ""),
            EndpointClass::Modify
        );
        assert!(matches!(
            EndpointClass::of("GET", "/admin/v2/logs/authentication", ""),
            EndpointClass::Log(_)
        ));
        assert_ne!(
            EndpointClass::of("GET", "/admin/v2/logs/authentication", ""),
            EndpointClass::of("GET", "/admin/v1/trust_monitor/events", "")
        );
        assert_eq!(
            EndpointClass::of("GET", "/admin/v1/info/authentication_attempts", ""),
            EndpointClass::Single
        );
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let limits = RateLimits {
            burst: Some(3),
            ..RateLimits::duo()
        };
        let limiter = RateLimiter::new(Some(limits));
        let allowed = (0..5).filter(|_| limiter.allow("a", EndpointClass::Page)).count();
        assert_eq!(allowed, 3);
        assert!(
            limiter.allow("b", EndpointClass::Page),
            "per integration by default"
        );
        assert!(limiter.allow("a", EndpointClass::Single), "per class");
        assert!(RateLimiter::new(None).allow("a", EndpointClass::Log(0)));
    }

    #[test]
    fn a_total_budget_spans_every_class_and_a_refusal_spends_nothing() {
        let limits = RateLimits {
            preset: None,
            total: Some(3),
            page: Some(2),
            ..RateLimits::duo()
        };
        let limiter = RateLimiter::new(Some(limits));
        assert_eq!(limiter.spend("a", EndpointClass::Page), Ok(()));
        assert_eq!(limiter.spend("a", EndpointClass::Page), Ok(()));
        assert_eq!(limiter.spend("a", EndpointClass::Page), Err(EndpointClass::Page));
        // The refused page spent no token of the total: one is left for another class.
        assert_eq!(limiter.spend("a", EndpointClass::Single), Ok(()));
        assert_eq!(
            limiter.spend("a", EndpointClass::Single),
            Err(EndpointClass::Total)
        );
        assert_eq!(limiter.spend("b", EndpointClass::Single), Ok(()));
    }
}
