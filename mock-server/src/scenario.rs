//! Scenario files: the TOML schema, its validation, and the typed [`Scenario`] the generator reads.
//!
//! Every error names `file:line:column`; unknown keys are refused so a typo never silently falls
//! back to a default. The schema is documented in `scenarios/README.md`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::changes::Change;
use crate::churn::ChurnEvent;
use crate::error::{Error, Result};
use crate::faults::FaultRule;
use crate::grants::{Grant, GrantSet};
use crate::limits::Limits;
use crate::logs::config::LogsConfig;
use crate::network::IpNet;
use crate::proxy::ProxyConfig;
use crate::ratelimit::RateLimits;
use crate::scenario_check::line_column;
use crate::tls::CertificateFault;

/// A validated scenario: everything needed to generate a tenant and serve it.
#[derive(Clone)]
pub struct Scenario {
    /// Where it came from (a path, or `<builder>`), for messages.
    pub origin: String,
    /// Free text from the file, shown nowhere but kept for `dump`-style tooling.
    pub description: Option<String>,
    /// Tenant-wide facts: host name, seed, domain, clock.
    pub tenant: Tenant,
    /// Behaviours where Duo's exact answer is unconfirmed, and the knobs chosen for them.
    pub options: Options,
    /// How many objects to generate, and in what mix.
    pub generate: Generate,
    /// Admin API applications that may call the fake. Never empty.
    pub integrations: Vec<Integration>,
    /// Users written out in the file, added before the generated ones.
    pub users: Vec<UserRecord>,
    /// Groups written out in the file, added before the generated ones.
    pub groups: Vec<GroupRecord>,
    /// Administrators written out in the file, added before the generated ones.
    pub admins: Vec<AdminRecord>,
    /// Fault rules, in order: the first that fires wins.
    pub faults: Vec<FaultRule>,
    /// Rate limits (none unless the file has `[rate_limits]`).
    pub rate_limits: Option<RateLimits>,
    /// Changes applied to the tenant while it is served.
    pub churn: Vec<ChurnEvent>,
    /// Changes to the tenant's integrations (grants) after some time or some list requests.
    pub changes: Vec<Change>,
    /// A CONNECT proxy in front of the fake (D11), when the file has `[proxy]`.
    pub proxy: Option<ProxyConfig>,
    /// The logs (`[logs]`): rates, mixes and the knobs of what Duo's logs leave open.
    pub logs: LogsConfig,
    /// Custom policies (`[[policies]]`), after the global policy every tenant has.
    pub policies: Vec<PolicyRecord>,
    /// Administrative units (`[[admin_units]]`).
    pub admin_units: Vec<AdminUnitRecord>,
    /// The custom logo's PNG bytes (`[tenant] logo`), read when the scenario is loaded.
    pub logo: Option<bytes::Bytes>,
    /// Child accounts (`[[accounts]]`, an MSP's customers): each a tenant of its own, reached
    /// with Accounts API keys and `account_id`.
    pub accounts: Vec<ChildAccount>,
    /// Folder of the scenario file: `body_file` paths are relative to it.
    pub base_dir: PathBuf,
    /// The file's text, to locate errors found after parsing (an unknown group name).
    source: std::sync::Arc<str>,
}

// By hand, because the file's text holds the skeys: Debug shows everything else.
impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("origin", &self.origin)
            .field("description", &self.description)
            .field("tenant", &self.tenant)
            .field("options", &self.options)
            .field("generate", &self.generate)
            .field("integrations", &self.integrations)
            .field("users", &self.users)
            .field("groups", &self.groups)
            .field("admins", &self.admins)
            .field("faults", &self.faults)
            .field("rate_limits", &self.rate_limits)
            .field("churn", &self.churn)
            .field("changes", &self.changes)
            .field("logs", &self.logs)
            .field("policies", &self.policies)
            .field("admin_units", &self.admin_units)
            .field("logo_bytes", &self.logo.as_ref().map(bytes::Bytes::len))
            .field("accounts", &self.accounts)
            .field(
                "proxy",
                &self.proxy.as_ref().map(|p| (p.refuse, p.username.is_some())),
            )
            .finish_non_exhaustive()
    }
}

/// Tenant-wide facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// The account name, as `/admin/v1/settings` reports it.
    #[serde(default = "default_tenant_name")]
    pub name: String,
    /// The API hostname clients are given, e.g. `api-a1b2c3d4.duosecurity.com` (no port).
    pub api_hostname: String,
    /// Seed of every random choice: the same seed gives byte-identical data.
    pub seed: u64,
    /// Domain of generated e-mail addresses.
    #[serde(default = "default_email_domain")]
    pub email_domain: String,
    /// What every generated time is relative to: UTC midnight of the day the tenant is built
    /// (`"today"`, the default), or a fixed RFC 3339 date or time for bytes that never change.
    /// `reference_time` (unix seconds) is its deprecated spelling.
    #[serde(default, alias = "reference_time")]
    pub anchor: Anchor,
    /// Reported by `/admin/v1/info/summary`.
    #[serde(default = "default_telephony_credits")]
    pub telephony_credits_remaining: u64,
    /// Whether the account's plan has the Admin API (failure catalogue D8); when false every
    /// Admin API call is refused like an unknown key.
    #[serde(default = "default_true")]
    pub admin_api_enabled: bool,
    /// A JSON file (relative to the scenario) of objects served exactly as written, by id: what
    /// `duo-mock record` keeps of every field the records cannot say (`crate::objects_file`).
    pub objects_file: Option<String>,
    /// A PNG file (relative to the scenario) served by `/admin/v1/logo`; without one that route
    /// answers Duo's error.
    pub logo: Option<Spanned<String>>,
    /// The edition `/admin/v1/billing/edition` reports: `ENTERPRISE`, `PLATFORM`, `BEYOND` or
    /// `PERSONAL`.
    #[serde(default = "default_edition")]
    pub edition: Spanned<String>,
    /// Whether `/admin/v1/billing/*` answers (Duo enables it by support request; otherwise 403).
    #[serde(default)]
    pub billing_api: bool,
}

/// The editions `/admin/v1/billing/edition` names (Essentials, Advantage, Premier, Free).
pub const EDITIONS: [&str; 4] = ["ENTERPRISE", "PLATFORM", "BEYOND", "PERSONAL"];

fn default_edition() -> Spanned<String> {
    Spanned::new(0..0, "ENTERPRISE".to_owned())
}

/// The tenant's anchor: users' `created` and `last_login`, phones' `last_seen`, admins' times,
/// WebAuthn dates and the logs are all generated relative to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// UTC midnight of the day the tenant is built, by the server's clock (its offset included):
    /// `dump` and `serve` on the same day give the same bytes, and the data stays current.
    #[default]
    Today,
    /// A fixed time, unix seconds.
    At(i64),
}

impl Anchor {
    /// The anchor's unix time when the tenant is built at `now` (unix seconds).
    pub fn resolve(self, now: i64) -> i64 {
        match self {
            Self::Today => now.div_euclid(86_400) * 86_400,
            Self::At(at) => at,
        }
    }

