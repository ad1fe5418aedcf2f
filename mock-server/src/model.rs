//! Duo's objects (users, groups, administrators and what they embed) and their JSON as Duo
//! renders it: keys in alphabetical order, integer unix times, `null` where Duo has nulls.
//!
//! Objects are rendered once, when the tenant is built; requests only copy the bytes.

use rand::Rng;

/// Characters of the 18-character tail of a Duo id.
const ID_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Whether `id` is `prefix` followed by 18 upper-case letters or digits (`DU3RP9I2WOC59VZX672N`).
pub fn is_duo_id(id: &str, prefix: &str) -> bool {
    id.len() == 20
        && id.starts_with(prefix)
        && id
            .bytes()
            .skip(2)
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Duo's built-in administrator roles. A custom role's name may name the company, so the tools
/// that write what they saw of a tenant keep these by name and count any other as a custom role.
pub const DUO_ROLES: [&str; 9] = [
    "Owner",
    "Administrator",
    "Application Manager",
    "User Manager",
    "Help Desk",
    "Billing",
    "Phishing Manager",
    "Read-only",
    "Security Analyst",
];

/// A random Duo id with the given two-letter prefix.
pub fn random_id(rng: &mut impl Rng, prefix: &str) -> String {
    let mut id = String::with_capacity(20);
    id.push_str(prefix);
    for _ in 0..18 {
        id.push(char::from(ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())]));
    }
    id
}

/// `YYYY-MM-DDTHH:MM:SS` (Duo's phone `last_seen`).
pub fn iso_time(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = duo_auth::date::civil_from_days(unix.div_euclid(86_400));
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    if !(0..=9999).contains(&year) {
        return format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    }
    // Digit by digit: a phone's `last_seen` is made for most of a million users, and `format!`
    // cost more than the rest of the phone.
    let mut text = String::with_capacity(19);
    for (value, width, after) in [
        (year, 4, '-'),
        (month, 2, '-'),
        (day, 2, 'T'),
        (hour, 2, ':'),
        (minute, 2, ':'),
        (second, 2, ' '),
    ] {
        for place in (0..width).rev() {
            let digit = value / 10_i64.pow(place) % 10;
            text.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
        if after != ' ' {
            text.push(after);
        }
    }
    text
}

/// A phone embedded in a user.
#[derive(Debug, Clone)]
pub struct Phone {
    /// `DP…`
    pub phone_id: String,
    /// E.164 number.
    pub number: String,
    /// `Apple iOS`, `Google Android`, …
    pub platform: &'static str,
    /// `Mobile` or `Landline`.
    pub kind: &'static str,
    /// Device model.
    pub model: &'static str,
    /// Whether Duo Mobile is activated on it.
    pub activated: bool,
    /// ISO-8601 time it was last seen, or empty.
    pub last_seen: String,
}

/// A hardware token embedded in a user.
#[derive(Debug, Clone)]
pub struct Token {
    /// `DH…`
    pub token_id: String,
    /// Serial number.
    pub serial: String,
    /// `h6`, `h8`, `yk`, `d1`, `t6`…
    pub kind: &'static str,
    /// TOTP step for TOTP tokens, else `null`.
    pub totp_step: Option<u32>,
}

/// A WebAuthn credential embedded in a user.
#[derive(Debug, Clone)]
pub struct WebAuthn {
    /// `WA…`
    pub webauthnkey: String,
    /// Name the user gave it.
    pub credential_name: String,
    /// Kind of authenticator.
    pub label: &'static str,
    /// Unix seconds.
    pub date_added: i64,
}

/// A U2F token embedded in a user (Duo deprecated U2F for WebAuthn).
#[derive(Debug, Clone)]
pub struct U2fToken {
    /// `D2…`
    pub registration_id: String,
    /// Unix seconds.
    pub date_added: i64,
}

/// A legacy Duo desktop token embedded in a user.
#[derive(Debug, Clone)]
pub struct DesktopToken {
    /// `DT…`
    pub desktoptoken_id: String,
    /// The computer's name.
    pub name: String,
    /// `Windows`, `Mac OS X`.
    pub platform: &'static str,
}

/// Everything a user object shows, before rendering.
#[derive(Debug, Clone)]
pub struct User {
    /// `DU…`
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// Full name.
    pub realname: Option<String>,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
    /// E-mail address.
    pub email: String,
    /// One of the lower-case statuses.
    pub status: &'static str,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds or never.
    pub last_login: Option<i64>,
    /// Set for directory-synced users.
    pub last_directory_sync: Option<i64>,
    /// Directory id, only for directory-synced users.
    pub external_id: Option<String>,
    /// Free text.
    pub notes: String,
    /// Up to 8 aliases; the first four also appear as `alias1`…`alias4`.
    pub aliases: Vec<String>,
    /// Indices into the tenant's groups, in the order shown.
    pub groups: Vec<u32>,
    /// Phones.
    pub phones: Vec<Phone>,
    /// Hardware tokens.
    pub tokens: Vec<Token>,
    /// WebAuthn credentials.
    pub webauthn: Vec<WebAuthn>,
    /// U2F tokens.
    pub u2f: Vec<U2fToken>,
    /// Legacy desktop tokens.
    pub desktop_tokens: Vec<DesktopToken>,
}

impl User {
    /// Duo's `is_enrolled`: the user has a phone, a hardware token or a WebAuthn credential.
    pub fn is_enrolled(&self) -> bool {
        !(self.phones.is_empty() && self.tokens.is_empty() && self.webauthn.is_empty())
    }

    /// Duo's `lockout_reason` for the status.
    fn lockout_reason(&self) -> Option<&'static str> {
        (self.status == "locked out").then_some("Failed Attempts")
    }
}

