//! The date formats Duo's clients send (§1.5): `[Wkd, ]D Mon YYYY HH:MM:SS ZONE` with English
//! names and a zone of `+hhmm`, `-hhmm`, `GMT`, `UT`, `UTC` or `Z`. A localized name (`Mi, 14 Feb`)
//! does not parse, as Duo refused it with 40104.

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const UTC_NAMES: [&str; 4] = ["GMT", "UT", "UTC", "Z"];
/// Starting with Thursday, the weekday of 1970-01-01.
const DAY_NAMES: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day counted from 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// algorithm, the inverse of the one above).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn number(s: &str, min_len: usize, max_len: usize) -> Option<i64> {
    if s.len() < min_len || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Seconds east of UTC: `+hhmm`/`-hhmm` (Python writes UTC as `-0000`), or a UTC name in any case.
fn zone_offset(zone: &str) -> Option<i64> {
    if UTC_NAMES.iter().any(|name| name.eq_ignore_ascii_case(zone)) {
        return Some(0);
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, zone.get(1..)?),
        b'-' => (-1, zone.get(1..)?),
        _ => return None,
    };
    let hhmm = number(digits, 4, 4)?;
    let (hours, minutes) = (hhmm / 100, hhmm % 100);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Parses a date header value into unix seconds; `None` for anything else.
pub fn parse_date(s: &str) -> Option<i64> {
    parse_fixed(s).or_else(|| parse_general(s))
}

fn parse_general(s: &str) -> Option<i64> {
    let mut words = s.split_ascii_whitespace().peekable();
    if let Some(weekday) = words.peek().and_then(|first| first.strip_suffix(',')) {
        // Checked only for being an English name: Duo answered a German `Mi,` with 40104.
        if !DAY_NAMES.iter().any(|w| w.eq_ignore_ascii_case(weekday)) {
            return None;
        }
        words.next();
    }
    let day = number(words.next()?, 1, 2)?;
    let month_name = words.next()?;
    let month = MONTH_NAMES
        .iter()
        .zip(1..)
        .find_map(|(name, number)| name.eq_ignore_ascii_case(month_name).then_some(number))?;
    let year = number(words.next()?, 4, 4)?;
    let mut clock = words.next()?.split(':');
    let hour = number(clock.next()?, 2, 2)?;
    let minute = number(clock.next()?, 2, 2)?;
    let second = number(clock.next()?, 2, 2)?;
    if clock.next().is_some() {
        return None;
    }
    let zone = words.next()?;
    if words.next().is_some() {
        return None;
    }
    let offset = zone_offset(zone)?;
    unix_seconds([year, month, day, hour, minute, second], offset)
}

/// `[year, month, day, hour, minute, second]` at `offset` seconds east of UTC, checked (a leap
/// second is taken), as unix seconds.
fn unix_seconds([year, month, day, hour, minute, second]: [i64; 6], offset: i64) -> Option<i64> {
    if day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(local - offset)
}

/// The layout every official client sends, `Sat, 28 Nov 2026 05:55:57 -0000`, read at fixed
/// positions (the server reads one per request); `None` for any other shape, which the general
/// reading then decides. Where it answers, it answers as the general reading does.
fn parse_fixed(s: &str) -> Option<i64> {
    let bytes: &[u8; 31] = s.as_bytes().try_into().ok()?;
    let [
        w0,
        w1,
        w2,
        b',',
        b' ',
        d0,
        d1,
        b' ',
        m0,
        m1,
        m2,
        b' ',
        y0,
        y1,
        y2,
        y3,
        b' ',
        h0,
        h1,
        b':',
        n0,
        n1,
        b':',
        s0,
        s1,
        b' ',
        sign,
        z0,
        z1,
        z2,
        z3,
    ] = *bytes
    else {
        return None;
    };
    let decimal = |digits: &[u8]| {
        digits.iter().try_fold(0i64, |value, &d| {
            d.is_ascii_digit().then(|| value * 10 + i64::from(d - b'0'))
        })
    };
    if !DAY_NAMES
        .iter()
        .any(|day| day.as_bytes().eq_ignore_ascii_case(&[w0, w1, w2]))
    {
        return None;
    }
    let month = MONTH_NAMES.iter().zip(1..).find_map(|(name, number)| {
        name.as_bytes()
            .eq_ignore_ascii_case(&[m0, m1, m2])
            .then_some(number)
    })?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (zone_hours, zone_minutes) = (decimal(&[z0, z1])?, decimal(&[z2, z3])?);
    if zone_hours > 23 || zone_minutes > 59 {
        return None;
    }
    let fields = [
        decimal(&[y0, y1, y2, y3])?,
        month,
        decimal(&[d0, d1])?,
        decimal(&[h0, h1])?,
        decimal(&[n0, n1])?,
        decimal(&[s0, s1])?,
    ];
    unix_seconds(fields, sign * (zone_hours * 3600 + zone_minutes * 60))
}