    /// Parses `today`, an RFC 3339 date (`2026-01-01`, midnight UTC) or date-time
    /// (`2026-01-01T08:30:00Z`, `…+02:00`, fractions of a second dropped).
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("today") {
            return Some(Self::Today);
        }
        let digits = |s: &str| -> Option<i64> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (date, time) = match text.find(['T', 't', ' ']) {
            Some(at) => (&text[..at], Some(&text[at + 1..])),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let (year, month, day) = (
            digits(parts.next()?)?,
            digits(parts.next()?)?,
            digits(parts.next()?)?,
        );
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let month_days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if parts.next().is_some()
            || date.len() != 10
            || !(1..=12).contains(&month)
            || day < 1
            || day > month_days[usize::try_from(month - 1).ok()?]
        {
            return None;
        }
        let mut seconds = duo_auth::date::days_from_civil(year, month, day) * 86_400;
        if let Some(time) = time {
            let zone_at = time.find(['Z', 'z', '+', '-'])?;
            let (clock, zone) = time.split_at(zone_at);
            let clock = clock.split('.').next()?;
            let mut fields = clock.split(':');
            let (hour, minute, second) = (
                digits(fields.next()?)?,
                digits(fields.next()?)?,
                digits(fields.next()?)?,
            );
            if fields.next().is_some() || clock.len() != 8 || hour > 23 || minute > 59 || second > 60 {
                return None;
            }
            let offset = match zone {
                "Z" | "z" => 0,
                _ => {
                    let sign = if zone.starts_with('-') { -1 } else { 1 };
                    let (h, m) = zone.get(1..)?.split_once(':')?;
                    let (h, m) = (digits(h)?, digits(m)?);
                    if h > 23 || m > 59 || zone.len() != 6 {
                        return None;
                    }
                    sign * (h * 3600 + m * 60)
                }
            };
            seconds += hour * 3600 + minute * 60 + second - offset;
        }
        Some(Self::At(seconds))
    }
}

impl<'de> Deserialize<'de> for Anchor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        /// What a file may write: a string, a TOML date-time, or the old unix seconds.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Seconds(i64),
            Text(String),
            Datetime(toml::value::Datetime),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Seconds(seconds) => return Ok(Self::At(seconds)),
            Written::Text(text) => text,
            Written::Datetime(datetime) => datetime.to_string(),
        };
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "anchor {text:?} is neither \"today\" nor an RFC 3339 date (2026-01-01) or date-time (2026-01-01T00:00:00Z)"
            ))
        })
    }
}

/// How paging metadata is sent (§3.0 of the API notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataMode {
    /// Duo's observed behaviour: no `metadata` when the whole result fits the first page;
    /// otherwise `total_objects`, `next_offset` only when more remain, `prev_offset` only when
    /// `offset > 0`.
    #[default]
    OmitOnSinglePage,
    /// Always send `metadata`, omitting absent offsets.
    Always,
    /// Always send `metadata`, with `null` for absent offsets (as Duo's Go client fixtures do).
    AlwaysWithNulls,
}

/// What `limit=0` means (unconfirmed at Duo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ZeroLimit {
    /// Treated as if no limit was given (the endpoint's default).
    #[default]
    Default,
    /// Refused with 400 40002, `message_detail` `limit`.
    Reject,
}

/// Spelling of group `status` (Duo's docs say `active`; a 2024 capture shows `Active`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GroupStatusCase {
    /// `active`, `bypass`, `disabled`.
    #[default]
    Lower,
    /// `Active`, `Bypass`, `Disabled`.
    Capitalized,
}

impl GroupStatusCase {
    /// How a group status (`active`, `bypass`, `disabled`) is spelled; anything else is active.
    pub fn spell(self, status: &str) -> &'static str {
        match (status, self) {
            ("bypass", Self::Lower) => "bypass",
            ("disabled", Self::Lower) => "disabled",
            (_, Self::Lower) => "active",
            ("bypass", Self::Capitalized) => "Bypass",
            ("disabled", Self::Capitalized) => "Disabled",
            (_, Self::Capitalized) => "Active",
        }
    }
}

/// Largest page each list endpoint serves; a larger `limit` is clamped to it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxLimits {
    /// `GET /admin/v1/users` (documented: 300).
    pub users: u32,
    /// `GET /admin/v1/admins` (unconfirmed; default 300).
    pub admins: u32,
    /// `GET /admin/v1/groups` (sources say 100 or 500; default 100).
    pub groups: u32,
    /// `GET /admin/v2/groups/{id}/users` (documented: 500).
    pub group_users: u32,
    /// `GET /admin/v1/users/{id}/groups` (documented: 500).
    pub user_groups: u32,
    /// `GET /admin/v1/phones` (Duo's collection: 500).
    pub phones: u32,
    /// `GET /admin/v1/tokens` (Duo's collection: 500).
    pub tokens: u32,
    /// `GET /admin/v1/webauthncredentials` (Duo's collection: 500).
    pub webauthncredentials: u32,
    /// `GET /admin/v1/users/{id}/phones` (Duo's collection: 500).
    pub user_phones: u32,
    /// `GET /admin/v1/users/{id}/tokens` (Duo's collection: 500).
    pub user_tokens: u32,
    /// `GET /admin/v1/users/{id}/webauthncredentials` (unconfirmed; default 500).
    pub user_webauthncredentials: u32,
    /// `GET /admin/v1/u2ftokens` (unconfirmed; default 500).
    pub u2ftokens: u32,
    /// `GET /admin/v1/users/{id}/u2ftokens` (unconfirmed; default 500).
    pub user_u2ftokens: u32,
    /// `GET /admin/v1/desktoptokens` (unconfirmed; default 500).
    pub desktoptokens: u32,
    /// `GET /admin/v1/bypass_codes` (Duo's collection: 500).
    pub bypass_codes: u32,
    /// `GET /admin/v1/users/{id}/bypass_codes` (500 or 300 in different sources; default 500).
    pub user_bypass_codes: u32,
    /// `GET /admin/v1/desktop_authenticators` (unconfirmed; default 500).
    pub desktop_authenticators: u32,
    /// `GET /admin/v1/users/{id}/desktopauthenticators` (500 or 300; default 500).
    pub user_desktop_authenticators: u32,
    /// `GET /admin/v1/endpoints` (unconfirmed; default 500).
    pub endpoints: u32,
    /// `GET /admin/v1/registered_devices` (unconfirmed; default 100, the Python client's page).
    pub registered_devices: u32,
    /// `GET /admin/v3/integrations` and the legacy v1/v2 lists (v3: 500 per a third party).
    pub integrations: u32,
    /// `GET /admin/v1/administrative_units` (unconfirmed; default 100).
    pub admin_units: u32,
    /// `GET /admin/v2/policies` (unconfirmed; default 100).
    pub policies: u32,
    /// `GET /admin/v1/admins/password_mgmt` (unconfirmed; default 300, as admins).
    pub password_mgmt: u32,
    /// `GET /admin/v1/admins/activations` (unconfirmed; default 300, as admins).
    pub activations: u32,
}

impl Default for MaxLimits {
    fn default() -> Self {
        Self {
            users: 300,
            admins: 300,
            groups: 100,
            group_users: 500,
            user_groups: 500,
            phones: 500,
            tokens: 500,
            webauthncredentials: 500,
            user_phones: 500,
            user_tokens: 500,
            user_webauthncredentials: 500,
            u2ftokens: 500,
            user_u2ftokens: 500,
            desktoptokens: 500,
            bypass_codes: 500,
            user_bypass_codes: 500,
            desktop_authenticators: 500,
            user_desktop_authenticators: 500,
            endpoints: 500,
            registered_devices: 100,
            integrations: 500,
            admin_units: 100,
            policies: 100,
            password_mgmt: 300,
            activations: 300,
        }
    }
}