/// A group, before rendering.
#[derive(Debug, Clone)]
pub struct Group {
    /// `DG…`
    pub group_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// `active`, `bypass` or `disabled` (spelling set by the scenario).
    pub status: &'static str,
}

/// An administrator, before rendering.
#[derive(Debug, Clone)]
pub struct Admin {
    /// `DE…`
    pub admin_id: String,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Phone or none.
    pub phone: Option<String>,
    /// Role name.
    pub role: String,
    /// `Active`, `Disabled`, `Expired` or `Pending Activation`.
    pub status: &'static str,
    /// Unix seconds or never.
    pub last_login: Option<i64>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Whether a password change is due.
    pub password_change_required: bool,
    /// Ids of the administrative units it belongs to (none: unrestricted).
    pub admin_units: Vec<String>,
    /// Whether its password is managed outside Duo.
    pub external_password_mgmt: bool,
}

/// Rendering switches taken from the scenario's options.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Emit the legacy `voice_enabled` on groups.
    pub group_voice_enabled: bool,
    /// Emit `enable_auto_prompt` on users.
    pub user_enable_auto_prompt: bool,
}

impl RenderOptions {
    /// The switches a scenario's options set.
    pub fn of(options: &crate::scenario::Options) -> Self {
        Self {
            group_voice_enabled: options.group_voice_enabled,
            user_enable_auto_prompt: options.user_enable_auto_prompt,
        }
    }
}

impl User {
    /// A user as Duo creates one: active, never logged in, no methods, groups or aliases.
    pub fn new(user_id: String, username: String, email: String, created: i64) -> Self {
        Self {
            user_id,
            username,
            email,
            realname: None,
            firstname: None,
            lastname: None,
            status: "active",
            created,
            last_login: None,
            last_directory_sync: None,
            external_id: None,
            notes: String::new(),
            aliases: Vec::new(),
            groups: Vec::new(),
            phones: Vec::new(),
            tokens: Vec::new(),
            webauthn: Vec::new(),
            u2f: Vec::new(),
            desktop_tokens: Vec::new(),
        }
    }

