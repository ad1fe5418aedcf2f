//! The end of a connector's stderr, shown under a case that did not pass: where a crash says
//! why (a traceback, a panic, `command not found`). Bounded in lines, characters per line and
//! bytes, and with secrets masked: the secret key the kit handed out, anything shaped like a Duo
//! secret key (40 letters and digits), and the credentials of an `Authorization` header or a
//! `Basic` token, since connectors that log their requests print them.

/// Lines of stderr shown at most.
pub const TAIL_LINES: usize = 12;
/// Characters kept of one line; a longer one ends with `…`.
pub const LINE_CHARS: usize = 240;
/// Bytes shown at most, all lines together (the oldest lines go first).
pub const TAIL_BYTES: usize = 2048;
/// What a secret is replaced with.
pub const MASK: &str = "[masked]";
/// Length of a Duo secret key: 40 letters and digits.
const SKEY_LEN: usize = 40;
/// A `Basic` token shorter than this is not credentials (`Basic auth failed` is prose).
const MIN_TOKEN_LEN: usize = 12;

/// The last lines of `stderr`, masked and bounded; `secrets` are masked wherever they appear.
pub fn tail(stderr: &[u8], secrets: &[&str]) -> Vec<String> {
    let text = String::from_utf8_lossy(stderr);
    let mut lines: Vec<String> = text
        .lines()
        .rev()
        .map(str::trim_end)
        .skip_while(|line| line.is_empty())
        .take(TAIL_LINES)
        .map(|line| shorten(&mask(&printable(line), secrets)))
        .collect();
    lines.reverse();
    while lines.len() > 1 && lines.iter().map(|l| l.len() + 1).sum::<usize>() > TAIL_BYTES {
        lines.remove(0);
    }
    lines
}

/// `text` with every secret masked, line by line (for the copies `--artifacts` keeps).
pub fn mask_text(text: &str, secrets: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&mask(line, secrets));
    }
    out
}

/// One line with its secrets masked: the given ones, 40-character keys, and the credentials
/// after `Authorization` or `Basic`.
pub fn mask(line: &str, secrets: &[&str]) -> String {
    let mut line = line.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        line = line.replace(secret, MASK);
    }
    let line = mask_credentials(&line);
    mask_key_shaped_words(&line)
}

/// Credentials after `authorization` (`Authorization: Basic …`, `'authorization': '…'`,
/// `authorization=…`) or after a `Basic` or `Bearer` scheme word.
fn mask_credentials(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut done = 0;
    let mut search = 0;
    while let Some(found) = next_marker(&lower, search) {
        let (start, marker_len, is_header) = found;
        let mut at = start + marker_len;
        if is_header {
            // The separator (`: `, `=`, `': '`), then an optional scheme word.
            at += lower[at..]
                .bytes()
                .take_while(|b| matches!(b, b':' | b'=' | b' ' | b'\t' | b'"' | b'\''))
                .count();
            for scheme in ["basic ", "bearer "] {
                if lower[at..].starts_with(scheme) {
                    at += scheme.len();
                }
            }
        }
        let token_len = lower[at..]
            .bytes()
            .take_while(|b| !matches!(b, b' ' | b'\t' | b'"' | b'\'' | b',' | b';' | b')' | b'}' | b']'))
            .count();
        let long_enough = if is_header {
            token_len > 0
        } else {
            token_len >= MIN_TOKEN_LEN
        };
        if long_enough {
            out.push_str(&line[done..at]);
            out.push_str(MASK);
            done = at + token_len;
        }
        search = (at + token_len).max(start + 1);
    }
    out.push_str(&line[done..]);
    out
}

/// The next `authorization` (a header: `true`) or `basic `/`bearer ` (a scheme) at or after
/// `from` in the lower-cased line: its start, its length and which it is.
fn next_marker(lower: &str, from: usize) -> Option<(usize, usize, bool)> {
    let rest = lower.get(from..)?;
    [("authorization", true), ("basic ", false), ("bearer ", false)]
        .into_iter()
        .filter_map(|(word, header)| rest.find(word).map(|i| (from + i, word.len(), header)))
        .min_by_key(|(start, _, _)| *start)
}

