//! What reached `DUO_OUTPUT` against the fake's own log: nothing lost, nothing twice (beyond a
//! killed run's pages in flight), nothing invented. Events are compared as JSON values, so a
//! collector may re-serialize an event but not change it.

use std::collections::HashMap;

use serde_json::Value;

/// One event of the fake's log, as the judge names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// Its log type.
    pub log_type: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// Its time as the event shows it.
    pub time: String,
    /// Its id (`txid`, `telephony_id`, `activity_id`, `sekey`), or a digest of it when it has none.
    pub id: String,
}

impl Known {
    /// `authentication event 2026-…Z txid 8f…`.
    pub fn describe(&self) -> String {
        format!("{} event {} ({})", self.log_type, self.time, self.id)
    }
}

/// The fake's events of every requested type: each event's canonical JSON → who it is, how
/// many events have that very JSON (an administrator event has no id: two alike in one second
/// are two events), and whether the collector's filter keeps it.
#[derive(Debug, Default)]
pub struct Truth {
    events: HashMap<String, (Known, usize, bool)>,
}

impl Truth {
    /// Adds the events of `log_type` from a dump (a JSON array, oldest first).
    pub fn add_dump(&mut self, log_type: &str, dump: &[u8]) -> Result<(), String> {
        self.add_dump_filtered(log_type, dump, None)
    }

    /// Adds the events of `log_type` from a dump; with `users`, only the events of those users
    /// (`user.key`, as Duo's `users` filter reads it) are to be delivered, the others are known
    /// but outside the filter.
    pub fn add_dump_filtered(
        &mut self,
        log_type: &str,
        dump: &[u8],
        users: Option<&[String]>,
    ) -> Result<(), String> {
        let events: Vec<Value> = serde_json::from_slice(dump)
            .map_err(|e| format!("the fake's dump of {log_type} is not JSON: {e}"))?;
        for event in events {
            let known = identify(log_type, &event);
            let kept =
                users.is_none_or(|users| user_key(&event).is_some_and(|key| users.iter().any(|u| u == key)));
            self.events
                .entry(canonical(log_type, &event))
                .or_insert((known, 0, kept))
                .1 += 1;
        }
        Ok(())
    }

    /// Every event of `log_type` in `[lo_ms, hi_ms]` that the filter keeps, oldest first (events
    /// alike once each: the judge requires as many as the fake has).
    pub fn window(&self, log_type: &str, lo_ms: i64, hi_ms: i64) -> Vec<(&String, &Known)> {
        let mut events: Vec<(&String, &Known)> = self
            .events
            .iter()
            .filter(|(_, (k, _, kept))| *kept && k.log_type == log_type && (lo_ms..=hi_ms).contains(&k.at_ms))
            .map(|(key, (k, _, _))| (key, k))
            .collect();
        events.sort_by(|a, b| (a.1.at_ms, &a.1.id).cmp(&(b.1.at_ms, &b.1.id)));
        events
    }

    /// The event a canonical text is, and how many events are alike, when the fake has it.
    pub fn get(&self, key: &str) -> Option<(&Known, usize)> {
        self.events.get(key).map(|(k, n, _)| (k, *n))
    }

    /// Whether the filter keeps the event a canonical text is (an unknown one: yes).
    fn kept(&self, key: &str) -> bool {
        self.events.get(key).is_none_or(|(_, _, kept)| *kept)
    }
}

/// The user an authentication event names (`user.key`).
pub fn user_key(event: &Value) -> Option<&str> {
    event.get("user")?.get("key")?.as_str()
}

/// The key an event is compared by: its type and its JSON value written with sorted keys.
pub fn canonical(log_type: &str, event: &Value) -> String {
    // serde_json's map is ordered by key (no `preserve_order`), so writing sorts it.
    format!("{log_type}\u{1f}{event}")
}