    /// The user rendered as a JSON object (for edits of a built tenant). Users made this way
    /// belong to no group yet.
    pub fn to_object(&self, options: RenderOptions) -> serde_json::Map<String, serde_json::Value> {
        let mut json = Vec::new();
        render_user(self, |_| b"", options, &mut json);
        match serde_json::from_slice(&json) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => serde_json::Map::new(),
        }
    }
}

/// A small JSON writer: keys are written by the caller in Duo's (alphabetical) order.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    pub(crate) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        write_str(out, value);
        self
    }

    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, b"null"),
        }
    }

    pub(crate) fn int(&mut self, key: &str, value: i64) -> &mut Self {
        write_int(self.key(key), value);
        self
    }

    pub(crate) fn opt_int(&mut self, key: &str, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) => self.int(key, v),
            None => self.raw(key, b"null"),
        }
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.raw(key, if value { b"true" } else { b"false" })
    }

    pub(crate) fn raw(&mut self, key: &str, json: &[u8]) -> &mut Self {
        self.key(key).extend_from_slice(json);
        self
    }

    pub(crate) fn array<T>(
        &mut self,
        key: &str,
        items: &[T],
        mut render: impl FnMut(&T, &mut Vec<u8>),
    ) -> &mut Self {
        let out = self.key(key);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            render(item, out);
        }
        out.push(b']');
        self
    }

    pub(crate) fn end(&mut self) {
        self.out.push(b'}');
    }
}

/// Writes `s` as a JSON string (serde_json's escaping: UTF-8 kept, controls escaped).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Nearly every string of a tenant needs no escape: copied as is, it renders a user 10%
    // faster than through serde_json, which escapes exactly the bytes `needs_escape` finds.
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Whether `bytes` hold a byte JSON escapes: below 0x20, `"` or `\\`. Eight bytes at a time
/// (a user is about 1.4 KB of strings, checked at every build).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    // Non-zero exactly when some byte of `x` is below `n` (n <= 128): bytes of 0x80 and more
    // never count, their high bit being cleared by `!x`.
    let any_below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH_BITS;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let x = u64::from_le_bytes(eight);
        let found = any_below(x, 0x20)
            | any_below(x ^ (ONES * u64::from(b'"')), 1)
            | any_below(x ^ (ONES * u64::from(b'\\')), 1);
        if found != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Writes `value` in decimal (as `write!` does, without the formatting machinery).
pub fn write_int(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[start..]);
}

/// Renders a user. `group_json(i)` gives the rendered JSON of group `i`.
pub fn render_user<'g>(
    user: &User,
    group_json: impl Fn(u32) -> &'g [u8],
    options: RenderOptions,
    out: &mut Vec<u8>,
) {
    let alias = |i: usize| user.aliases.get(i).map(String::as_str);
    let mut o = Obj::new(out);
    o.opt_str("alias1", alias(0))
        .opt_str("alias2", alias(1))
        .opt_str("alias3", alias(2))
        .opt_str("alias4", alias(3));
    {
        let out = o.key("aliases");
        out.push(b'{');
        for (i, a) in user.aliases.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"\"alias");
            write_int(out, i as i64 + 1);
            out.extend_from_slice(b"\":");
            write_str(out, a);
        }
        out.push(b'}');
    }
    o.int("created", user.created)
        .array("desktoptokens", &user.desktop_tokens, render_desktop_token)
        .str("email", &user.email);
    if options.user_enable_auto_prompt {
        o.bool("enable_auto_prompt", true);
    }
    if let Some(external_id) = &user.external_id {
        o.str("external_id", external_id);
    }
    o.opt_str("firstname", user.firstname.as_deref())
        .array("groups", &user.groups, |g, out| {
            out.extend_from_slice(group_json(*g));
        })
        .bool("is_enrolled", user.is_enrolled())
        .opt_int("last_directory_sync", user.last_directory_sync)
        .opt_int("last_login", user.last_login)
        .opt_str("lastname", user.lastname.as_deref())
        .opt_str("lockout_reason", user.lockout_reason())
        .str("notes", &user.notes)
        .array("phones", &user.phones, render_phone)
        .opt_str("realname", user.realname.as_deref())
        .str("status", user.status)
        .array("tokens", &user.tokens, render_token)
        .array("u2ftokens", &user.u2f, render_u2f)
        .str("user_id", &user.user_id)
        .str("username", &user.username)
        .array("webauthncredentials", &user.webauthn, render_webauthn)
        .end();
}

