//! Where and from what a request came, as tables: cities with an address block of their own,
//! browsers and operating systems, and the JSON writing shared by every log (times, ids,
//! strings). A user mostly signs in from their home city (drawn from their id), sometimes
//! elsewhere.

use super::random::Draws;
use crate::model::write_int;

/// `(city, state, country, first two octets of its addresses)`.
const PLACES: [(&str, &str, &str, [u8; 2]); 16] = [
    ("Ann Arbor", "Michigan", "United States", [141, 211]),
    ("Austin", "Texas", "United States", [66, 90]),
    ("Seattle", "Washington", "United States", [73, 97]),
    ("New York", "New York", "United States", [68, 175]),
    ("Chicago", "Illinois", "United States", [98, 226]),
    ("San Francisco", "California", "United States", [104, 174]),
    ("Raleigh", "North Carolina", "United States", [152, 7]),
    ("Toronto", "Ontario", "Canada", [142, 112]),
    ("London", "England", "United Kingdom", [81, 129]),
    ("Berlin", "Berlin", "Germany", [91, 64]),
    ("Paris", "Ile-de-France", "France", [90, 84]),
    ("Dublin", "Leinster", "Ireland", [89, 100]),
    ("São Paulo", "Sao Paulo", "Brazil", [177, 32]),
    ("Tokyo", "Tokyo", "Japan", [126, 15]),
    ("Sydney", "New South Wales", "Australia", [101, 160]),
    ("Bengaluru", "Karnataka", "India", [106, 51]),
];

/// `(browser, version, os, os version)`.
const CLIENTS: [(&str, &str, &str, &str); 10] = [
    ("Chrome", "124.0.6367.91", "Windows", "10"),
    ("Chrome", "124.0.6367.78", "Mac OS X", "14.4"),
    ("Edge Chromium", "124.0.2478.67", "Windows", "11"),
    ("Safari", "17.4.1", "Mac OS X", "14.4"),
    ("Firefox", "125.0", "Windows", "10"),
    ("Mobile Safari", "17.4", "iOS", "17.4.1"),
    ("Chrome Mobile", "124.0.6367.82", "Android", "14"),
    ("Firefox", "125.0", "Linux", ""),
    ("Chrome", "123.0.6312.122", "Chrome OS", "15786.48.0"),
    ("Safari", "16.6", "Mac OS X", "13.6"),
];

/// A place and a client for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Access {
    place: usize,
    client: usize,
    host: u8,
    last: u8,
}

impl Access {
    /// Mostly the user's home (`home_seed`), sometimes anywhere.
    pub(crate) fn draw(draws: &mut Draws, home_seed: u64) -> Self {
        let mut home = Draws::new(home_seed);
        let place = if draws.chance(0.9) {
            home.index(PLACES.len())
        } else {
            draws.index(PLACES.len())
        };
        let client = if draws.chance(0.8) {
            home.index(CLIENTS.len())
        } else {
            draws.index(CLIENTS.len())
        };
        Self {
            place,
            client,
            host: u8::try_from(draws.below(254) + 1).unwrap_or(1),
            last: u8::try_from(draws.below(254) + 1).unwrap_or(1),
        }
    }

    /// `"1.2.3.4"` (or `"1.2.3.4:port"`).
    pub(crate) fn write_ip(&self, port: Option<u16>, out: &mut Vec<u8>) {
        let [a, b] = PLACES[self.place].3;
        out.push(b'"');
        for (i, octet) in [a, b, self.host, self.last].into_iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            write_int(out, i64::from(octet));
        }
        if let Some(port) = port {
            out.push(b':');
            write_int(out, i64::from(port));
        }
        out.push(b'"');
    }

    /// `{"city":…,"country":…,"state":…}`.
    pub(crate) fn write_location(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&rendered().locations[self.place]);
    }

    /// `"browser":…,"browser_version":…`.
    pub(crate) fn write_browser(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&rendered().browsers[self.client]);
    }

    /// `"os":…,"os_version":…`.
    pub(crate) fn write_os(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&rendered().systems[self.client]);
    }
}

/// The tables' JSON, written once: a page writes each of these a thousand times.
struct Rendered {
    locations: Vec<Vec<u8>>,
    browsers: Vec<Vec<u8>>,
    systems: Vec<Vec<u8>>,
}

fn rendered() -> &'static Rendered {
    static RENDERED: std::sync::OnceLock<Rendered> = std::sync::OnceLock::new();
    RENDERED.get_or_init(|| {
        let pair = |a: &str, x: &str, b: &str, y: &str| {
            let mut out = Vec::new();
            for (i, (key, value)) in [(a, x), (b, y)].into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_name(&mut out, key);
                out.push(b':');
                write_name(&mut out, value);
            }
            out
        };
        Rendered {
            locations: PLACES
                .iter()
                .map(|(city, state, country, _)| {
                    let mut out = b"{".to_vec();
                    out.extend(pair("city", city, "country", country));
                    out.extend_from_slice(b",\"state\":");
                    write_name(&mut out, state);
                    out.push(b'}');
                    out
                })
                .collect(),
            browsers: CLIENTS
                .iter()
                .map(|(browser, version, _, _)| pair("browser", browser, "browser_version", version))
                .collect(),
            systems: CLIENTS
                .iter()
                .map(|(_, _, os, version)| pair("os", os, "os_version", version))
                .collect(),
        }
    })
}

