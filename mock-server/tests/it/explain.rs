//! The signature debugger (`mock_server::explain` and `duo-mock explain-signature`), checked with
//! Duo's published vector C (§1.11 of the API notes) and the usual ways a client gets it wrong.

use std::process::{Command, Output};

use duo_auth::{Digest, Scheme, SignedParts, SigningKey};
use mock_server::explain::{ExplainInput, ParamsInput, SentSignature, Verdict, explain};

use crate::support::root;

/// The DOCS example keys (vector C), not a real integration's.
const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
const DATE2: &str = "Tue, 21 Aug 2012 17:29:18 -0000";
const HOST: &str = "api-XXXXXXXX.duosecurity.com";
const PATH: &str = "/accounts/v1/account/list";
const C_CANONICAL: &str = "Tue, 21 Aug 2012 17:29:18 -0000\nPOST\napi-xxxxxxxx.duosecurity.com\n\
                           /accounts/v1/account/list\nrealname=First%20Last&username=root";
const C_SHA1: &str = "2d97d6166319781b5a3a07af39d366f491234edc";
const C_SHA512: &str = "1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9ee97e59de44b304b18242f0d596d15a8122af";
const C_SHA512_AUTHORIZATION: &str = "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MWJmZmI4OTI0MzQ4ZjdkYjdkYTllN2Q3ZDc0OWRlZDkzYWFmZDAyZDhlOTA0OTYwZGE3Yjk2YzU3NTEwMjIwMTg1YTY0YTI4MjdlZThmMjRhYzVkMzA4MDJhOWVlOTdlNTlkZTQ0YjMwNGIxODI0MmYwZDU5NmQxNWE4MTIyYWY=";

/// Vector C's request, its parameters decoded.
fn vector_c(sent: Option<SentSignature>) -> ExplainInput {
    ExplainInput {
        method: "POST".into(),
        host: HOST.into(),
        path: PATH.into(),
        params: ParamsInput::Decoded(vec![
            ("realname".into(), "First Last".into()),
            ("username".into(), "root".into()),
        ]),
        date: DATE2.into(),
        skey: SKEY.into(),
        sent,
        ..ExplainInput::default()
    }
}

fn hex(signature: &str) -> Option<SentSignature> {
    Some(SentSignature::Hex(signature.into()))
}