fn render_phone(p: &Phone, out: &mut Vec<u8>) {
    let smartphone = p.kind == "Mobile";
    let capabilities: &[u8] = if p.activated {
        b"[\"auto\",\"push\",\"sms\",\"phone\",\"mobile_otp\"]"
    } else if smartphone {
        b"[\"sms\",\"phone\",\"mobile_otp\"]"
    } else {
        b"[\"phone\"]"
    };
    let (encrypted, fingerprint, screenlock, tampered) = if p.activated {
        ("Encrypted", "Configured", "Locked", "Not tampered")
    } else {
        ("", "", "", "")
    };
    Obj::new(out)
        .bool("activated", p.activated)
        .raw("capabilities", capabilities)
        .str("encrypted", encrypted)
        .str("extension", "")
        .str("fingerprint", fingerprint)
        .str("last_seen", &p.last_seen)
        .str("model", p.model)
        .str("name", "")
        .str("number", &p.number)
        .str("phone_id", &p.phone_id)
        .str("platform", p.platform)
        .raw("postdelay", b"null")
        .raw("predelay", b"null")
        .str("screenlock", screenlock)
        .bool("sms_passcodes_sent", !p.activated && smartphone)
        .str("tampered", tampered)
        .str("type", p.kind)
        .end();
}

fn render_token(t: &Token, out: &mut Vec<u8>) {
    Obj::new(out)
        .str("serial", &t.serial)
        .str("token_id", &t.token_id)
        .opt_int("totp_step", t.totp_step.map(i64::from))
        .str("type", t.kind)
        .end();
}

fn render_webauthn(w: &WebAuthn, out: &mut Vec<u8>) {
    Obj::new(out)
        .str("credential_name", &w.credential_name)
        .int("date_added", w.date_added)
        .str("label", w.label)
        .str("webauthnkey", &w.webauthnkey)
        .end();
}

fn render_u2f(u: &U2fToken, out: &mut Vec<u8>) {
    Obj::new(out)
        .int("date_added", u.date_added)
        .str("registration_id", &u.registration_id)
        .end();
}

fn render_desktop_token(d: &DesktopToken, out: &mut Vec<u8>) {
    Obj::new(out)
        .str("desktoptoken_id", &d.desktoptoken_id)
        .str("name", &d.name)
        .str("platform", d.platform)
        .str("type", "Desktop Token")
        .end();
}

/// Renders a group as list endpoints and embedded `groups` show it.
pub fn render_group(group: &Group, options: RenderOptions, out: &mut Vec<u8>) {
    let mut o = Obj::new(out);
    o.str("desc", &group.desc)
        .str("group_id", &group.group_id)
        .bool("mobile_otp_enabled", false)
        .str("name", &group.name)
        .bool("push_enabled", false)
        .bool("sms_enabled", false)
        .str("status", group.status);
    if options.group_voice_enabled {
        o.bool("voice_enabled", false);
    }
    o.end();
}

/// Renders a group member as `/admin/v2/groups/{id}/users` lists it.
pub fn render_member(user_id: &str, username: &str, out: &mut Vec<u8>) {
    Obj::new(out)
        .str("user_id", user_id)
        .str("username", username)
        .end();
}