/// Writes a name of the logs' own tables as a JSON string: they hold no character JSON escapes
/// (checked by a test), so they are copied between quotes without the escape check of
/// `write_str`, which a thousand events a page would run a dozen times each.
pub(crate) fn write_name(out: &mut Vec<u8>, name: &str) {
    out.reserve(name.len() + 2);
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

/// A location Duo could not place.
pub(crate) const NO_LOCATION: &[u8] = b"{\"city\":null,\"country\":null,\"state\":null}";

/// Writes `at_us` as Duo's `isotimestamp`: `2020-02-13T18:56:20.351346+00:00`, or without the
/// fraction (`…T18:56:20+00:00`).
pub(crate) fn write_iso(out: &mut Vec<u8>, at_us: i64, micros: bool) {
    let seconds = at_us.div_euclid(1_000_000);
    let (year, month, day) = duo_auth::date::civil_from_days(seconds.div_euclid(86_400));
    let in_day = seconds.rem_euclid(86_400);
    if (0..=9999).contains(&year) {
        // Digit by digit: a page writes a thousand of these.
        for (value, width, after) in [
            (year, 4, b'-'),
            (month, 2, b'-'),
            (day, 2, b'T'),
            (in_day / 3600, 2, b':'),
            (in_day / 60 % 60, 2, b':'),
            (in_day % 60, 2, 0),
        ] {
            write_digits(out, value.unsigned_abs(), width);
            if after != 0 {
                out.push(after);
            }
        }
    } else {
        out.extend_from_slice(crate::model::iso_time(seconds).as_bytes());
    }
    if micros {
        out.push(b'.');
        write_digits(out, at_us.rem_euclid(1_000_000).unsigned_abs(), 6);
    }
    out.extend_from_slice(b"+00:00");
}

/// `value` in exactly `width` decimal digits (zero-padded).
fn write_digits(out: &mut Vec<u8>, value: u64, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10_u64.pow(place) % 10;
        out.push(b'0' + u8::try_from(digit).unwrap_or(0));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A 36-character id in the 8-4-4-4-12 form whose first `lead_digits` hex digits are `lead`
/// and next 16 the seed, so ids order like (lead, seed); the rest is drawn from the seed.
pub(crate) fn write_uuid(out: &mut Vec<u8>, lead: u64, lead_digits: u32, seed: u64) {
    let rest = super::random::seed_of(&[seed, 0x7A11]);
    let rest_digits = 32 - 16 - lead_digits;
    // The 32 digits as a 128-bit number: lead, seed, then the rest's top digits.
    let value = (u128::from(lead) << (4 * (32 - lead_digits)))
        | (u128::from(seed) << (4 * rest_digits))
        | (u128::from(rest) >> (64 - 4 * rest_digits));
    for i in 0..32u32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push(b'-');
        }
        out.push(HEX[((value >> (4 * (31 - i))) & 0xF) as usize]);
    }
}

/// Reads back what [`write_uuid`] wrote: `(lead, seed)` from the hex digits of any UUID-shaped
/// text (either case), or `None`.
pub(crate) fn read_uuid(text: &[u8], lead_digits: u32) -> Option<(u64, u64)> {
    if text.len() != 36 {
        return None;
    }
    let mut digits = Vec::with_capacity(32);
    for (i, b) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if *b != b'-' {
                return None;
            }
            continue;
        }
        digits.push(char::from(*b).to_digit(16)?);
    }
    let value = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .map(|d| d.iter().fold(0u64, |acc, x| (acc << 4) | u64::from(*x)))
    };
    let lead = lead_digits as usize;
    Some((value(0..lead)?, value(lead..lead + 16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_like_their_lead_and_seed_and_read_back() {
        let mut ids = Vec::new();
        for (lead, seed) in [(0, 5), (0, u64::MAX), (1, 0), (999_999, 7), (999_999, 8)] {
            let mut out = Vec::new();
            write_uuid(&mut out, lead, 5, seed);
            assert_eq!(out.len(), 36);
            assert_eq!(read_uuid(&out, 5), Some((lead, seed)));
            assert_eq!(read_uuid(&out.to_ascii_uppercase(), 5), Some((lead, seed)));
            ids.push(out);
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(
            read_uuid(b"340a23e3-23f3-23c1-87dc-1491a23dfdbb", 3).map(|p| p.0),
            Some(0x340)
        );
        for bad in [
            &b"340a23e3x23f3-23c1-87dc-1491a23dfdbb"[..],
            b"short",
            b"340a23e3-23f3-23c1-87dc-1491a23dfdbg",
        ] {
            assert_eq!(read_uuid(bad, 5), None);
        }
    }

    #[test]
    fn table_names_need_no_escape() {
        let names = PLACES
            .iter()
            .flat_map(|(a, b, c, _)| [*a, *b, *c])
            .chain(CLIENTS.iter().flat_map(|(a, b, c, d)| [*a, *b, *c, *d]))
            .chain(super::super::config::FACTORS)
            .chain(super::super::config::REASONS)
            .chain([
                "authentication",
                "enrollment",
                "auth",
                "bypass_status",
                "device_registration",
            ]);
        for name in names {
            let mut ours = Vec::new();
            write_name(&mut ours, name);
            assert_eq!(ours, serde_json::to_vec(name).unwrap_or_default(), "{name}");
        }
    }

    #[test]
    fn iso_times_have_duos_shape() {
        let mut out = Vec::new();
        write_iso(&mut out, 1_581_620_180_351_346, true);
        assert_eq!(out, b"2020-02-13T18:56:20.351346+00:00");
        out.clear();
        write_iso(&mut out, 1_346_172_820_000_000, false);
        assert_eq!(out, b"2012-08-28T16:53:40+00:00");
    }
}