/// Who an event is: its time and id as it shows them.
pub fn identify(log_type: &str, event: &Value) -> Known {
    let text = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
    let time = text("isotimestamp")
        .or_else(|| text("ts"))
        .or_else(|| event.get("timestamp").map(Value::to_string))
        .or_else(|| event.get("surfaced_timestamp").map(Value::to_string))
        .unwrap_or_else(|| "?".into());
    let at_ms = text("isotimestamp")
        .or_else(|| text("ts"))
        .and_then(|t| iso_ms(&t))
        .or_else(|| event.get("timestamp").and_then(Value::as_i64).map(|s| s * 1000))
        .or_else(|| event.get("surfaced_timestamp").and_then(Value::as_i64))
        .unwrap_or(0);
    let id = ["txid", "telephony_id", "activity_id", "sekey"]
        .iter()
        .find_map(|k| text(k).map(|v| format!("{k} {v}")))
        .unwrap_or_else(|| {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(event.to_string().as_bytes());
            let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            format!("no id; JSON sha256 {hex}…")
        });
    Known {
        log_type: log_type.to_owned(),
        at_ms,
        time,
        id,
    }
}

/// `2026-12-07T08:00:01.123456+00:00` (or `Z`, any fraction) → unix milliseconds.
pub fn iso_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num =
        |r: std::ops::Range<usize>| -> Option<i64> { std::str::from_utf8(b.get(r)?).ok()?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut ms = 0;
    if b.get(19) == Some(&b'.') {
        let digits: String = text[20..].chars().take_while(char::is_ascii_digit).collect();
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse().ok()?;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

/// One line of `DUO_OUTPUT`, read.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// 1-based line number.
    pub line: usize,
    /// `log_type`.
    pub log_type: String,
    /// The canonical key ([`canonical`]).
    pub key: String,
    /// The event.
    pub event: Value,
}

/// Reads `DUO_OUTPUT` (a missing file is no event). A line that is not
/// `{"log_type": "...", "event": {...}}` is an error naming it; a last line without its newline
/// (a run killed mid-write) is left out.
pub fn read_output(bytes: &[u8]) -> Result<Vec<Delivered>, String> {
    let mut out = Vec::new();
    let complete = bytes.rsplit_once_newline();
    for (i, line) in complete.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let bad = |why: &str| format!("DUO_OUTPUT line {} {why}: {}", i + 1, preview(line));
        let value: Value = serde_json::from_slice(line).map_err(|_| bad("is not JSON"))?;
        let log_type = value
            .get("log_type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("has no \"log_type\" string"))?
            .to_owned();
        let event = value
            .get("event")
            .filter(|e| e.is_object())
            .ok_or_else(|| bad("has no \"event\" object"))?
            .clone();
        out.push(Delivered {
            line: i + 1,
            key: canonical(&log_type, &event),
            log_type,
            event,
        });
    }
    Ok(out)
}

trait Complete {
    fn rsplit_once_newline(&self) -> &[u8];
}

impl Complete for [u8] {
    /// Up to and including the last newline.
    fn rsplit_once_newline(&self) -> &[u8] {
        match self.iter().rposition(|b| *b == b'\n') {
            Some(i) => &self[..=i],
            None => &[],
        }
    }
}

fn preview(line: &[u8]) -> String {
    String::from_utf8_lossy(line).chars().take(120).collect()
}

/// The first problem with what was delivered after a successful run: an invented or changed
/// event, a duplicate beyond `allowance` (per log type), or a missing one of `required`.
pub fn first_problem(
    truth: &Truth,
    delivered: &[Delivered],
    required: &[(&String, &Known)],
    allowance: &HashMap<String, usize>,
) -> Option<Problem> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut duplicates: HashMap<&str, usize> = HashMap::new();
    for line in delivered {
        let Some((known, alike)) = truth.get(&line.key) else {
            let who = identify(&line.log_type, &line.event);
            return Some(Problem::Invented {
                line: line.line,
                what: who.describe(),
            });
        };
        if !truth.kept(&line.key) {
            return Some(Problem::OutsideFilter {
                line: line.line,
                known: known.clone(),
                user: user_key(&line.event).unwrap_or("none").to_owned(),
            });
        }
        let n = seen.entry(line.key.as_str()).or_default();
        *n += 1;
        if *n > alike {
            let d = duplicates.entry(line.log_type.as_str()).or_default();
            *d += 1;
            let allowed = allowance.get(&line.log_type).copied().unwrap_or(0);
            if *d > allowed {
                return Some(Problem::Duplicate {
                    line: line.line,
                    known: known.clone(),
                    allowed,
                });
            }
        }
    }
    required
        .iter()
        .find(|(key, _)| {
            let alike = truth.get(key).map_or(1, |(_, n)| n);
            seen.get(key.as_str()).copied().unwrap_or(0) < alike
        })
        .map(|(_, known)| Problem::Missing((*known).clone()))
}