/// Formats unix seconds as Python's `email.utils.formatdate()` does: `Sat, 28 Nov 2026 05:55:57 -0000`.
/// Only years 0000-9999 parse back; others are still formatted, never a panic.
pub fn format_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAY_NAMES
        .get(days.rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Thu");
    let month = MONTH_NAMES.get((month - 1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} -0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_fixed_reading_agrees_with_the_general_one(
            t in -62_167_219_200i64..=253_402_300_799,
            zone in "[+-][0-9]{4}",
            edits in proptest::collection::vec((0usize..31, b' '..=b'~'), 0..3),
        ) {
            let mut date = format_date(t);
            proptest::prop_assert_eq!(parse_fixed(&date), Some(t));
            date.replace_range(26.., &zone);
            proptest::prop_assert_eq!(parse_fixed(&date), parse_general(&date));
            let mut edited = date.into_bytes();
            for (at, byte) in edits {
                edited[at] = byte;
            }
            let edited = String::from_utf8(edited).expect("ASCII");
            if let Some(fixed) = parse_fixed(&edited) {
                proptest::prop_assert_eq!(Some(fixed), parse_general(&edited), "{}", edited);
            }
        }
    }

    #[test]
    fn what_the_official_clients_send_parses() {
        // Python / duo_hmac, Go, Node, Java (local time with offset).
        assert_eq!(parse_date("Sat, 28 Nov 2026 05:55:57 -0000"), Some(1_795_845_357));
        assert_eq!(parse_date("Tue, 21 Aug 2012 17:29:18 +0000"), Some(1_345_570_158));
        assert_eq!(parse_date("Sat, 28 Nov 2026 05:56:37 GMT"), Some(1_795_845_397));
        assert_eq!(parse_date("Tue, 21 Aug 2012 13:29:18 -0400"), Some(1_345_570_158));
        assert_eq!(parse_date("Tue, 21 Aug 2012 23:59:18 +0630"), Some(1_345_570_158));
    }

    #[test]
    fn lenient_spellings_parse() {
        let t = 1_795_845_357; // Sat, 28 Nov 2026 05:55:57 UTC
        for ok in [
            "  28 nov 2026 05:55:57 UTC ",
            "\tSAT, 28 NOV 2026 05:55:57 ut\r\n",
            "Sat, 28 Nov 2026 05:55:57 Z",
            "Sat, 28 Nov 2026 05:55:57 gmt",
            "Mon, 28 Nov 2026 05:55:57 GMT", // weekday not checked against the date
        ] {
            assert_eq!(parse_date(ok), Some(t), "{ok:?}");
        }
        assert_eq!(parse_date("Thu, 1 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_date("Wed, 31 Dec 1969 23:59:59 GMT"), Some(-1));
        assert_eq!(parse_date("Sat, 29 Feb 2020 00:00:00 GMT"), Some(1_582_934_400));
        // A leap second is accepted and lands on the next second.
        assert_eq!(parse_date("Sat, 31 Dec 2016 23:59:60 GMT"), Some(1_483_228_800));
    }

    #[test]
    fn localized_and_malformed_dates_do_not_parse() {
        for bad in [
            "",
            "   ",
            "Mi, 14 Feb 2024 10:00:00 +0100",
            "Sam, 28 Nov 2026 05:55:57 GMT",
            "Sat 28 Nov 2026 05:55:57 GMT",
            "Sat, 28 Nov 2026 05:55:57",
            "Sat, 31 Nov 2026 05:55:57 GMT",
            "Sun, 29 Feb 2026 05:55:57 GMT",
            "Sat, 00 Nov 2026 05:55:57 GMT",
            "Sat, 128 Nov 2026 05:55:57 GMT",
            "Sat, 28 Foo 2026 05:55:57 GMT",
            "Sat, 28 Mär 2026 05:55:57 GMT",
            "Sat, 28 13 2026 05:55:57 GMT",
            "Sat, 28 Nov 26 05:55:57 GMT",
            "Sat, 28 Nov 2026 24:00:00 GMT",
            "Sat, 28 Nov 2026 05:60:00 GMT",
            "Sat, 28 Nov 2026 05:55:61 GMT",
            "Sat, 28 Nov 2026 5:55:57 GMT",
            "Sat, 28 Nov 2026 05:55 GMT",
            "Sat, 28 Nov 2026 05:55:57:00 GMT",
            "Sat, 28 Nov 2026 05:55:57 +2500",
            "Sat, 28 Nov 2026 05:55:57 +0060",
            "Sat, 28 Nov 2026 05:55:57 +000",
            "Sat, 28 Nov 2026 05:55:57 0000",
            "Sat, 28 Nov 2026 05:55:57 +-000",
            "Sat, 28 Nov 2026 05:55:57 EST",
            "Sat, 28 Nov 2026 05:55:57 GMT extra",
            "Sat, 28 Nov +026 05:55:57 GMT",
            "2026-11-28T05:55:57Z",
            "1795845357",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_like_python_formatdate() {
        assert_eq!(format_date(1_795_845_357), "Sat, 28 Nov 2026 05:55:57 -0000");
        assert_eq!(format_date(1_345_570_158), "Tue, 21 Aug 2012 17:29:18 -0000");
        assert_eq!(format_date(0), "Thu, 01 Jan 1970 00:00:00 -0000");
        assert_eq!(format_date(-1), "Wed, 31 Dec 1969 23:59:59 -0000");
        assert_eq!(format_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 -0000");
        // Extremes format without overflowing.
        let _ = (format_date(i64::MIN), format_date(i64::MAX));
    }
}