/// Knobs for behaviours Duo leaves open; each default is documented in `docs/fidelity.md`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Largest accepted distance between the request's date and the server clock, seconds.
    pub signature_window_s: u32,
    /// Explain 401 and 403 answers in an `X-Duo-Mock-Explain` header (which grant is missing,
    /// the canonical string expected…). Off by default: Duo says nothing of the kind.
    pub explain: bool,
    /// Serve HTTPS with a generated CA even without `--tls` (TLS catalogue scenarios set it).
    pub tls: bool,
    /// The certificate presented over TLS: the kit's own, or a faulty one (D5, D12).
    pub tls_certificate: CertificateFault,
    /// Seconds the server's clock is ahead of the machine's (negative: behind), to reproduce a
    /// client whose clock is off. Settable at run time too.
    pub clock_offset_s: i64,
    /// Duo code for keys of another application type (D1): 40102 (default, as customers report)
    /// at the key check, or 40301 after the signature check.
    pub wrong_type_code: u32,
    /// Duo code for an `account_id` that is well-formed but not a child of the caller's account:
    /// 40301 (default), 40401 or 40002 (unconfirmed; `docs/fidelity.md`).
    pub unknown_account_code: u32,
    /// Take the client's address from the first `X-Forwarded-For` entry (a fake behind a proxy)
    /// when checking Networks for API Access.
    pub trust_forwarded_for: bool,
    /// Accept legacy v1 signatures (otherwise 401 40112).
    pub accept_v1: bool,
    /// Accept v4 signatures (otherwise 401 40112).
    pub accept_v4: bool,
    /// Paging metadata shape.
    pub metadata: MetadataMode,
    /// What `limit=0` means.
    pub zero_limit: ZeroLimit,
    /// Per-endpoint page-size caps.
    pub max_limit: MaxLimits,
    /// Spelling of group `status`.
    pub group_status_case: GroupStatusCase,
    /// Whether group objects carry the legacy `voice_enabled` flag.
    pub group_voice_enabled: bool,
    /// Whether user objects carry `enable_auto_prompt` (in Duo's docs, absent from a 2024 capture).
    pub user_enable_auto_prompt: bool,
    /// Whether the deprecated v1 group info (`GET /admin/v1/groups/{id}`) lists the group's
    /// members in `users`, as Duo's v1 description has it (unconfirmed by a capture).
    pub group_v1_users: bool,
    /// Request limits (head, query, body, connections, header-read timeout).
    pub limits: Limits,
    /// What integration objects show of `secret_key` (sources conflict).
    pub integration_secret_key: SecretKeyShown,
    /// Whether `GET /admin/v1/integrations/{ikey}/skey` answers the secret key (with Grant
    /// applications) or refuses it like Duo when secrets are never read back.
    pub integration_skey_readable: bool,
    /// The grant that reads integrations (sources conflict).
    pub integrations_read_grant: IntegrationsReadGrant,
    /// Duo Passport's `enabled_status` (`GET /admin/v2/passport/config`).
    pub passport: PassportStatus,
}

/// Duo Passport's `enabled_status`; the per-group statuses need groups the scenario cannot name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PassportStatus {
    /// Passport off (the default).
    #[default]
    Disabled,
    /// Passport on for every user.
    Enabled,
}

impl PassportStatus {
    /// As Duo spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PassportStatus::Disabled => "disabled",
            PassportStatus::Enabled => "enabled",
        }
    }
}

/// What an integration object shows of its secret key. Never the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKeyShown {
    /// `"************************************1234"`: its last four characters (a v3 capture).
    #[default]
    Masked,
    /// No `secret_key` field.
    Omitted,
}

/// The grant that reads integrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IntegrationsReadGrant {
    /// "Grant applications" (`adminapi_integrations`), as for writes.
    #[default]
    Applications,
    /// "Grant read resource", as one copy of Duo's docs says.
    ReadResource,
}

impl IntegrationsReadGrant {
    /// The grant it names.
    pub fn grant(self) -> Grant {
        match self {
            Self::Applications => Grant::Applications,
            Self::ReadResource => Grant::ReadResource,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            signature_window_s: 300,
            clock_offset_s: 0,
            explain: false,
            tls: false,
            tls_certificate: CertificateFault::None,
            wrong_type_code: 40102,
            unknown_account_code: 40301,
            trust_forwarded_for: false,
            accept_v1: false,
            accept_v4: false,
            metadata: MetadataMode::default(),
            zero_limit: ZeroLimit::default(),
            max_limit: MaxLimits::default(),
            group_status_case: GroupStatusCase::default(),
            group_voice_enabled: true,
            user_enable_auto_prompt: true,
            group_v1_users: true,
            limits: Limits::default(),
            integration_secret_key: SecretKeyShown::default(),
            integration_skey_readable: true,
            integrations_read_grant: IntegrationsReadGrant::default(),
            passport: PassportStatus::default(),
        }
    }
}

/// Relative weights of user statuses among generated users.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusMix {
    /// `active`
    pub active: u32,
    /// `bypass`
    pub bypass: u32,
    /// `disabled`
    pub disabled: u32,
    /// `locked out`
    pub locked_out: u32,
    /// `pending deletion`
    pub pending_deletion: u32,
}

impl Default for StatusMix {
    fn default() -> Self {
        Self {
            active: 88,
            bypass: 3,
            disabled: 4,
            locked_out: 3,
            pending_deletion: 2,
        }
    }
}

/// How many objects to generate and in what mix. Shares are fractions in `0..=1`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Generate {
    /// Generated users (added after the explicit `[[users]]`).
    pub users: u32,
    /// Generated administrators.
    pub admins: u32,
    /// Generated groups.
    pub groups: u32,
    /// User statuses.
    pub user_status: StatusMix,
    /// Share of users with at least one authentication method (`is_enrolled`).
    pub enrolled: f64,
    /// Share of enrolled users with a phone.
    pub phones: f64,
    /// Share of enrolled users with a hardware token.
    pub tokens: f64,
    /// Share of enrolled users with a WebAuthn credential.
    pub webauthn: f64,
    /// Share of generated users who also hold the previous user's first phone (a desk phone
    /// two people share; listed once by `/admin/v1/phones`, with both in its `users`).
    pub shared_phones: f64,
    /// Share of enrolled users with a U2F token (default 0).
    pub u2f: f64,
    /// Share of enrolled users with a legacy desktop token (default 0).
    pub desktop_tokens: f64,
    /// Share of users with bypass codes (default 0).
    pub bypass_codes: f64,
    /// Share of users with a Duo Desktop authenticator (default 0).
    pub desktop_authenticators: f64,
    /// Share of users with an endpoint seen by health checks (default 0).
    pub endpoints: f64,
    /// Share of users with a Duo Desktop registered device (default 0).
    pub registered_devices: f64,
    /// Share of users with aliases.
    pub aliases: f64,
    /// Share of users with non-ASCII names (German, French, Chinese, Japanese, Arabic locales),
    /// kept in their usernames.
    pub non_ascii_names: f64,
    /// Share of usernames and aliases with spaces and symbols (`o'brien+ops`, `j smith`).
    pub unusual_usernames: f64,
    /// Share of users synced from a directory (with `external_id` and `last_directory_sync`).
    pub directory_synced: f64,
    /// Share of users that never logged in (`last_login: null`).
    pub never_logged_in: f64,
    /// Inclusive range of group memberships per generated user.
    pub groups_per_user: [u32; 2],
    /// How unequal group sizes are (Zipf exponent): 0 even, 1 a few large groups and many small.
    pub group_size_skew: f64,
    /// Relative weights of admin roles.
    pub admin_roles: BTreeMap<String, u32>,
    /// Exactly this many generated users without an authentication method (`enrolled` is then
    /// ignored: every other generated user is enrolled).
    pub not_enrolled: Option<Spanned<u32>>,
    /// Exactly this many generated users of each named status (Duo's spelling); the others draw
    /// from `user_status` among the statuses not named.
    pub status_counts: Option<Spanned<BTreeMap<Spanned<String>, u32>>>,
    /// Exact member counts of the first generated groups, in order; the other groups as drawn.
    pub group_sizes: Option<Spanned<Vec<u32>>>,
}

