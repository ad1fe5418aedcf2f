//! Every mistake of a scenario file in one run, each at its own `line:column`, in file order.
//!
//! Serde stops at the first mistake, and so does the scenario's validator. Rather than keep a
//! second copy of the schema, this module lets them find one mistake at a time and repairs the
//! parsed document after each: an unknown key is removed, a value of the wrong type is replaced
//! by a placeholder of the expected type (and anything later said about the placeholder is
//! ignored), a value the validator refuses is removed (and the table holding it when it was
//! required). Then serde and the validator run again, until the document passes. So a key added
//! to any `#[derive(Deserialize)]` struct of the schema is known here at once: the list of known
//! keys is serde's own (its "unknown field, expected one of" message), which also feeds the
//! did-you-mean suggestions.
//!
//! On top of that, messages are put in TOML's words (integer, string, array, table…, never
//! `u32`), an error the validator placed at a table whose message names one of the table's keys
//! (`probability must be…`, `options.max_limit.users…`) is moved to that key's value, and a
//! close spelling is suggested for an unknown key or an unknown value from a listed set.
//! [`DOCUMENT_RULES`] are the checks made on the document itself (a fault `path` holding a query).

use std::borrow::Cow;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeArray, DeFloat, DeInteger, DeTable, DeValue};

use crate::error::Error;

/// The most mistakes gathered from one file: each costs a run of serde and the validator.
pub const MAX_MISTAKES: usize = 200;

/// A check made on the parsed document before serde: the array of tables and the key it looks
/// at, and what is wrong with a string value there (`None`: nothing).
struct DocumentRule {
    /// Top-level array of tables (`faults` for `[[faults]]`).
    array: &'static str,
    /// Key inside each table.
    key: &'static str,
    /// The message for a string value, or `None` when it is fine.
    check: fn(&str) -> Option<String>,
}

/// Checks on the document that serde cannot make: values of the right type that can never do
/// what they are written for.
const DOCUMENT_RULES: &[DocumentRule] = &[DocumentRule {
    array: "faults",
    key: "path",
    check: request_path_mistake,
}];

/// What is wrong with a fault rule's `path` that a request's path can never hold: a query, a
/// fragment, white space.
fn request_path_mistake(path: &str) -> Option<String> {
    if let Some((before, query)) = path.split_once('?') {
        let pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                format!("{} = {}", toml_key(name), quoted(value))
            })
            .collect();
        return Some(format!(
            "path {} holds a query (`?`), which a request's path never does, so the rule would \
             never fire; write path = {} and match the query with query = {{ {} }}",
            quoted(path),
            quoted(before),
            pairs.join(", ")
        ));
    }
    if path.contains('#') {
        return Some(format!(
            "path {} holds a fragment (`#`), which clients never send, so the rule would never fire",
            quoted(path)
        ));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "path {} holds white space or a control character, which a request's path never \
             does (it would be percent-encoded), so the rule would never fire",
            quoted(path)
        ));
    }
    None
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A TOML key: bare when it can be, quoted otherwise.
fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        name.to_owned()
    } else {
        quoted(name)
    }
}

/// One step into the document: a key of a table or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A value of the document, found by walking it.
#[derive(Debug, Clone)]
struct Node {
    /// Where it is, from the root.
    path: Vec<Step>,
    /// The key's place, for a value held by a key.
    key_span: Option<Range<usize>>,
    /// The value's place (a table's header for `[table]` and `[[array]]`).
    span: Range<usize>,
    /// Whether it is a table.
    table: bool,
    /// The string it holds, if it is one.
    text: Option<String>,
}

/// Every value of the document, parents before children.
fn nodes(root: &DeTable<'_>) -> Vec<Node> {
    fn walk(
        value: &Spanned<DeValue<'_>>,
        path: &[Step],
        key_span: Option<Range<usize>>,
        out: &mut Vec<Node>,
    ) {
        out.push(Node {
            path: path.to_vec(),
            key_span,
            span: value.span(),
            table: matches!(value.get_ref(), DeValue::Table(_)),
            text: value.get_ref().as_str().map(str::to_owned),
        });
        match value.get_ref() {
            DeValue::Table(table) => walk_table(table, path, out),
            DeValue::Array(array) => {
                for (i, item) in array.iter().enumerate() {
                    let mut at = path.to_vec();
                    at.push(Step::Index(i));
                    walk(item, &at, None, out);
                }
            }
            _ => {}
        }
    }
    fn walk_table(table: &DeTable<'_>, path: &[Step], out: &mut Vec<Node>) {
        for (key, value) in table.iter() {
            let mut at = path.to_vec();
            at.push(Step::Key(key.get_ref().to_string()));
            walk(value, &at, Some(key.span()), out);
        }
    }
    let mut out = Vec::new();
    walk_table(root, &[], &mut out);
    out
}