/// A GET of the users list signed by `duo-auth` over `host` (the client's side).
fn users_get(host: &str, scheme: Scheme) -> (ExplainInput, String) {
    let params = duo_auth::params::parse_urlencoded(b"limit=100&offset=0");
    let parts = SignedParts {
        date: DATE2,
        method: "GET",
        host,
        path: "/admin/v1/users",
        params: &params,
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(&SigningKey::new(SKEY.as_bytes()), scheme, &parts);
    let input = ExplainInput {
        method: "GET".into(),
        host: host.into(),
        path: "/admin/v1/users".into(),
        params: ParamsInput::Query("limit=100&offset=0".into()),
        date: DATE2.into(),
        skey: SKEY.into(),
        sent: hex(&signature),
        ..ExplainInput::default()
    };
    (input, signature)
}

fn reasons(verdict: &Verdict) -> &[String] {
    match verdict {
        Verdict::NoMatch { reasons } => reasons,
        other => panic!("expected no match, got {other:?}"),
    }
}

#[test]
fn vector_c_v2_sha1_is_named_with_its_exact_canonical_string() {
    let explanation = explain(&vector_c(hex(C_SHA1)));
    assert_eq!(
        explanation.matched(),
        Some((Scheme::V2(Digest::Sha1), "api-xxxxxxxx.duosecurity.com"))
    );
    let v2 = explanation
        .candidate(Scheme::V2(Digest::Sha1))
        .expect("v2-sha1 candidate");
    assert_eq!(v2.canonical(HOST), Some(C_CANONICAL));
    assert_eq!(v2.per_host[0].signature, C_SHA1);

    let text = explanation.to_string();
    assert!(
        text.contains("Verdict: MATCH: v2-sha1 over host [1] \"api-xxxxxxxx.duosecurity.com\""),
        "{text}"
    );
    // The canonical string, one numbered line a row, in the v2-sha1 block.
    let block = text
        .split("== v2-sha1 (")
        .nth(1)
        .and_then(|rest| rest.split("\n== ").next())
        .expect("a v2-sha1 block");
    let rows: Vec<&str> = block
        .lines()
        .filter_map(|l| l.split_once("| ").map(|(_, line)| line))
        .collect();
    assert_eq!(rows.join("\n"), C_CANONICAL, "{block}");
    assert!(
        block.contains("    1  date           | Tue, 21 Aug 2012"),
        "{block}"
    );
    assert!(
        text.contains(&format!("{C_SHA1}   <== MATCHES THE SENT SIGNATURE")),
        "{text}"
    );
}

#[test]
fn vector_c_v2_sha512_is_named_from_the_hex_or_the_authorization_header() {
    for sent in [
        SentSignature::Hex(C_SHA512.to_uppercase()),
        SentSignature::Authorization(C_SHA512_AUTHORIZATION.into()),
    ] {
        let explanation = explain(&vector_c(Some(sent.clone())));
        assert_eq!(
            explanation.matched().map(|(scheme, _)| scheme),
            Some(Scheme::V2(Digest::Sha512)),
            "{sent:?}"
        );
        let text = explanation.to_string();
        assert!(text.contains("Verdict: MATCH: v2-sha512"), "{text}");
        assert!(text.contains("realname=First%20Last&username=root"), "{text}");
        if matches!(sent, SentSignature::Authorization(_)) {
            assert!(text.contains(&format!("ikey        {IKEY}")), "{text}");
        }
    }
}

#[test]
fn vector_c_as_a_form_post_matches_the_same_v2_signature() {
    let input = ExplainInput {
        params: ParamsInput::Query(String::new()),
        body: b"realname=First+Last&username=root".to_vec(),
        headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
        ..vector_c(hex(C_SHA1))
    };
    let explanation = explain(&input);
    assert_eq!(
        explanation.matched().map(|(scheme, _)| scheme),
        Some(Scheme::V2(Digest::Sha1))
    );
    // v5 signs the query only: its params line is empty, its body hash that of the form.
    let v5 = explanation.candidate(Scheme::V5).expect("v5 candidate");
    assert!(v5.per_host[0].canonical.contains(&format!("{PATH}\n\n")));
}

#[test]
fn a_signature_over_the_host_with_its_port_matches_only_that_spelling() {
    let (mut input, signature) = users_get("localhost:8443", Scheme::V2(Digest::Sha512));
    input.api_hostname = Some("api-xxxxxxxx.duosecurity.com".into());
    let explanation = explain(&input);
    assert_eq!(
        explanation.matched(),
        Some((Scheme::V2(Digest::Sha512), "localhost:8443"))
    );
    let hosts: Vec<&str> = explanation.hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["localhost", "localhost:8443", "api-xxxxxxxx.duosecurity.com"]
    );
    let v2 = explanation
        .candidate(Scheme::V2(Digest::Sha512))
        .expect("candidate");
    let matches: Vec<bool> = v2.per_host.iter().map(|s| s.matches).collect();
    assert_eq!(matches, [false, true, false]);
    assert_eq!(v2.per_host[1].signature, signature);

    let text = explanation.to_string();
    let verdict = text.split("Verdict: ").nth(1).expect("a verdict");
    assert!(
        verdict.starts_with("MATCH: v2-sha512 over host [2] \"localhost:8443\" (as given, with its port)"),
        "{verdict}"
    );
    assert!(verdict.contains("only this host spelling matches"), "{verdict}");
    assert!(verdict.contains("\"localhost\" (without the port)"), "{verdict}");

    // Signed without the port (Duo's Python client), the other spelling matches instead.
    let (mut input, _) = users_get("localhost", Scheme::V5);
    input.host = "localhost:8443".into();
    let explanation = explain(&input);
    assert_eq!(explanation.matched(), Some((Scheme::V5, "localhost")));
    assert!(
        explanation
            .to_string()
            .contains("without its port, as Duo's Python client does"),
        "{explanation}"
    );
}

#[test]
fn a_wrong_skey_gives_no_match_with_a_reason() {
    let input = ExplainInput {
        skey: "0123456789012345678901234567890123456789".into(),
        ..vector_c(hex(C_SHA1))
    };
    let explanation = explain(&input);
    assert_eq!(explanation.matched(), None);
    let reasons = reasons(&explanation.verdict);
    assert!(reasons[0].contains("another skey"), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("length of an HMAC-SHA1")),
        "{reasons:?}"
    );
    assert!(
        explanation
            .candidates
            .iter()
            .all(|c| c.per_host.iter().all(|s| !s.matches))
    );
    let text = explanation.to_string();
    assert!(text.contains("Verdict: NO MATCH: "), "{text}");
    assert!(!text.contains("MATCHES THE SENT SIGNATURE"), "{text}");
}