impl Default for Generate {
    fn default() -> Self {
        let admin_roles = [
            ("Owner", 1),
            ("Administrator", 3),
            ("User Manager", 2),
            ("Help Desk", 2),
            ("Security Analyst", 1),
            ("Read-only", 2),
            ("Billing", 1),
        ]
        .into_iter()
        .map(|(name, weight)| (name.to_owned(), weight))
        .collect();
        Self {
            users: 0,
            admins: 0,
            groups: 0,
            user_status: StatusMix::default(),
            enrolled: 0.85,
            phones: 0.85,
            tokens: 0.1,
            webauthn: 0.2,
            shared_phones: 0.0,
            u2f: 0.0,
            desktop_tokens: 0.0,
            bypass_codes: 0.0,
            desktop_authenticators: 0.0,
            endpoints: 0.0,
            registered_devices: 0.0,
            aliases: 0.1,
            non_ascii_names: 0.05,
            unusual_usernames: 0.0,
            directory_synced: 0.3,
            never_logged_in: 0.1,
            groups_per_user: [0, 3],
            group_size_skew: 1.0,
            admin_roles,
            not_enrolled: None,
            status_counts: None,
            group_sizes: None,
        }
    }
}

/// One Admin API application allowed to call the fake.
#[derive(Clone)]
pub struct Integration {
    /// A name for people (`access-review`, `no-admins`), used in the ready file and logs.
    pub name: String,
    /// Integration key (`DI…`).
    pub ikey: String,
    /// Secret key. Never logged; Debug shows it redacted.
    pub skey: String,
    /// The API permissions granted to it.
    pub grants: GrantSet,
    /// What kind of Duo application the keys belong to; only Admin API keys are accepted.
    pub kind: IntegrationKind,
    /// The secret key handed to clients (ready file, banner, dump) when it differs from the one
    /// the fake verifies with: a customer whose connector holds a wrong key (D2).
    pub client_skey: Option<String>,
    /// Networks for API Access: where it may call from (empty: anywhere).
    pub networks: Vec<IpNet>,
}

/// The kind of Duo application an integration key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntegrationKind {
    /// An Admin API application: the only kind the Admin API accepts.
    #[default]
    AdminApi,
    /// Auth API keys (a common mix-up, failure catalogue D1).
    AuthApi,
    /// Web SDK / Universal Prompt application keys.
    WebSdk,
    /// Accounts API keys (MSP parent accounts).
    AccountsApi,
}

impl fmt::Debug for Integration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Integration")
            .field("name", &self.name)
            .field("ikey", &self.ikey)
            .field("skey", &"<redacted>")
            .field("grants", &self.grants)
            .field("kind", &self.kind)
            .field("networks", &self.networks)
            .finish()
    }
}

/// A user as written in the scenario; unset fields are generated from the seed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    /// Login name (unique).
    pub username: Spanned<String>,
    /// `DU…` id; generated when absent.
    pub user_id: Option<Spanned<String>>,
    /// Full name; generated when absent.
    pub realname: Option<String>,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
    /// E-mail; `<username>@<email_domain>` when absent.
    pub email: Option<String>,
    /// `active`, `bypass`, `disabled`, `locked out` or `pending deletion`.
    pub status: Option<Spanned<String>>,
    /// Names of groups (explicit or generated) the user belongs to, in order.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    /// Up to 8 aliases.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Whether the user has an authentication method; methods are generated to agree.
    pub enrolled: Option<bool>,
    /// Number of phones (implies enrolled when > 0).
    pub phones: Option<u32>,
    /// Number of hardware tokens.
    pub tokens: Option<u32>,
    /// Last login, unix seconds; absent means generated, `-1` means never.
    pub last_login: Option<i64>,
    /// Creation time, unix seconds.
    pub created: Option<i64>,
    /// Free-text notes.
    pub notes: Option<String>,
    /// Directory id; makes the user directory-synced.
    pub external_id: Option<String>,
}

/// A group as written in the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRecord {
    /// Group name (unique).
    pub name: Spanned<String>,
    /// `DG…` id; generated when absent.
    pub group_id: Option<Spanned<String>>,
    /// Description.
    pub desc: Option<String>,
    /// `active`, `bypass` or `disabled`.
    pub status: Option<Spanned<String>>,
}

/// An administrator as written in the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRecord {
    /// Display name.
    pub name: String,
    /// E-mail (unique).
    pub email: Spanned<String>,
    /// `DE…` id; generated when absent.
    pub admin_id: Option<Spanned<String>>,
    /// Role name (`Owner`, `Administrator`, … or a custom role).
    pub role: Option<String>,
    /// `Active`, `Disabled`, `Expired` or `Pending Activation`.
    pub status: Option<Spanned<String>>,
    /// Phone number or absent.
    pub phone: Option<String>,
    /// Last login, unix seconds; `-1` means never.
    pub last_login: Option<i64>,
    /// Whether the admin's password is managed outside Duo (`/admin/v1/admins/password_mgmt`).
    #[serde(default)]
    pub external_password_mgmt: bool,
}

/// A custom policy as written in the scenario (the global policy always exists besides).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    /// Policy name (unique, not the global policy's).
    pub name: Spanned<String>,
    /// `PO…` key; generated when absent.
    pub policy_key: Option<Spanned<String>>,
    /// Names of the scenario's integrations the policy is applied to (each at most one policy).
    #[serde(default)]
    pub integrations: Vec<Spanned<String>>,
    /// The policy's sections as Duo's JSON has them (`authentication_methods = {…}`, …); only
    /// what the policy overrides. Default: a new-user policy of `deny`.
    pub sections: Option<toml::Table>,
}

/// An administrative unit as written in the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUnitRecord {
    /// Unit name (unique).
    pub name: Spanned<String>,
    /// Id; generated when absent.
    pub admin_unit_id: Option<Spanned<String>>,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// E-mails of written-out `[[admins]]` in the unit.
    #[serde(default)]
    pub admins: Vec<Spanned<String>>,
    /// Names of groups (written out or generated) the unit's admins manage.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    /// Names of the scenario's integrations the unit's admins manage.
    #[serde(default)]
    pub integrations: Vec<Spanned<String>>,
}

/// The raw file shape, before cross-field validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    description: Option<String>,
    tenant: Spanned<Tenant>,
    options: Option<Spanned<Options>>,
    generate: Option<Spanned<Generate>>,
    integrations: Spanned<Vec<IntegrationFile>>,
    #[serde(default)]
    users: Vec<UserRecord>,
    #[serde(default)]
    groups: Vec<GroupRecord>,
    #[serde(default)]
    admins: Vec<AdminRecord>,
    #[serde(default)]
    faults: Vec<Spanned<FaultRule>>,
    rate_limits: Option<Spanned<RateLimits>>,
    #[serde(default)]
    churn: Vec<Spanned<ChurnEvent>>,
    #[serde(default)]
    changes: Vec<Spanned<Change>>,
    proxy: Option<Spanned<ProxyConfig>>,
    logs: Option<Spanned<LogsConfig>>,
    #[serde(default)]
    policies: Vec<PolicyRecord>,
    #[serde(default)]
    admin_units: Vec<AdminUnitRecord>,
    #[serde(default)]
    accounts: Vec<Spanned<ChildAccountFile>>,
}