/// Words of exactly 40 ASCII letters and digits (the shape of a Duo secret key), masked.
fn mask_key_shaped_words(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    let mut done = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i - start == SKEY_LEN {
            out.push_str(&line[done..start]);
            out.push_str(MASK);
            done = i;
        }
    }
    out.push_str(&line[done..]);
    out
}

/// Control characters (terminal colours, carriage returns) dropped, tabs kept.
fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // An ANSI sequence: ESC [ … final letter.
            if chars.peek() == Some(&'[') {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

fn shorten(line: &str) -> String {
    if line.chars().count() > LINE_CHARS {
        line.chars().take(LINE_CHARS - 1).collect::<String>() + "…"
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKEY: &str = "9CPVNPkNa1Hedcm4pMbXDuCL1mHoOsFaQfDPrAJ7";

    #[test]
    fn the_last_lines_are_kept_and_trailing_blank_lines_dropped() {
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect::<String>() + "\n\n";
        let tail = tail(text.as_bytes(), &[]);
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail.first().map(String::as_str), Some("line 19"));
        assert_eq!(tail.last().map(String::as_str), Some("line 30"));
        assert!(super::tail(b"", &[]).is_empty());
        assert!(super::tail(b"\n\n", &[]).is_empty());
    }

    #[test]
    fn long_lines_and_long_tails_are_bounded() {
        let line = "x".repeat(5000);
        let text = format!("{line}\n").repeat(20);
        let tail = tail(text.as_bytes(), &[]);
        assert!(tail.iter().all(|l| l.chars().count() == LINE_CHARS), "{tail:?}");
        assert!(tail.iter().all(|l| l.ends_with('…')));
        assert!(tail.iter().map(|l| l.len() + 1).sum::<usize>() <= TAIL_BYTES);
        assert!(!tail.is_empty());
    }

    #[test]
    fn colours_and_control_characters_are_dropped() {
        let tail = tail(b"\x1b[31merror\x1b[0m: boom\r\n\tat main.js:3\n", &[]);
        assert_eq!(tail, ["error: boom", "\tat main.js:3"]);
    }

    #[test]
    fn the_handed_out_key_and_key_shaped_words_are_masked() {
        let other = "abcdefghijABCDEFGHIJ0123456789abcdefghij";
        let line = format!("skey={SKEY} other {other}, id DI29326ML64LG2TJF8CZ");
        let masked = mask(&line, &[SKEY]);
        assert_eq!(masked, "skey=[masked] other [masked], id DI29326ML64LG2TJF8CZ");
        // A secret that is not key-shaped is masked because it was handed out.
        assert_eq!(mask("key is s3cret-key!", &["s3cret-key!"]), "key is [masked]");
        // 41 characters is not a key; an integration key (20) stays.
        let long = "a".repeat(41);
        assert_eq!(mask(&long, &[]), long);
    }

    #[test]
    fn authorization_headers_and_basic_tokens_are_masked() {
        for (line, want) in [
            (
                "Authorization: Basic RElBQkNERUY6YWJjZGVm0123",
                "Authorization: Basic [masked]",
            ),
            (
                "{'Authorization': 'Basic RElBQkNERUY6YWJjZGVm0123', 'Date': 'x'}",
                "{'Authorization': 'Basic [masked]', 'Date': 'x'}",
            ),
            ("authorization=xyz", "authorization=[masked]"),
            (
                "headers: { Authorization: \"Basic RElBQkNERUY6YWJjZGVm\" }",
                "headers: { Authorization: \"Basic [masked]\" }",
            ),
            (
                "sent Basic RElBQkNERUY6YWJjZGVm0123 to Duo",
                "sent Basic [masked] to Duo",
            ),
            ("Basic auth failed", "Basic auth failed"),
            ("no secrets here", "no secrets here"),
        ] {
            assert_eq!(mask(line, &[]), want, "{line}");
        }
    }

    #[test]
    fn whole_texts_are_masked_line_by_line() {
        let text = format!("one {SKEY}\ntwo\n");
        assert_eq!(mask_text(&text, &[SKEY]), "one [masked]\ntwo\n");
    }
}