#[test]
fn the_skey_never_appears_in_the_output_or_debug() {
    for sent in [
        None,
        hex(C_SHA1),
        hex(&"0".repeat(128)),
        hex("not hex"),
        Some(SentSignature::Authorization("Bearer x".into())),
    ] {
        let input = vector_c(sent);
        let explanation = explain(&input);
        for shown in [
            explanation.to_string(),
            format!("{explanation:?}"),
            format!("{input:?}"),
        ] {
            assert!(!shown.contains(SKEY), "{shown}");
        }
        assert!(
            explanation
                .to_string()
                .contains("skey        40 characters (not shown)"),
            "{explanation}"
        );
    }
}

#[test]
fn without_a_signature_every_candidate_is_listed_and_nothing_compared() {
    let explanation = explain(&vector_c(None));
    assert_eq!(explanation.verdict, Verdict::NotCompared);
    let names: Vec<&str> = explanation.candidates.iter().map(|c| c.scheme.name()).collect();
    assert_eq!(
        names,
        ["v1-sha1", "v1-sha512", "v2-sha1", "v2-sha512", "v4", "v5"]
    );
    let text = explanation.to_string();
    for name in names {
        assert!(text.contains(&format!("== {name} (")), "{name}: {text}");
    }
    assert!(text.contains(C_SHA1) && text.contains(C_SHA512), "{text}");
}

#[test]
fn the_usual_slips_are_named() {
    let key = |skey: &str| SigningKey::new(skey.as_bytes());
    let sign_c = |skey: &str, params: &[duo_auth::Param], host: &str, method: &str| {
        let parts = SignedParts {
            date: DATE2,
            method,
            host,
            path: PATH,
            params,
            body: b"",
            duo_headers: &[],
        };
        duo_auth::sign(&key(skey), Scheme::V2(Digest::Sha512), &parts)
    };
    let c_params = duo_auth::params::parse_urlencoded(b"realname=First%20Last&username=root");

    // An skey read from a file with its line break.
    let signature = sign_c(&format!("{SKEY}\n"), &c_params, HOST, "POST");
    let reasons_of = |input: &ExplainInput| match explain(input).verdict {
        Verdict::NoMatch { reasons } => reasons,
        other => panic!("expected no match, got {other:?}"),
    };
    let first = reasons_of(&vector_c(hex(&signature))).remove(0);
    assert!(first.contains("skey followed by a line break"), "{first}");

    // Parameters given still form-encoded.
    let input = ExplainInput {
        params: ParamsInput::Decoded(vec![
            ("realname".into(), "First+Last".into()),
            ("username".into(), "root".into()),
        ]),
        ..vector_c(hex(C_SHA512))
    };
    let first = reasons_of(&input).remove(0);
    assert!(first.contains("look form-encoded"), "{first}");

    // A literal `+` sent in the query, signed as a plus.
    let plus = duo_auth::params::parse_urlencoded(b"username=a%2Bb%40x.com");
    let input = ExplainInput {
        params: ParamsInput::Query("username=a+b@x.com".into()),
        ..vector_c(hex(&sign_c(SKEY, &plus, HOST, "POST")))
    };
    let first = reasons_of(&input).remove(0);
    assert!(first.contains("literal `+` in the query"), "{first}");

    // The host signed with :443.
    let signature = sign_c(SKEY, &c_params, "api-xxxxxxxx.duosecurity.com:443", "POST");
    let first = reasons_of(&vector_c(hex(&signature))).remove(0);
    assert!(first.contains(":443"), "{first}");

    // A POST signed, a GET sent (a redirect).
    let signature = sign_c(SKEY, &c_params, HOST, "POST");
    let input = ExplainInput {
        method: "GET".into(),
        ..vector_c(hex(&signature))
    };
    let first = reasons_of(&input).remove(0);
    assert!(first.contains("signed a POST but sent a GET"), "{first}");

    // A signature of the wrong shape, and an Authorization header that is not Basic.
    let first = reasons_of(&vector_c(hex("abc"))).remove(0);
    assert!(first.contains("not a Duo signature: 3 characters"), "{first}");
    let input = vector_c(Some(SentSignature::Authorization("Bearer abc".into())));
    let first = reasons_of(&input).remove(0);
    assert!(first.contains("40101"), "{first}");
}