/// Renders an administrator.
pub fn render_admin(admin: &Admin, out: &mut Vec<u8>) {
    Obj::new(out)
        .str("admin_id", &admin.admin_id)
        .array("admin_units", &admin.admin_units, |id, out| write_str(out, id))
        .opt_int("created", admin.created)
        .str("email", &admin.email)
        .raw("hardtoken", b"null")
        .opt_int("last_login", admin.last_login)
        .str("name", &admin.name)
        .bool("password_change_required", admin.password_change_required)
        .opt_str("phone", admin.phone.as_deref())
        .bool("restricted_by_admin_units", !admin.admin_units.is_empty())
        .str("role", &admin.role)
        .str("status", admin.status)
        .end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    proptest::proptest! {
        // The fast paths write what serde_json and `format!` wrote before them, byte for byte.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f]){0,40}") {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&s).unwrap_or_default());
        }

        #[test]
        fn integers_are_written_as_format_writes_them(n in proptest::num::i64::ANY) {
            let mut ours = Vec::new();
            write_int(&mut ours, n);
            proptest::prop_assert_eq!(ours, n.to_string().into_bytes());
        }

        #[test]
        fn times_are_written_as_format_wrote_them(unix in -70_000_000_000_i64..300_000_000_000) {
            let days = unix.div_euclid(86_400);
            let secs = unix.rem_euclid(86_400);
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z.rem_euclid(146_097);
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let day = doy - (153 * mp + 2) / 5 + 1;
            let month = if mp < 10 { mp + 3 } else { mp - 9 };
            let year = yoe + era * 400 + i64::from(month <= 2);
            let expected = format!(
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            proptest::prop_assert_eq!(iso_time(unix), expected);
        }
    }

    #[test]
    fn escapes_are_found_at_every_position() {
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
            for at in 0..20 {
                let mut s = "é".repeat(at % 3) + &"a".repeat(at);
                s.push(special);
                s.push_str("tail");
                let mut ours = Vec::new();
                write_str(&mut ours, &s);
                assert_eq!(ours, serde_json::to_vec(&s).unwrap_or_default(), "{s:?}");
            }
        }
    }

    #[test]
    fn random_ids_have_duo_shape() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for prefix in ["DU", "DG", "DE", "DP", "DH"] {
            let id = random_id(&mut rng, prefix);
            assert!(is_duo_id(&id, prefix), "{id}");
        }
        assert!(!is_duo_id("DU3RP9I2WOC59VZX672n", "DU"));
        assert!(!is_duo_id("DU3RP9I2WOC59VZX672", "DU"));
        assert!(!is_duo_id("DG3RP9I2WOC59VZX672N", "DU"));
    }

    #[test]
    fn rendered_objects_are_valid_json_with_sorted_keys() {
        let user = User {
            user_id: "DU3RP9I2WOC59VZX672N".into(),
            username: "jöhn \"q\"".into(),
            realname: Some("Jöhn Q".into()),
            firstname: None,
            lastname: None,
            email: "j@example.com".into(),
            status: "locked out",
            created: 1,
            last_login: None,
            last_directory_sync: None,
            external_id: Some("x".into()),
            notes: String::new(),
            aliases: vec!["a1".into(), "a2".into()],
            groups: vec![0],
            phones: vec![],
            tokens: vec![Token {
                token_id: "DHAAAAAAAAAAAAAAAAAA".into(),
                serial: "1".into(),
                kind: "h6",
                totp_step: None,
            }],
            webauthn: vec![],
            u2f: vec![],
            desktop_tokens: vec![],
        };
        let options = RenderOptions {
            group_voice_enabled: true,
            user_enable_auto_prompt: true,
        };
        let mut out = Vec::new();
        render_user(&user, |_| b"{\"name\":\"g\"}", options, &mut out);
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let keys: Vec<_> = value.as_object().expect("object").keys().cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "Duo's key order is alphabetical");
        assert_eq!(value["alias2"], "a2");
        assert_eq!(value["alias3"], serde_json::Value::Null);
        assert_eq!(value["aliases"]["alias1"], "a1");
        assert_eq!(value["lockout_reason"], "Failed Attempts");
        assert_eq!(value["is_enrolled"], true);
        assert_eq!(value["groups"][0]["name"], "g");
        assert_eq!(value["username"], "jöhn \"q\"");
    }
}