/// What is wrong with the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A line that is no event of the fake's log (changed, re-typed, from another endpoint).
    Invented {
        /// Its line.
        line: usize,
        /// It, named.
        what: String,
    },
    /// An event delivered again, beyond what a kill allows.
    Duplicate {
        /// The line that repeated it.
        line: usize,
        /// The event.
        known: Known,
        /// Repeats allowed for its type.
        allowed: usize,
    },
    /// A settled event not delivered.
    Missing(Known),
    /// An event of a user the collector was not asked for (`DUO_LOG_USERS`).
    OutsideFilter {
        /// Its line.
        line: usize,
        /// The event.
        known: Known,
        /// The user it names.
        user: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_read_to_the_millisecond() {
        assert_eq!(iso_ms("1970-01-01T00:00:01.500+00:00"), Some(1500));
        assert_eq!(iso_ms("2026-12-07T08:00:00+00:00"), Some(1_796_630_400_000));
        assert_eq!(iso_ms("2000-03-01T00:00:00.123456Z"), Some(951_868_800_123));
        assert_eq!(iso_ms("yesterday"), None);
    }

    #[test]
    fn the_judge_names_what_is_invented_twice_or_missing() {
        let mut truth = Truth::default();
        truth
            .add_dump(
                "authentication",
                br#"[{"txid":"a","timestamp":10,"isotimestamp":"1970-01-01T00:00:10.000+00:00"},
                     {"txid":"b","timestamp":20,"isotimestamp":"1970-01-01T00:00:20.000+00:00"}]"#,
            )
            .unwrap();
        let out = read_output(
            b"{\"log_type\":\"authentication\",\"event\":{\"timestamp\":10,\"txid\":\"a\",\"isotimestamp\":\"1970-01-01T00:00:10.000+00:00\"}}\n{\"log_type\":\"authentication\",\"ev",
        )
        .unwrap();
        assert_eq!(out.len(), 1, "a cut last line is left out");
        let required = truth.window("authentication", 0, 30_000);
        let none = HashMap::new();
        match first_problem(&truth, &out, &required, &none) {
            Some(Problem::Missing(k)) => assert_eq!(k.id, "txid b"),
            other => panic!("{other:?}"),
        }
        let twice = [out[0].clone(), out[0].clone()];
        assert!(matches!(
            first_problem(&truth, &twice, &required[..1], &none),
            Some(Problem::Duplicate {
                line: 1,
                allowed: 0,
                ..
            })
        ));
        let allow = HashMap::from([("authentication".to_owned(), 1)]);
        assert_eq!(first_problem(&truth, &twice, &required[..1], &allow), None);
        let changed = read_output(
            b"{\"log_type\":\"authentication\",\"event\":{\"timestamp\":\"10\",\"txid\":\"a\"}}\n",
        )
        .unwrap();
        assert!(matches!(
            first_problem(&truth, &changed, &[], &none),
            Some(Problem::Invented { line: 1, .. })
        ));
        let mut filtered = Truth::default();
        filtered
            .add_dump_filtered(
                "authentication",
                br#"[{"txid":"a","timestamp":10,"isotimestamp":"1970-01-01T00:00:10.000+00:00","user":{"key":"DU1"}},
                     {"txid":"b","timestamp":20,"isotimestamp":"1970-01-01T00:00:20.000+00:00","user":{"key":"DU2"}}]"#,
                Some(&["DU2".to_owned()]),
            )
            .unwrap();
        let window = filtered.window("authentication", 0, 30_000);
        assert_eq!(window.len(), 1, "only the filter's user is required");
        let first = read_output(
            b"{\"log_type\":\"authentication\",\"event\":{\"timestamp\":10,\"txid\":\"a\",\"isotimestamp\":\"1970-01-01T00:00:10.000+00:00\",\"user\":{\"key\":\"DU1\"}}}\n",
        )
        .unwrap();
        match first_problem(&filtered, &first, &window, &none) {
            Some(Problem::OutsideFilter { line: 1, known, user }) => {
                assert_eq!((known.id.as_str(), user.as_str()), ("txid a", "DU1"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            read_output(b"not json\n")
                .unwrap_err()
                .starts_with("DUO_OUTPUT line 1 is not JSON")
        );
    }
}