/// The value at `path`, to change it.
fn value_mut<'a, 'i>(root: &'a mut DeTable<'i>, path: &[Step]) -> Option<&'a mut Spanned<DeValue<'i>>> {
    let (first, rest) = path.split_first()?;
    let Step::Key(key) = first else { return None };
    let mut value = root.get_mut(key.as_str())?;
    for step in rest {
        value = match (step, value.get_mut()) {
            (Step::Key(key), DeValue::Table(table)) => table.get_mut(key.as_str())?,
            (Step::Index(i), DeValue::Array(array)) => array.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Removes the value at `path` (a key of its table, or an item of its array).
fn remove(root: &mut DeTable<'_>, path: &[Step]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    match (last, parent.is_empty()) {
        (Step::Key(key), true) => root.remove(key.as_str()).is_some(),
        (Step::Index(_), true) => false,
        (step, false) => match (step, value_mut(root, parent).map(Spanned::get_mut)) {
            (Step::Key(key), Some(DeValue::Table(table))) => table.remove(key.as_str()).is_some(),
            (Step::Index(i), Some(DeValue::Array(array))) => {
                let removed = *i < array.len();
                let mut rebuilt = DeArray::new();
                for (j, item) in std::mem::replace(array, DeArray::new()).into_iter().enumerate() {
                    if j != *i {
                        rebuilt.push(item);
                    }
                }
                *array = rebuilt;
                removed
            }
            _ => false,
        },
    }
}

/// A mistake as the validator or serde reported it: where (a byte offset) and what.
#[derive(Debug, Clone)]
struct Found {
    at: usize,
    message: String,
}

/// What the repair loop learnt: placeholders put in, keys taken out.
#[derive(Debug, Default)]
struct Repairs {
    /// Places of values replaced by placeholders, and how often each was replaced: anything
    /// said there is about a placeholder.
    placeholders: Vec<(Range<usize>, u8)>,
    /// Places of values or tables removed.
    removed: Vec<usize>,
    /// Keys taken out of a table (or meant by a misspelled one): the table's place, the key, the
    /// value's place. A later "missing field" for it is a consequence, not a mistake.
    taken: Vec<(usize, String, Range<usize>)>,
    /// (table's place, key) given a placeholder because it was required.
    stood_in: Vec<(usize, String)>,
    /// Places of tables a refused value was taken from: what is then said of the whole table
    /// ("needs an action") may be that removal's doing.
    emptied: Vec<usize>,
}

impl Repairs {
    /// Whether `at` is inside a placeholder.
    fn placeholder_at(&self, at: usize) -> Option<usize> {
        self.placeholders
            .iter()
            .position(|(p, _)| p.start <= at && at < p.end.max(p.start + 1))
    }
}

/// Parses `text`, runs `attempt` (serde and the validator) until it passes on the repaired
/// document, and returns what it built (from the repaired document: with mistakes, only good
/// for finding more) with every mistake, in file order. `attempt` reports a mistake as an
/// [`Error::Scenario`]; any other error ends the run.
pub(crate) fn check<T>(
    text: &str,
    origin: &str,
    mut attempt: impl FnMut(Spanned<DeTable<'_>>) -> Result<T, Error>,
) -> (Option<T>, Vec<Error>) {
    let located = |at: usize, message: String| {
        let (line, column) = line_column(text, at);
        Error::Scenario {
            origin: origin.to_owned(),
            line,
            column,
            message,
        }
    };
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        // What follows a syntax error is the parser's guess: report the syntax alone.
        let mut errors: Vec<Error> = syntax
            .iter()
            .map(|e| located(e.span().map_or(0, |s| s.start), e.message().trim().to_owned()))
            .collect();
        sort(&mut errors);
        return (None, errors);
    }
    let doc_span = doc.span();
    let mut doc = doc.into_inner();
    let mut errors: Vec<Error> = document_mistakes(&doc)
        .into_iter()
        .map(|(at, message)| located(at, message))
        .collect();
    let mut root_keys: Option<Vec<String>> = None;
    let mut repairs = Repairs::default();
    let mut built = None;
    for round in 0.. {
        let error = match attempt(Spanned::new(doc_span.clone(), doc.clone())) {
            Ok(value) => {
                built = Some(value);
                break;
            }
            Err(error) => error,
        };
        let Some(found) = found(text, &error) else {
            errors.push(error);
            break;
        };
        if round >= MAX_MISTAKES {
            errors.push(located(
                found.at,
                format!("more mistakes not checked: this file has over {MAX_MISTAKES}; fix these first"),
            ));
            break;
        }
        let root_keys = root_keys.get_or_insert_with(|| probe_root_keys(&mut attempt, doc_span.clone()));
        let round = repair(&mut doc, &found, &mut repairs, root_keys);
        if let Some((at, message)) = round.report {
            errors.push(located(at, message));
        }
        if !round.go_on {
            break;
        }
    }
    sort(&mut errors);
    (built, errors)
}

/// The mistakes [`DOCUMENT_RULES`] find: place and message.
fn document_mistakes(doc: &DeTable<'_>) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for node in nodes(doc) {
        let (Some(value), [Step::Key(array), Step::Index(_), Step::Key(key)]) =
            (&node.text, node.path.as_slice())
        else {
            continue;
        };
        for rule in DOCUMENT_RULES.iter().filter(|r| r.array == array && r.key == key) {
            if let Some(message) = (rule.check)(value) {
                out.push((node.span.start, message));
            }
        }
    }
    out
}

/// Sorts mistakes by place and drops repeats.
fn sort(errors: &mut Vec<Error>) {
    let key = |e: &Error| match e {
        Error::Scenario { line, column, .. } => (*line, *column),
        _ => (usize::MAX, usize::MAX),
    };
    errors.sort_by_key(key);
    errors.dedup_by(|a, b| a.to_string() == b.to_string());
}

/// The place and message of a located scenario error.
fn found(text: &str, error: &Error) -> Option<Found> {
    match error {
        Error::Scenario {
            line,
            column,
            message,
            ..
        } => Some(Found {
            at: offset_of(text, *line, *column),
            message: message.clone(),
        }),
        _ => None,
    }
}

/// What one round decided: a mistake to report (place, message) and whether to run again.
struct Round {
    report: Option<(usize, String)>,
    go_on: bool,
}

/// Repairs the document after one mistake, and says what to report.
fn repair(doc: &mut DeTable<'_>, found: &Found, repairs: &mut Repairs, root_keys: &[String]) -> Round {
    let all = nodes(doc);
    let message = found.message.as_str();
    let at = found.at;
    let placeholder_here = repairs.placeholder_at(at);
    // The deepest value starting here, and the key starting here.
    let value_here = all.iter().rev().find(|n| n.span.start == at).cloned();
    let key_here = all
        .iter()
        .rev()
        .find(|n| n.key_span.as_ref().is_some_and(|k| k.start == at))
        .cloned();

    if let Some(name) = between(message, "unknown field `", "`") {
        let suggestion = suggest(name, &expected_list(message));
        let report = placeholder_here
            .is_none()
            .then(|| (at, with_suggestion(words(message), suggestion.as_deref())));
        let Some(node) = key_here.or(value_here) else {
            return Round { report, go_on: false };
        };
        let table_at = parent_start(&all, &node.path);
        let parent = &node.path[..node.path.len() - 1];
        // A slip of a key's name: the value is tried under the name meant, when that is free.
        if let Some(meant) =
            suggestion.filter(|s| table_of(doc, parent).is_some_and(|t| !t.contains_key(s.as_str())))
            && let Some((key, value)) = table_of(doc, parent).and_then(|t| t.remove_entry(name))
        {
            let key = Spanned::new(key.span(), Cow::Owned(meant.clone()));
            if let Some(table) = table_of(doc, parent) {
                table.insert(key, value);
            }
            repairs.taken.push((table_at, meant, node.span.clone()));
            return Round { report, go_on: true };
        }
        repairs.taken.push((table_at, name.to_owned(), node.span.clone()));
        repairs.removed.push(node.span.start);
        let go_on = remove(doc, &node.path);
        return Round { report, go_on };
    }

    if let Some(field) = between(message, "missing field `", "`") {
        let root_field = root_keys.iter().any(|k| k == field) && !doc.contains_key(field);
        let table = if root_field {
            None
        } else {
            all.iter().rev().find(|n| n.table && n.span.start == at).cloned()
        };
        let table_at = table.as_ref().map_or(0, |t| t.span.start);
        let table_path = table.as_ref().map_or_else(Vec::new, |t| t.path.clone());
        let taken = repairs
            .taken
            .iter()
            .find(|(t, k, _)| k == field && (*t == table_at || root_field))
            .cloned();
        let consequence = placeholder_here.is_some() || taken.is_some();
        let report = (!consequence).then(|| (at, words(message)));
        // A required key whose value was refused: a placeholder in its place (its type is
        // learnt from serde's next complaint), so the rest of the file is still checked.
        if let Some((_, key, span)) =
            taken.filter(|_| !repairs.stood_in.contains(&(table_at, field.to_owned())))
            && let Some(table) = table_of(doc, &table_path)
        {
            table.insert(
                Spanned::new(span.clone(), Cow::Owned(key)),
                Spanned::new(span.clone(), DeValue::Integer(DeInteger::default())),
            );
            repairs.stood_in.push((table_at, field.to_owned()));
            repairs.placeholders.push((span, 0));
            return Round { report, go_on: true };
        }
        let go_on = match table {
            Some(table) => take_out(doc, &all, &table, repairs),
            None => false,
        };
        return Round { report, go_on };
    }

    let typed = message.starts_with("invalid type:")
        || message.starts_with("invalid value:")
        || message.starts_with("invalid length")
        || message.starts_with("wanted ");
    let variant = between(message, "unknown variant `", "`");
    if typed || variant.is_some() {
        let Some(node) = value_here else {
            return Round {
                report: Some((at, words(message))),
                go_on: false,
            };
        };
        let candidates = expected_list(message);
        let suggestion = variant.and_then(|v| suggest(v, &candidates));
        let report = placeholder_here
            .is_none()
            .then(|| (at, with_suggestion(words(message), suggestion.as_deref())));
        let stand_in = match candidates.first().filter(|_| variant.is_some()) {
            Some(first) => Some(DeValue::String(Cow::Owned(first.clone()))),
            None => expected(message).and_then(placeholder),
        };
        let tries = placeholder_here.map_or(0, |i| repairs.placeholders[i].1);
        let go_on = match (stand_in, tries) {
            (Some(stand_in), 0 | 1) => match value_mut(doc, &node.path) {
                Some(value) => {
                    *value.get_mut() = stand_in;
                    match placeholder_here {
                        Some(i) => repairs.placeholders[i].1 += 1,
                        None => repairs.placeholders.push((node.span.clone(), 0)),
                    }
                    true
                }
                None => false,
            },
            _ => take_out(doc, &all, &node, repairs),
        };
        return Round { report, go_on };
    }

    // A mistake the validator (or a type's own parsing) found in a well-typed value.
    let refined = refine(&all, at, message);
    let table = all
        .iter()
        .rev()
        .find(|n| n.table && n.span.start == refined)
        .cloned();
    let suppressed = repairs.placeholder_at(refined).is_some()
        || repairs.removed.contains(&refined)
        || (table.is_some() && repairs.emptied.contains(&refined));
    let candidates = expected_list(message);
    let suggestion = value_of(&all, refined).and_then(|v| suggest(&v, &candidates));
    let report = (!suppressed).then(|| (refined, with_suggestion(words(message), suggestion.as_deref())));
    if let Some(table) = table {
        // Said of a whole table: when it names several of its keys (one action too many), all
        // but the first go, so the rest of the table is still checked.
        let named = keys_named(&all, &table, message);
        if named.len() > 1 {
            for node in &named[1..] {
                take_out(doc, &all, node, repairs);
            }
            repairs.emptied.push(table.span.start);
            return Round { report, go_on: true };
        }
        let go_on = take_out(doc, &all, &table, repairs);
        return Round { report, go_on };
    }
    let target = all
        .iter()
        .rev()
        .find(|n| n.span.start == refined)
        .or_else(|| {
            all.iter()
                .rev()
                .find(|n| n.key_span.as_ref().is_some_and(|k| k.start == refined))
        })
        .cloned();
    let Some(node) = target else {
        return Round { report, go_on: false };
    };
    // A value outside a listed set: the first choice stands in, so nothing else is lost.
    if let (Some(first), Some(_)) = (candidates.first(), &node.text)
        && let Some(value) = value_mut(doc, &node.path)
    {
        *value.get_mut() = DeValue::String(Cow::Owned(suggestion.unwrap_or_else(|| first.clone())));
        repairs.placeholders.push((node.span.clone(), 0));
        return Round { report, go_on: true };
    }
    let parent = &node.path[..node.path.len().saturating_sub(1)];
    if let Some(holder) = all.iter().find(|n| n.path == parent && n.table) {
        repairs.emptied.push(holder.span.start);
    }
    let go_on = take_out(doc, &all, &node, repairs);
    Round { report, go_on }
}

/// The keys of `table` that `message` names as whole words, in the message's order.
fn keys_named(all: &[Node], table: &Node, message: &str) -> Vec<Node> {
    let mut named: Vec<(usize, Node)> = all
        .iter()
        .filter(|n| n.path.len() == table.path.len() + 1 && n.path.starts_with(&table.path))
        .filter_map(|n| {
            let Some(Step::Key(key)) = n.path.last() else {
                return None;
            };
            message
                .match_indices(key.as_str())
                .find(|(i, _)| {
                    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
                    !message[..*i].ends_with(word) && !message[i + key.len()..].starts_with(word)
                })
                .map(|(i, _)| (i, n.clone()))
        })
        .collect();
    named.sort_by_key(|(i, _)| *i);
    named.into_iter().map(|(_, n)| n).collect()
}

/// The table at `path` (the root for an empty path).
fn table_of<'a, 'i>(root: &'a mut DeTable<'i>, path: &[Step]) -> Option<&'a mut DeTable<'i>> {
    if path.is_empty() {
        return Some(root);
    }
    match value_mut(root, path)?.get_mut() {
        DeValue::Table(table) => Some(table),
        _ => None,
    }
}

/// Removes a value the loop cannot repair, remembering it (a later "missing field" for it is
/// its consequence).
fn take_out(doc: &mut DeTable<'_>, all: &[Node], node: &Node, repairs: &mut Repairs) -> bool {
    repairs.removed.push(node.span.start);
    if let Some(Step::Key(key)) = node.path.last() {
        repairs
            .taken
            .push((parent_start(all, &node.path), key.clone(), node.span.clone()));
    }
    remove(doc, &node.path)
}

/// The place of the table holding the value at `path` (0 for the root).
fn parent_start(all: &[Node], path: &[Step]) -> usize {
    let parent = &path[..path.len().saturating_sub(1)];
    all.iter().find(|n| n.path == parent).map_or(0, |n| n.span.start)
}

/// The string value at `at`, or the key there.
fn value_of(all: &[Node], at: usize) -> Option<String> {
    all.iter()
        .rev()
        .find(|n| n.span.start == at)
        .and_then(|n| n.text.clone())
        .or_else(|| {
            all.iter()
                .rev()
                .find(|n| n.key_span.as_ref().is_some_and(|k| k.start == at))
                .and_then(|n| match n.path.last() {
                    Some(Step::Key(k)) => Some(k.clone()),
                    _ => None,
                })
        })
}

/// Serde's list of the root table's keys, got by showing it an unknown one.
fn probe_root_keys<T>(
    attempt: &mut impl FnMut(Spanned<DeTable<'_>>) -> Result<T, Error>,
    span: Range<usize>,
) -> Vec<String> {
    let mut probe = DeTable::new();
    probe.insert(
        Spanned::new(0..0, Cow::Borrowed("\u{1}probe")),
        Spanned::new(0..0, DeValue::Integer(DeInteger::default())),
    );
    match attempt(Spanned::new(span, probe)) {
        Err(Error::Scenario { message, .. }) => expected_list(&message),
        _ => Vec::new(),
    }
}

/// Moves a mistake the validator placed at a table to the key its message names first
/// (`probability must be…` → the rule's `probability`; `options.max_limit.users…` → that key),
/// when the table has it.
fn refine(all: &[Node], at: usize, message: &str) -> usize {
    let Some(table) = all.iter().rev().find(|n| n.table && n.span.start == at) else {
        return refine_dotted(all, message).unwrap_or(at);
    };
    if let Some(found) = refine_dotted(all, message) {
        return found;
    }
    let first = first_word(message);
    all.iter()
        .find(|n| {
            n.path.len() == table.path.len() + 1
                && n.path.starts_with(&table.path)
                && matches!(n.path.last(), Some(Step::Key(k)) if *k == first)
        })
        .map_or(at, |n| n.span.start)
}

/// The value a message's first word names as a dotted path from the root
/// (`options.max_limit.users`).
fn refine_dotted(all: &[Node], message: &str) -> Option<usize> {
    let first = first_word(message);
    if !first.contains('.') {
        return None;
    }
    let path: Vec<Step> = first.split('.').map(|k| Step::Key(k.to_owned())).collect();
    all.iter().find(|n| n.path == path).map(|n| n.span.start)
}

/// A message's first word, as a key would be written (letters, digits, `_`, `-`, `.`).
fn first_word(message: &str) -> String {
    message
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect::<String>()
        .trim_end_matches('.')
        .to_owned()
}

/// The text between `open` and the next `close`.
fn between<'a>(message: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = message.find(open)? + open.len();
    let len = message.get(start..)?.find(close)?;
    message.get(start..start + len)
}

/// The choices a message lists after "expected": serde's (`` `a`, `b` ``, `` `a` or `b` ``) or
/// the project's (`expected one of: a, b, c`).
fn expected_list(message: &str) -> Vec<String> {
    if let Some(rest) = message.split_once("expected one of: ").map(|(_, r)| r) {
        let rest = rest.split(['\n', ';']).next().unwrap_or(rest);
        return rest
            .split(", ")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
    }
    let Some((_, rest)) = message.split_once("expected") else {
        return Vec::new();
    };
    rest.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The type a serde message expected (the words after the last `expected `).
fn expected(message: &str) -> Option<&str> {
    if message.starts_with("wanted string") {
        return Some("a string");
    }
    message.rsplit_once("expected ").map(|(_, e)| e.trim())
}

/// A stand-in value of the type serde expected, when it is a plain one.
fn placeholder(expected: &str) -> Option<DeValue<'static>> {
    let word = expected.split_whitespace().next().unwrap_or("");
    if INTEGERS.iter().any(|(rust, _)| *rust == word) || expected.starts_with("an integer") {
        return Some(DeValue::Integer(DeInteger::default()));
    }
    match expected {
        "f32" | "f64" | "a float" => Some(DeValue::Float(DeFloat::default())),
        "a string" | "a borrowed string" | "string" => Some(DeValue::String(Cow::Borrowed(""))),
        "a boolean" => Some(DeValue::Boolean(false)),
        "a sequence" | "an array" => Some(DeValue::Array(DeArray::new())),
        _ => None,
    }
}

/// Rust's integer types and the same in TOML's words.
const INTEGERS: [(&str, &str); 12] = [
    ("u8", "an integer from 0 to 255"),
    ("u16", "an integer from 0 to 65535"),
    ("u32", "an integer from 0 to 4294967295"),
    ("u64", "an integer of at least 0"),
    ("u128", "an integer of at least 0"),
    ("usize", "an integer of at least 0"),
    ("i8", "an integer from -128 to 127"),
    ("i16", "an integer from -32768 to 32767"),
    ("i32", "an integer from -2147483648 to 2147483647"),
    ("i64", "an integer"),
    ("i128", "an integer"),
    ("isize", "an integer"),
];

/// Serde's words for types, and TOML's.
const TYPE_WORDS: [(&str, &str); 11] = [
    ("expected f32", "expected a float"),
    ("expected f64", "expected a float"),
    ("expected a sequence", "expected an array"),
    ("expected a map", "expected a table"),
    ("expected a borrowed string", "expected a string"),
    ("invalid type: floating point", "invalid type: float"),
    ("invalid type: sequence", "invalid type: array"),
    ("invalid type: map", "invalid type: table"),
    ("invalid type: unit value", "invalid type: nothing"),
    ("an array of length ", "an array of items, length "),
    ("wanted string or table", "invalid type: expected a string"),
];

/// A message with Rust's type names put in TOML's words.
fn words(message: &str) -> String {
    let mut out = message.to_owned();
    for (rust, toml) in TYPE_WORDS {
        out = out.replace(rust, toml);
    }
    for (rust, toml) in INTEGERS {
        out = replace_word(&out, &format!("expected {rust}"), &format!("expected {toml}"));
    }
    if let Some(at) = out.find("expected struct ") {
        let end = out[at + 16..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(out.len(), |e| at + 16 + e);
        out.replace_range(at..end, "expected a table");
    }
    out
}

/// Replaces `word` where it is not followed by a letter or digit.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let after = &rest[at + word.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A message with "did you mean" added when there is a close choice.
fn with_suggestion(message: String, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("{message}; did you mean `{s}`?"),
        None => message,
    }
}

/// The choice closest to `written`, when one is close enough to be a slip: case, `-`/`_`/space
/// and a few letters apart (about one edit in four letters).
pub fn suggest(written: &str, choices: &[String]) -> Option<String> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let target = norm(written);
    choices
        .iter()
        .filter(|c| c.as_str() != written)
        .map(|c| (distance(&target, &norm(c)), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(written.chars().count()) / 4).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// Edit distance: insertions, deletions, substitutions and swaps of neighbours, one each.
pub fn distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// A byte offset as a 1-based line and character column (the kit's case files use it too).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The byte offset of a 1-based line and character column (the inverse of [`line_column`]).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let rest = text.get(line_start..).unwrap_or("");
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A table as a schema would declare it: the check knows its keys only through serde.
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Toy {
        seed: u64,
        name: String,
        share: Option<f64>,
        brand_new_key: Option<u32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct ToyFile {
        toy: Toy,
        #[serde(default)]
        more: Vec<Toy>,
    }

    /// The mistakes `check` finds in `text` for the toy schema, as `line:column: message`; the
    /// validator refuses a share above 1, at the table, as scenario checks do.
    fn toy_mistakes(text: &str) -> Vec<String> {
        let (_, errors) = check(text, "t.toml", |doc| {
            use serde::Deserialize as _;
            let file = ToyFile::deserialize(toml::de::Deserializer::from(doc)).map_err(|e| {
                let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
                Error::Scenario {
                    origin: "t.toml".into(),
                    line,
                    column,
                    message: e.message().to_owned(),
                }
            })?;
            if file.toy.share.is_some_and(|s| s > 1.0) {
                let (line, column) = line_column(text, text.find("[toy]").unwrap_or(0));
                return Err(Error::Scenario {
                    origin: "t.toml".into(),
                    line,
                    column,
                    message: "share must be at most 1".into(),
                });
            }
            Ok(file)
        });
        errors
            .iter()
            .map(|e| e.to_string().trim_start_matches("t.toml:").to_owned())
            .collect()
    }

    #[test]
    fn a_new_field_is_known_from_serde_alone() {
        let found = toy_mistakes("[toy]\nseed = 1\nname = \"x\"\nbrand_new_kye = 2\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("4:1: unknown field `brand_new_kye`"),
            "{found:?}"
        );
        assert!(found[0].ends_with("did you mean `brand_new_key`?"), "{found:?}");
    }

    #[test]
    fn required_keys_with_wrong_values_do_not_hide_the_rest() {
        // A required key of the wrong type, a required key misspelled, a refused value placed at
        // its table by the validator, and a mistake in a later table: all four, in file order.
        let text = "[toy]\nseed = \"one\"\nnmae = \"x\"\nshare = 1.5\n\n[[more]]\nseed = 2\nname = 3\n";
        let found = toy_mistakes(text);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0].starts_with("2:8: invalid type: string \"one\", expected an integer"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("3:1: unknown field `nmae`") && found[1].ends_with("`name`?"),
            "{found:?}"
        );
        assert_eq!(
            found[2], "4:9: share must be at most 1",
            "moved to the key it names"
        );
        assert!(
            found[3].starts_with("8:8: invalid type: integer `3`, expected a string"),
            "{found:?}"
        );
    }

    #[test]
    fn a_syntax_error_is_reported_alone_and_a_missing_key_once() {
        let found = toy_mistakes("[toy]\nseed = = 1\nname = \"x\"\n");
        assert!(
            !found.is_empty() && found.iter().all(|f| f.starts_with("2:")),
            "{found:?}"
        );
        assert_eq!(
            toy_mistakes("[toy]\nname = \"x\"\n"),
            ["1:1: missing field `seed`"]
        );
        assert_eq!(
            toy_mistakes("[toy]\nseed = 1\nname = \"x\"\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn close_spellings_are_suggested_and_far_ones_are_not() {
        let keys = choices(&["users", "admins", "groups", "group_size_skew"]);
        assert_eq!(suggest("admnis", &keys).as_deref(), Some("admins"));
        assert_eq!(suggest("admin", &keys).as_deref(), Some("admins"));
        assert_eq!(suggest("grups", &keys).as_deref(), Some("groups"));
        assert_eq!(
            suggest("group-size-skew", &keys).as_deref(),
            Some("group_size_skew")
        );
        assert_eq!(suggest("seed", &keys), None, "nothing close");
        assert_eq!(suggest("x", &keys), None);
        let statuses = choices(&["active", "bypass", "disabled", "locked out"]);
        assert_eq!(suggest("Active", &statuses).as_deref(), Some("active"), "case");
        assert_eq!(suggest("locked_out", &statuses).as_deref(), Some("locked out"));
        assert_eq!(
            suggest("disabeld", &statuses).as_deref(),
            Some("disabled"),
            "a swap"
        );
        let profiles = choices(&["cloudflare-403", "akamai-403", "nginx-502", "nginx-504"]);
        assert_eq!(
            suggest("cloudflare403", &profiles).as_deref(),
            Some("cloudflare-403")
        );
        assert_eq!(suggest("nginx-503", &profiles).as_deref(), Some("nginx-502"));
    }

    #[test]
    fn distance_counts_edits_and_swaps() {
        let d = |a: &str, b: &str| distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
        assert_eq!(d("", ""), 0);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("seed", "sede"), 1);
        assert_eq!(d("ab", "ba"), 1);
        assert_eq!(d("grants", "grants"), 0);
    }

    #[test]
    fn messages_use_toml_type_words() {
        assert_eq!(
            words("invalid type: string \"ten\", expected u32"),
            "invalid type: string \"ten\", expected an integer from 0 to 4294967295"
        );
        assert_eq!(
            words("invalid type: floating point `1.5`, expected u64"),
            "invalid type: float `1.5`, expected an integer of at least 0"
        );
        assert_eq!(
            words("invalid type: integer `1`, expected f64"),
            "invalid type: integer `1`, expected a float"
        );
        assert_eq!(
            words("invalid type: string \"a\", expected a sequence"),
            "invalid type: string \"a\", expected an array"
        );
        assert_eq!(
            words("invalid type: sequence, expected struct Tenant"),
            "invalid type: array, expected a table"
        );
        assert_eq!(words("expected u321"), "expected u321", "whole words only");
    }

    #[test]
    fn lists_after_expected_are_read() {
        assert_eq!(
            expected_list("unknown field `sede`, expected one of `seed`, `name`"),
            ["seed", "name"]
        );
        assert_eq!(
            expected_list("unknown variant `x`, expected `a` or `b`"),
            ["a", "b"]
        );
        assert_eq!(
            expected_list("\"X\" is not a user status; expected one of: active, bypass"),
            ["active", "bypass"]
        );
    }

    #[test]
    fn offsets_and_places_are_inverse() {
        let text = "a = 1\nbé = \"ü\"\n\nc = 3";
        for offset in [0, 3, 6, 10, 12, 17, 18, text.len()] {
            if text.is_char_boundary(offset) {
                let (line, column) = line_column(text, offset);
                assert_eq!(offset_of(text, line, column), offset, "{offset}");
            }
        }
    }

    #[test]
    fn a_request_path_with_a_query_is_refused_with_the_query_table() {
        let message = request_path_mistake("/admin/v1/users?offset=300&limit=1").expect("refused");
        assert!(
            message.contains("query = { offset = \"300\", limit = \"1\" }"),
            "{message}"
        );
        assert!(message.contains("path = \"/admin/v1/users\""), "{message}");
        assert!(request_path_mistake("/admin/v1/users#x").is_some());
        assert!(request_path_mistake("/admin/v1/users x").is_some());
        assert_eq!(request_path_mistake("/admin/v1/users/*"), None);
    }
}