#[test]
fn a_date_the_server_cannot_read_is_flagged_even_on_a_match() {
    let input = ExplainInput {
        date: "Mi, 21 Aug 2012 17:29:18 -0000".into(),
        ..vector_c(None)
    };
    let mut input_with_sig = input.clone();
    let v2 = explain(&input)
        .candidate(Scheme::V2(Digest::Sha1))
        .expect("candidate")
        .per_host[0]
        .signature
        .clone();
    input_with_sig.sent = hex(&v2);
    let explanation = explain(&input_with_sig);
    match &explanation.verdict {
        Verdict::Match { notes, .. } => {
            assert!(notes.iter().any(|n| n.contains("40104")), "{notes:?}");
        }
        other => panic!("expected a match, got {other:?}"),
    }
    assert!(explanation.to_string().contains("(DOES NOT PARSE)"));
}

fn duo_mock(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_duo-mock"));
    command.current_dir(root()).arg("explain-signature").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("duo-mock runs")
}

fn vector_c_args() -> Vec<&'static str> {
    vec![
        "--method",
        "POST",
        "--host",
        HOST,
        "--path",
        PATH,
        "--param",
        "realname=First Last",
        "--param",
        "username=root",
        "--date",
        DATE2,
    ]
}

#[test]
fn cli_exits_0_on_a_match_and_prints_the_canonical_lines() {
    let mut args = vector_c_args();
    args.extend(["--skey-env", "EXPLAIN_TEST_SKEY", "--signature", C_SHA1]);
    let output = duo_mock(&args, &[("EXPLAIN_TEST_SKEY", SKEY)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (n, line) in C_CANONICAL.split('\n').enumerate() {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("  {:>3}  ", n + 1)) && l.ends_with(&format!("| {line}"))),
            "line {}: {line:?} in {stdout}",
            n + 1
        );
    }
    assert!(stdout.contains("Verdict: MATCH: v2-sha1"), "{stdout}");
    assert!(!stdout.contains(SKEY));

    // The Authorization header, and the skey from a file with its line break.
    let dir = tempfile::tempdir().expect("temp dir");
    let skey_file = dir.path().join("skey");
    std::fs::write(&skey_file, format!("{SKEY}\n")).expect("skey file");
    let mut args = vector_c_args();
    let skey_path = skey_file.to_str().expect("UTF-8 path");
    args.extend([
        "--skey-file",
        skey_path,
        "--authorization",
        C_SHA512_AUTHORIZATION,
    ]);
    let output = duo_mock(&args, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Verdict: MATCH: v2-sha512"), "{stdout}");

    // Without a signature: every candidate, exit 0.
    let mut args = vector_c_args();
    args.extend(["--skey", SKEY]);
    let output = duo_mock(&args, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("nothing compared") && stdout.contains(C_SHA512),
        "{stdout}"
    );
    assert!(!stdout.contains(SKEY));
}

#[test]
fn cli_exits_1_when_nothing_matches() {
    let mut args = vector_c_args();
    args.extend([
        "--skey-env",
        "EXPLAIN_TEST_SKEY",
        "--signature",
        "2d97d6166319781b5a3a07af39d366f491234ede",
    ]);
    let output = duo_mock(&args, &[("EXPLAIN_TEST_SKEY", SKEY)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Verdict: NO MATCH: "), "{stdout}");
    assert!(stdout.contains("realname=First%20Last&username=root"), "{stdout}");
    assert!(!stdout.contains(SKEY));
}

#[test]
fn cli_exits_2_on_bad_usage() {
    let with = |extra: &[&'static str]| {
        let mut args = vector_c_args();
        args.extend(extra);
        args
    };
    for (args, env) in [
        // No skey source; two skey sources; an unset variable; an unreadable file.
        (with(&[]), vec![]),
        (
            with(&["--skey", "x", "--skey-env", "EXPLAIN_TEST_SKEY"]),
            vec![("EXPLAIN_TEST_SKEY", SKEY)],
        ),
        (with(&["--skey-env", "EXPLAIN_TEST_UNSET_VARIABLE"]), vec![]),
        (with(&["--skey-file", "/nonexistent/skey"]), vec![]),
        // Query and params together; signature and Authorization together; a header without ':'.
        (with(&["--skey", "x", "--query", "a=b"]), vec![]),
        (
            with(&["--skey", "x", "--signature", C_SHA1, "--authorization", "Basic x"]),
            vec![],
        ),
        (with(&["--skey", "x", "--header", "X-Duo-Foo"]), vec![]),
        // No date at all.
        (
            vec![
                "--method",
                "GET",
                "--host",
                HOST,
                "--path",
                "/admin/v1/users",
                "--skey",
                "x",
            ],
            vec![],
        ),
    ] {
        let output = duo_mock(&args, &env);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!String::from_utf8_lossy(&output.stderr).contains(SKEY));
    }
}