/// A child account as written: `[[accounts]]` with its own `[accounts.tenant]` and
/// `[accounts.generate]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildAccountFile {
    account_id: Option<Spanned<String>>,
    tenant: Spanned<Tenant>,
    generate: Option<Spanned<Generate>>,
}

/// A child account of the scenario's (parent) account: a tenant of its own, generated from its
/// own seed and counts, served to Accounts API keys that name it in `account_id`.
#[derive(Debug, Clone)]
pub struct ChildAccount {
    /// `DA…` id (from the file, or drawn from the child's seed).
    pub account_id: String,
    /// The child's tenant facts (name, API hostname, seed…).
    pub tenant: Tenant,
    /// What to generate in it.
    pub generate: Generate,
}

impl Scenario {
    /// The scenario a child account is served from: this one's options, integrations and logs
    /// settings with the child's tenant and counts, no objects written out, no faults, churn,
    /// rate limits, proxy or children of its own.
    pub fn child_scenario(&self, account: &ChildAccount) -> Self {
        Self {
            origin: format!("{} (account {})", self.origin, account.account_id),
            description: None,
            tenant: account.tenant.clone(),
            options: self.options.clone(),
            generate: account.generate.clone(),
            integrations: self.integrations.clone(),
            users: Vec::new(),
            groups: Vec::new(),
            admins: Vec::new(),
            faults: Vec::new(),
            rate_limits: None,
            churn: Vec::new(),
            changes: Vec::new(),
            proxy: None,
            logs: self.logs.clone(),
            policies: Vec::new(),
            admin_units: Vec::new(),
            logo: None,
            accounts: Vec::new(),
            base_dir: self.base_dir.clone(),
            source: std::sync::Arc::from(""),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntegrationFile {
    name: Spanned<String>,
    ikey: Spanned<String>,
    skey: Spanned<String>,
    grants: Vec<Spanned<String>>,
    #[serde(rename = "type", default)]
    kind: IntegrationKind,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
    client_skey: Option<String>,
}

fn default_tenant_name() -> String {
    "Example Tenant".to_owned()
}
fn default_email_domain() -> String {
    "example.com".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_telephony_credits() -> u64 {
    1000
}

/// Valid user statuses, as Duo spells them.
pub const USER_STATUSES: [&str; 5] = ["active", "bypass", "disabled", "locked out", "pending deletion"];
/// Valid group statuses.
pub const GROUP_STATUSES: [&str; 3] = ["active", "bypass", "disabled"];
/// The name of the policy every tenant has.
pub const GLOBAL_POLICY_NAME: &str = "Global Policy";
/// Largest logo file read.
pub const MAX_LOGO_BYTES: usize = 1024 * 1024;
/// Valid administrator statuses.
pub const ADMIN_STATUSES: [&str; 4] = ["Active", "Disabled", "Expired", "Pending Activation"];

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates scenario text; `origin` names it in error messages. A file with
    /// several mistakes gives them all ([`Error::ScenarioMistakes`]), in file order.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        match Self::check(text, origin) {
            (Some(scenario), errors) if errors.is_empty() => Ok(scenario),
            (_, errors) => Err(Error::scenario_mistakes(errors)),
        }
    }

    /// Parses and validates scenario text, finding every mistake in one run
    /// (`crate::scenario_check`): the mistakes in file order, each an [`Error::Scenario`], and the
    /// scenario. With mistakes, the scenario (when there is one) is what the file gives once
    /// the mistaken values are left out: only for finding more mistakes (generating it), never
    /// to serve.
    pub fn check(text: &str, origin: &str) -> (Option<Self>, Vec<Error>) {
        let locate = |span: Option<Range<usize>>, message: String| {
            let (line, column) = line_column(text, span.map_or(0, |s| s.start));
            Error::Scenario {
                origin: origin.to_owned(),
                line,
                column,
                message,
            }
        };
        let (scenario, errors) = crate::scenario_check::check(text, origin, |doc| {
            let file = ScenarioFile::deserialize(toml::de::Deserializer::from(doc))
                .map_err(|e| locate(e.span(), e.message().trim().to_owned()))?;
            Validator { locate: &locate }.validate(file, origin)
        });
        let scenario = scenario.map(|mut scenario| {
            scenario.source = text.into();
            scenario
        });
        (scenario, errors)
    }

    /// Reads a scenario file and finds every mistake, as [`Scenario::check`].
    pub fn check_file(path: &Path) -> Result<(Option<Self>, Vec<Error>)> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::check(&text, &path.display().to_string()))
    }

    /// The anchor's unix time for a tenant built now: by the machine's clock and the scenario's
    /// `clock_offset_s`, the clock the server starts with.
    pub fn anchor_now(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.tenant
            .anchor
            .resolve(now.saturating_add(self.options.clock_offset_s))
    }

    /// An error located at `span` of this scenario's text.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        let (line, column) = line_column(&self.source, span.start);
        Error::Scenario {
            origin: self.origin.clone(),
            line,
            column,
            message: message.into(),
        }
    }
}

struct Validator<'a, F: Fn(Option<Range<usize>>, String) -> Error> {
    locate: &'a F,
}

impl<F: Fn(Option<Range<usize>>, String) -> Error> Validator<'_, F> {
    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> Error {
        (self.locate)(Some(spanned.span()), message.into())
    }

    fn validate(&self, file: ScenarioFile, origin: &str) -> Result<Scenario> {
        let ScenarioFile {
            description,
            tenant,
            options,
            generate,
            integrations,
            users,
            groups,
            admins,
            faults,
            rate_limits,
            churn,
            changes,
            proxy,
            logs,
            policies,
            admin_units,
            accounts,
        } = file;
        self.check_host(&tenant, "tenant")?;
        let accounts = self.accounts(accounts, tenant.get_ref())?;
        let tenant = tenant.into_inner();
        let generate = match generate {
            Some(generate) => {
                self.check_generate(&generate, users.len())?;
                generate.into_inner()
            }
            None => Generate::default(),
        };
        let options_span = options.as_ref().map(Spanned::span);
        let options = options.map(Spanned::into_inner).unwrap_or_default();
        let in_options = |message: String| (self.locate)(options_span.clone(), message);
        if ![40102, 40301].contains(&options.wrong_type_code) {
            return Err(in_options(
                "options.wrong_type_code must be 40102 or 40301".into(),
            ));
        }
        if ![40002, 40301, 40401].contains(&options.unknown_account_code) {
            return Err(in_options(
                "options.unknown_account_code must be 40002, 40301 or 40401".into(),
            ));
        }
        if options.signature_window_s == 0 {
            return Err(in_options("options.signature_window_s must be at least 1".into()));
        }
        // Every `[options.max_limit]` key is some list's, in the one route table.
        for paging in crate::routes::catalogue::ROUTES.iter().filter_map(|r| r.paging) {
            if (paging.largest)(&options.max_limit) == 0 {
                return Err(in_options(format!(
                    "options.max_limit.{} must be at least 1",
                    paging.max_limit_key
                )));
            }
        }
        options.limits.check().map_err(in_options)?;

        let integrations = self.integrations(integrations)?;

        let mut group_names = HashSet::new();
        for group in &groups {
            if !group_names.insert(group.name.get_ref().as_str()) {
                return Err(self.at(
                    &group.name,
                    format!("duplicate group name {:?}", group.name.get_ref()),
                ));
            }
            if let Some(status) = &group.status {
                self.one_of(status, &GROUP_STATUSES, "group status")?;
            }
            if let Some(id) = &group.group_id {
                self.duo_id(id, "DG")?;
            }
        }
        let mut usernames = HashSet::new();
        for user in &users {
            let name = user.username.get_ref();
            if name.is_empty() {
                return Err(self.at(&user.username, "username must not be empty"));
            }
            if !usernames.insert(name.as_str()) {
                return Err(self.at(&user.username, format!("duplicate username {name:?}")));
            }
            if let Some(status) = &user.status {
                self.one_of(status, &USER_STATUSES, "user status")?;
            }
            if let Some(id) = &user.user_id {
                self.duo_id(id, "DU")?;
            }
            if user.aliases.len() > 8 {
                return Err(self.at(&user.username, "a user has at most 8 aliases"));
            }
            for group in &user.groups {
                // Generated group names are not known yet; those are resolved by the generator,
                // which reports an unknown name at this same location.
                if group.get_ref().is_empty() {
                    return Err(self.at(group, "group name must not be empty"));
                }
            }
        }
        let mut admin_emails = HashSet::new();
        for admin in &admins {
            if !admin_emails.insert(admin.email.get_ref().as_str()) {
                return Err(self.at(
                    &admin.email,
                    format!("duplicate admin e-mail {:?}", admin.email.get_ref()),
                ));
            }
            if let Some(status) = &admin.status {
                self.one_of(status, &ADMIN_STATUSES, "admin status")?;
            }
            if let Some(id) = &admin.admin_id {
                self.duo_id(id, "DE")?;
            }
        }
        let base_dir = Path::new(origin)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let names: Vec<&str> = integrations.iter().map(|i| i.name.as_str()).collect();
        self.check_policies(&policies, &names)?;
        self.check_admin_units(&admin_units, &names, &admin_emails)?;
        let edition = tenant.edition.get_ref();
        if !EDITIONS.contains(&edition.as_str()) {
            return Err(self.at(
                &tenant.edition,
                format!("tenant.edition {edition:?} is not one of {}", EDITIONS.join(", ")),
            ));
        }
        let logo = match &tenant.logo {
            Some(path) => Some(self.logo(path, &base_dir)?),
            None => None,
        };
        for rule in &faults {
            rule.get_ref()
                .check(&names, &base_dir)
                .map_err(|message| self.at(rule, message))?;
        }
        let faults = faults.into_iter().map(Spanned::into_inner).collect();
        if let Some(limits) = &rate_limits {
            limits
                .get_ref()
                .check()
                .map_err(|message| self.at(limits, message))?;
        }
        for event in &churn {
            event
                .get_ref()
                .check()
                .map_err(|message| self.at(event, message))?;
            if let Some(range) = &event.get_ref().user_range {
                let total = users.len() as u64 + u64::from(generate.users);
                let [first, last] = *range.get_ref();
                if u64::from(last) >= total {
                    return Err(self.at(
                        range,
                        match total {
                            0 => format!("user_range [{first}, {last}]: the tenant has no users"),
                            _ => format!(
                                "user_range [{first}, {last}]: the tenant's users are at positions 0 to {}",
                                total - 1
                            ),
                        },
                    ));
                }
            }
        }
        for change in &changes {
            change.get_ref().check(&names).map_err(|(span, message)| {
                (self.locate)(Some(span.unwrap_or_else(|| change.span())), message)
            })?;
        }
        if let Some(proxy) = &proxy {
            proxy
                .get_ref()
                .check()
                .map_err(|message| self.at(proxy, message))?;
        }
        if let Some(logs) = &logs {
            logs.get_ref()
                .check(&names)
                .map_err(|message| self.at(logs, message))?;
        }
        Ok(Scenario {
            logs: logs.map(Spanned::into_inner).unwrap_or_default(),
            proxy: proxy.map(Spanned::into_inner),
            accounts,
            churn: churn.into_iter().map(Spanned::into_inner).collect(),
            changes: changes.into_iter().map(Spanned::into_inner).collect(),
            rate_limits: rate_limits.map(Spanned::into_inner),
            faults,
            base_dir,
            source: std::sync::Arc::from(""),
            origin: origin.to_owned(),
            description,
            tenant,
            options,
            generate,
            integrations,
            users,
            groups,
            admins,
            policies,
            admin_units,
            logo,
        })
    }

    /// Reads and checks the logo file (a PNG of at most [`MAX_LOGO_BYTES`]).
    fn logo(&self, path: &Spanned<String>, base_dir: &Path) -> Result<bytes::Bytes> {
        let full = base_dir.join(path.get_ref());
        let bytes = std::fs::read(&full)
            .map_err(|e| self.at(path, format!("tenant.logo {}: {e}", full.display())))?;
        if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(self.at(path, format!("tenant.logo {} is not a PNG file", full.display())));
        }
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(self.at(
                path,
                format!(
                    "tenant.logo {} is larger than {MAX_LOGO_BYTES} bytes",
                    full.display()
                ),
            ));
        }
        Ok(bytes::Bytes::from(bytes))
    }

    fn check_policies(&self, policies: &[PolicyRecord], integrations: &[&str]) -> Result<()> {
        let mut names = HashSet::new();
        let mut applied = HashSet::new();
        for policy in policies {
            let name = policy.name.get_ref();
            if name.is_empty() || name == GLOBAL_POLICY_NAME {
                return Err(self.at(
                    &policy.name,
                    format!("policy name {name:?}: empty, or the global policy's (which always exists)"),
                ));
            }
            if !names.insert(name.as_str()) {
                return Err(self.at(&policy.name, format!("duplicate policy name {name:?}")));
            }
            if let Some(key) = &policy.policy_key {
                self.duo_id(key, "PO")?;
            }
            for integration in &policy.integrations {
                let wanted = integration.get_ref().as_str();
                if !integrations.contains(&wanted) {
                    return Err(self.at(integration, format!("no integration named {wanted:?}")));
                }
                if !applied.insert(wanted) {
                    return Err(self.at(
                        integration,
                        format!(
                            "integration {wanted:?} already has a policy (an application has at most one)"
                        ),
                    ));
                }
            }
            let not_a_table = policy.sections.iter().flatten().find(|(_, v)| !v.is_table());
            if let Some((key, _)) = not_a_table {
                return Err(self.at(
                    &policy.name,
                    format!("policy {name:?}: section {key:?} must be a table"),
                ));
            }
        }
        Ok(())
    }

    fn check_admin_units(
        &self,
        units: &[AdminUnitRecord],
        integrations: &[&str],
        admin_emails: &HashSet<&str>,
    ) -> Result<()> {
        let mut names = HashSet::new();
        for unit in units {
            let name = unit.name.get_ref();
            if name.is_empty() || !names.insert(name.as_str()) {
                return Err(self.at(
                    &unit.name,
                    format!("admin unit name {name:?}: empty or duplicate"),
                ));
            }
            if let Some(id) = &unit.admin_unit_id {
                self.duo_id(id, "DN")?;
            }
            for admin in &unit.admins {
                if !admin_emails.contains(admin.get_ref().as_str()) {
                    return Err(self.at(
                        admin,
                        format!("no written-out admin has the e-mail {:?}", admin.get_ref()),
                    ));
                }
            }
            for integration in &unit.integrations {
                if !integrations.contains(&integration.get_ref().as_str()) {
                    return Err(self.at(
                        integration,
                        format!("no integration named {:?}", integration.get_ref()),
                    ));
                }
            }
            for group in &unit.groups {
                if group.get_ref().is_empty() {
                    return Err(self.at(group, "group name must not be empty"));
                }
            }
        }
        Ok(())
    }

    fn check_host(&self, tenant: &Spanned<Tenant>, table: &str) -> Result<()> {
        let host = &tenant.get_ref().api_hostname;
        if host.is_empty() || host.contains([':', '/', ' ']) || !host.is_ascii() {
            return Err(self.at(
                tenant,
                format!("{table}.api_hostname {host:?} must be a bare host name (no scheme, port or path)"),
            ));
        }
        Ok(())
    }

    /// The child accounts: ids well-formed and unique (drawn from the child's seed when absent),
    /// host names bare and distinct from the parent's and each other's.
    fn accounts(&self, list: Vec<Spanned<ChildAccountFile>>, parent: &Tenant) -> Result<Vec<ChildAccount>> {
        let mut ids = HashSet::new();
        let mut hosts = HashSet::from([parent.api_hostname.to_ascii_lowercase()]);
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let span = item.span();
            let file = item.into_inner();
            self.check_host(&file.tenant, "accounts.tenant")?;
            if !hosts.insert(file.tenant.get_ref().api_hostname.to_ascii_lowercase()) {
                return Err(self.at(
                    &file.tenant,
                    format!(
                        "accounts.tenant.api_hostname {:?} is another account's",
                        file.tenant.get_ref().api_hostname
                    ),
                ));
            }
            if file.tenant.get_ref().objects_file.is_some() {
                return Err(self.at(&file.tenant, "a child account has no objects_file"));
            }
            if let Some(logo) = &file.tenant.get_ref().logo {
                return Err(self.at(logo, "a child account has no logo"));
            }
            let edition = &file.tenant.get_ref().edition;
            if !EDITIONS.contains(&edition.get_ref().as_str()) {
                return Err(self.at(
                    edition,
                    format!(
                        "accounts.tenant.edition {:?} is not one of {}",
                        edition.get_ref(),
                        EDITIONS.join(", ")
                    ),
                ));
            }
            let generate = match file.generate {
                Some(generate) => {
                    self.check_generate(&generate, 0)?;
                    generate.into_inner()
                }
                None => Generate::default(),
            };
            let account_id = match &file.account_id {
                Some(id) => {
                    self.duo_id(id, "DA")?;
                    id.get_ref().clone()
                }
                None => {
                    use rand::SeedableRng as _;
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(file.tenant.get_ref().seed);
                    crate::model::random_id(&mut rng, "DA")
                }
            };
            if !ids.insert(account_id.clone()) {
                return Err((self.locate)(
                    Some(span),
                    format!(
                        "duplicate account_id {account_id:?} (two children with the same seed need explicit ids)"
                    ),
                ));
            }
            out.push(ChildAccount {
                account_id,
                tenant: file.tenant.into_inner(),
                generate,
            });
        }
        Ok(out)
    }

    fn check_generate(&self, spanned: &Spanned<Generate>, written_users: usize) -> Result<()> {
        let generate = spanned.get_ref();
        let fail = |message: String| Err(self.at(spanned, message));
        for (name, share) in [
            ("enrolled", generate.enrolled),
            ("phones", generate.phones),
            ("tokens", generate.tokens),
            ("webauthn", generate.webauthn),
            ("shared_phones", generate.shared_phones),
            ("u2f", generate.u2f),
            ("desktop_tokens", generate.desktop_tokens),
            ("bypass_codes", generate.bypass_codes),
            ("desktop_authenticators", generate.desktop_authenticators),
            ("endpoints", generate.endpoints),
            ("registered_devices", generate.registered_devices),
            ("aliases", generate.aliases),
            ("non_ascii_names", generate.non_ascii_names),
            ("unusual_usernames", generate.unusual_usernames),
            ("directory_synced", generate.directory_synced),
            ("never_logged_in", generate.never_logged_in),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return fail(format!(
                    "generate.{name} is a share and must be between 0 and 1, not {share}"
                ));
            }
        }
        if !(0.0..=8.0).contains(&generate.group_size_skew) {
            return fail(format!(
                "generate.group_size_skew must be between 0 and 8, not {}",
                generate.group_size_skew
            ));
        }
        let [lo, hi] = generate.groups_per_user;
        if lo > hi {
            return fail(format!(
                "generate.groups_per_user [{lo}, {hi}]: the minimum exceeds the maximum"
            ));
        }
        let mix = generate.user_status;
        if generate.users > 0
            && mix.active + mix.bypass + mix.disabled + mix.locked_out + mix.pending_deletion == 0
        {
            return fail("generate.user_status weights are all 0".into());
        }
        if generate.admins > 0 && generate.admin_roles.values().all(|w| *w == 0) {
            return fail("generate.admin_roles weights are all 0".into());
        }
        self.check_shape(generate, written_users)
    }

    /// The exact counts of `[generate]`, each refused at its own key.
    fn check_shape(&self, generate: &Generate, written_users: usize) -> Result<()> {
        if let Some(n) = &generate.not_enrolled
            && *n.get_ref() > generate.users
        {
            return Err(self.at(
                n,
                format!(
                    "generate.not_enrolled = {} exceeds the {} generated users",
                    n.get_ref(),
                    generate.users
                ),
            ));
        }
        if let Some(counts) = &generate.status_counts {
            let mut sum = 0u64;
            for (status, n) in counts.get_ref() {
                self.one_of(status, &USER_STATUSES, "user status")?;
                sum += u64::from(*n);
            }
            if sum > u64::from(generate.users) {
                return Err(self.at(
                    counts,
                    format!(
                        "generate.status_counts add up to {sum}, more than the {} generated users",
                        generate.users
                    ),
                ));
            }
            let mix = generate.user_status;
            let named = |s: &str| counts.get_ref().contains_key(s);
            let left: u32 = [
                ("active", mix.active),
                ("bypass", mix.bypass),
                ("disabled", mix.disabled),
                ("locked out", mix.locked_out),
                ("pending deletion", mix.pending_deletion),
            ]
            .iter()
            .filter(|(s, _)| !named(s))
            .map(|(_, w)| w)
            .sum();
            if sum < u64::from(generate.users) && left == 0 {
                return Err(self.at(
                    counts,
                    "generate.status_counts leave users without a status: give a status not named here a weight in generate.user_status",
                ));
            }
        }
        if let Some(sizes) = &generate.group_sizes {
            if sizes.get_ref().len() > generate.groups as usize {
                return Err(self.at(
                    sizes,
                    format!(
                        "generate.group_sizes lists {} groups, more than the {} generated groups",
                        sizes.get_ref().len(),
                        generate.groups
                    ),
                ));
            }
            let users = u64::from(generate.users) + written_users as u64;
            if let Some(size) = sizes.get_ref().iter().find(|s| u64::from(**s) > users) {
                return Err(self.at(
                    sizes,
                    format!(
                        "generate.group_sizes: a group of {size} is larger than the tenant's {users} users"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn integrations(&self, list: Spanned<Vec<IntegrationFile>>) -> Result<Vec<Integration>> {
        if list.get_ref().is_empty() {
            return Err(self.at(&list, "a scenario needs at least one integration"));
        }
        let mut ikeys = HashSet::new();
        let mut names = HashSet::new();
        let mut out = Vec::new();
        for item in list.into_inner() {
            let ikey = item.ikey.get_ref();
            if ikey.is_empty() || !ikey.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(self.at(
                    &item.ikey,
                    "ikey must be non-empty ASCII letters and digits (Duo's are `DI` + 18)",
                ));
            }
            if !ikeys.insert(ikey.clone()) {
                return Err(self.at(&item.ikey, format!("duplicate ikey {ikey:?}")));
            }
            if !names.insert(item.name.get_ref().clone()) {
                return Err(self.at(
                    &item.name,
                    format!("duplicate integration name {:?}", item.name.get_ref()),
                ));
            }
            if item.skey.get_ref().is_empty() {
                return Err(self.at(&item.skey, "skey must not be empty"));
            }
            let mut grants = GrantSet::default();
            for grant in &item.grants {
                let parsed = Grant::from_name(grant.get_ref()).ok_or_else(|| {
                    self.at(
                        grant,
                        format!(
                            "{:?} is not a Duo Admin API permission; expected one of: {}",
                            grant.get_ref(),
                            Grant::ALL.map(Grant::name).join(", ")
                        ),
                    )
                })?;
                grants.insert(parsed);
            }
            let mut networks = Vec::new();
            for net in &item.networks {
                networks.push(
                    net.get_ref()
                        .parse::<IpNet>()
                        .map_err(|message| self.at(net, message))?,
                );
            }
            out.push(Integration {
                name: item.name.into_inner(),
                ikey: item.ikey.into_inner(),
                skey: item.skey.into_inner(),
                grants,
                kind: item.kind,
                networks,
                client_skey: item.client_skey,
            });
        }
        Ok(out)
    }

    fn one_of(&self, value: &Spanned<String>, allowed: &[&str], what: &str) -> Result<()> {
        if allowed.contains(&value.get_ref().as_str()) {
            Ok(())
        } else {
            Err(self.at(
                value,
                format!(
                    "{:?} is not a {what}; expected one of: {}",
                    value.get_ref(),
                    allowed.join(", ")
                ),
            ))
        }
    }

    fn duo_id(&self, id: &Spanned<String>, prefix: &str) -> Result<()> {
        if crate::model::is_duo_id(id.get_ref(), prefix) {
            Ok(())
        } else {
            Err(self.at(
                id,
                format!(
                    "{:?} is not a Duo id: `{prefix}` followed by 18 upper-case letters or digits",
                    id.get_ref()
                ),
            ))
        }
    }
}

/// Builds a scenario in code, for tests that need a tenant without a file. It renders TOML and
/// parses it, so a built scenario is validated exactly like a file.
///
/// ```
/// use mock_server::Scenario;
/// use mock_server::grants::Grant;
/// let scenario = Scenario::builder()
///     .users(301)
///     .groups(4)
///     .integration("reader", &[Grant::ReadResource, Grant::Administrators])
///     .integration("no-admins", &[Grant::ReadResource])
///     .build()?;
/// assert_eq!(scenario.integrations.len(), 2);
/// # Ok::<(), mock_server::Error>(())
/// ```
#[derive(Clone)]
pub struct ScenarioBuilder {
    api_hostname: String,
    seed: u64,
    anchor: Option<String>,
    users: u32,
    admins: u32,
    groups: u32,
    integrations: Vec<BuiltIntegration>,
    extra: String,
    /// Lines added to the `[generate]` table.
    generate: String,
}

/// An integration added to a builder: name, optional (ikey, skey), grants.
type BuiltIntegration = (String, Option<(String, String)>, Vec<Grant>);

impl fmt::Debug for ScenarioBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScenarioBuilder")
            .field("api_hostname", &self.api_hostname)
            .field("seed", &self.seed)
            .field("users", &self.users)
            .field(
                "integrations",
                &self.integrations.iter().map(|i| &i.0).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// A builder with Duo-shaped defaults: seed 1, no objects, and (unless integrations are
    /// added) one integration `main` with every read grant.
    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder {
            api_hostname: "api-00000000.duosecurity.com".to_owned(),
            seed: 1,
            anchor: None,
            users: 0,
            admins: 0,
            groups: 0,
            integrations: Vec::new(),
            extra: String::new(),
            generate: String::new(),
        }
    }
}

fn quoted(s: &str) -> String {
    // A JSON string is a valid TOML basic string.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

impl ScenarioBuilder {
    /// The API hostname.
    pub fn api_hostname(mut self, host: &str) -> Self {
        host.clone_into(&mut self.api_hostname);
        self
    }

    /// The seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The tenant's anchor (`"today"` or an RFC 3339 date or date-time).
    pub fn anchor(mut self, anchor: &str) -> Self {
        self.anchor = Some(anchor.to_owned());
        self
    }

    /// A `key = value` line of the `[generate]` table (shares of devices, …).
    pub fn generate(mut self, line: &str) -> Self {
        self.generate.push_str(line);
        self.generate.push('\n');
        self
    }

    /// Generated users.
    pub fn users(mut self, n: u32) -> Self {
        self.users = n;
        self
    }

    /// Generated administrators.
    pub fn admins(mut self, n: u32) -> Self {
        self.admins = n;
        self
    }

    /// Generated groups.
    pub fn groups(mut self, n: u32) -> Self {
        self.groups = n;
        self
    }

    /// An integration with these grants; its ikey and skey are derived from the name and seed.
    pub fn integration(mut self, name: &str, grants: &[Grant]) -> Self {
        self.integrations.push((name.to_owned(), None, grants.to_vec()));
        self
    }

    /// An integration with given keys.
    pub fn integration_with_keys(mut self, name: &str, ikey: &str, skey: &str, grants: &[Grant]) -> Self {
        self.integrations.push((
            name.to_owned(),
            Some((ikey.to_owned(), skey.to_owned())),
            grants.to_vec(),
        ));
        self
    }

    /// More TOML appended as is: `[options]`, `[[users]]`, `[generate.user_status]`…
    pub fn toml(mut self, text: &str) -> Self {
        self.extra.push('\n');
        self.extra.push_str(text);
        self
    }

    /// The scenario's TOML text.
    pub fn to_toml(&self) -> String {
        use rand::{Rng, SeedableRng};
        let anchor = self
            .anchor
            .as_ref()
            .map(|a| format!("anchor = {}\n", quoted(a)))
            .unwrap_or_default();
        let mut out = format!(
            "[tenant]\napi_hostname = {}\nseed = {}\n{anchor}\n[generate]\nusers = {}\nadmins = {}\ngroups = {}\n{}",
            quoted(&self.api_hostname),
            self.seed,
            self.users,
            self.admins,
            self.groups,
            self.generate
        );
        let default = [(
            "main".to_owned(),
            None,
            vec![
                Grant::ReadResource,
                Grant::Administrators,
                Grant::ReadInformation,
                Grant::Settings,
            ],
        )];
        let integrations = if self.integrations.is_empty() {
            &default[..]
        } else {
            &self.integrations[..]
        };
        for (name, keys, grants) in integrations {
            let (ikey, skey) = keys.clone().unwrap_or_else(|| {
                let mut rng =
                    rand_chacha::ChaCha8Rng::seed_from_u64(self.seed ^ crate::store::key_hash(name));
                let skey: String = (0..40)
                    .map(|_| {
                        char::from(
                            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                [rng.random_range(0..62)],
                        )
                    })
                    .collect();
                (crate::model::random_id(&mut rng, "DI"), skey)
            });
            let grants: Vec<String> = grants.iter().map(|g| quoted(g.name())).collect();
            out.push_str(&format!(
                "\n[[integrations]]\nname = {}\nikey = {}\nskey = {}\ngrants = [{}]\n",
                quoted(name),
                quoted(&ikey),
                quoted(&skey),
                grants.join(", ")
            ));
        }
        out.push_str(&self.extra);
        out
    }

    /// Validates and returns the scenario (errors located in the rendered text, `<builder>`).
    pub fn build(&self) -> Result<Scenario> {
        Scenario::parse(&self.to_toml(), "<builder>")
    }
}
