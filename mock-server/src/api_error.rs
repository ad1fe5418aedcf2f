//! Duo's failure envelope: `{"code":…,"message":…,"message_detail":…,"stat":"FAIL"}` with the HTTP
//! status equal to the first three digits of `code` (§2.1-2.2 of the API notes).

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::model::write_str;

/// Header carrying an explanation of a refusal (opt-in).
pub const EXPLAIN_HEADER: &str = "x-duo-mock-explain";

/// A Duo error answer. Handlers return `Result<_, ApiError>`; rendering has no side effects
/// (logging happens where the error is decided, with the context only the server may see).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Duo's five-digit code; the HTTP status is `code / 100`.
    pub code: u32,
    /// Duo's message for the code.
    pub message: Cow<'static, str>,
    /// Duo's optional `message_detail`, e.g. the offending parameter's name.
    pub detail: Option<String>,
    /// Why, in words Duo never sends: only with the scenario's `explain` option, in the
    /// `X-Duo-Mock-Explain` header, for local debugging.
    pub explain: Option<String>,
}

impl ApiError {
    const fn new(code: u32, message: &'static str) -> Self {
        Self {
            code,
            message: Cow::Borrowed(message),
            detail: None,
            explain: None,
        }
    }

    /// The same error, explained in `X-Duo-Mock-Explain` when `enabled`.
    #[must_use]
    pub fn explained(mut self, enabled: bool, why: impl FnOnce() -> String) -> Self {
        if enabled {
            self.explain = Some(why());
        }
        self
    }

    /// Any Duo code and message (fault rules inject them).
    pub fn custom(code: u32, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
            explain: None,
        }
    }

    /// 400 40002: a parameter is missing or invalid; `detail` names it.
    pub fn invalid_parameter(name: &str) -> Self {
        Self {
            detail: Some(name.to_owned()),
            ..Self::new(40002, "Invalid request parameters")
        }
    }

    /// 401 40101: no usable `Authorization` header.
    pub const fn missing_credentials() -> Self {
        Self::new(40101, "Missing request credentials")
    }

    /// 401 40102: the ikey is unknown (or not an Admin API application).
    pub const fn invalid_integration_key() -> Self {
        Self::new(40102, "Invalid integration key in request credentials")
    }

    /// 401 40103: the signature does not match.
    pub const fn invalid_signature() -> Self {
        Self::new(40103, "Invalid signature in request credentials")
    }

    /// 401 40104: the date header is missing or unparseable.
    pub const fn missing_timestamp() -> Self {
        Self::new(40104, "Missing request timestamp")
    }

    /// 401 40105: the date is outside the accepted window.
    pub const fn bad_timestamp() -> Self {
        Self::new(40105, "Bad request timestamp")
    }

    /// 401 40112: the signature matched a version this tenant does not accept.
    pub const fn unsupported_signature() -> Self {
        Self::new(40112, "Signature type is not supported")
    }

    /// 403 40301: a permission is missing. Duo says no more than this.
    pub const fn forbidden() -> Self {
        Self::new(40301, "Access forbidden")
    }

    /// 404 40401: unknown object or route.
    pub const fn not_found() -> Self {
        Self::new(40401, "Resource not found")
    }

    /// 405 40501: the route exists, not with this method (code unconfirmed at Duo).
    pub const fn method_not_allowed() -> Self {
        Self::new(40501, "Method not allowed")
    }

    /// Duo's own text for `code`, when the code is one Duo's answers have shown (the table of
    /// codes in the API notes); a 429xx, 500xx or 503xx code takes its status's text.
    pub fn standard_message(code: u32) -> Option<&'static str> {
        let known = [
            Self::invalid_parameter(""),
            Self::missing_credentials(),
            Self::invalid_integration_key(),
            Self::invalid_signature(),
            Self::missing_timestamp(),
            Self::bad_timestamp(),
            Self::unsupported_signature(),
            Self::forbidden(),
            Self::not_found(),
            Self::method_not_allowed(),
        ];
        if let Some(error) = known.into_iter().find(|e| e.code == code) {
            return match error.message {
                Cow::Borrowed(text) => Some(text),
                Cow::Owned(_) => None,
            };
        }
        match code / 100 {
            429 => Some("Too Many Requests"),
            500 => Some("Internal server error"),
            503 => Some("Service Unavailable"),
            _ => None,
        }
    }

    /// The HTTP status: the first three digits of the code.
    pub fn status(&self) -> StatusCode {
        u16::try_from(self.code / 100)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body, keys in Duo's alphabetical order.
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(format!("{{\"code\":{},\"message\":", self.code).as_bytes());
        write_str(&mut out, &self.message);
        if let Some(detail) = &self.detail {
            out.extend_from_slice(b",\"message_detail\":");
            write_str(&mut out, detail);
        }
        out.extend_from_slice(b",\"stat\":\"FAIL\"}");
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.body()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(why) = &self.explain {
            // Header values are visible ASCII: escape the rest (line breaks of canonical strings).
            let mut escaped = String::with_capacity(why.len());
            for c in why.chars() {
                match c {
                    '\n' => escaped.push_str("\\n"),
                    '\r' => escaped.push_str("\\r"),
                    '\t' => escaped.push_str("\\t"),
                    ' '..='~' => escaped.push(c),
                    other => escaped.extend(other.escape_unicode()),
                }
            }
            if let Ok(value) = HeaderValue::try_from(escaped) {
                response.headers_mut().insert(EXPLAIN_HEADER, value);
            }
        }
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_first_three_digits_and_body_is_duos() {
        let e = ApiError::invalid_parameter("limit");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            String::from_utf8(e.body()).expect("utf-8"),
            r#"{"code":40002,"message":"Invalid request parameters","message_detail":"limit","stat":"FAIL"}"#
        );
        assert_eq!(ApiError::forbidden().status(), StatusCode::FORBIDDEN);
        assert_eq!(
            String::from_utf8(ApiError::invalid_signature().body()).expect("utf-8"),
            r#"{"code":40103,"message":"Invalid signature in request credentials","stat":"FAIL"}"#
        );
    }

    #[test]
    fn standard_messages_are_duos() {
        assert_eq!(ApiError::standard_message(40301), Some("Access forbidden"));
        assert_eq!(
            ApiError::standard_message(40002),
            Some("Invalid request parameters")
        );
        assert_eq!(ApiError::standard_message(42901), Some("Too Many Requests"));
        assert_eq!(ApiError::standard_message(50301), Some("Service Unavailable"));
        assert_eq!(ApiError::standard_message(40099), None);
    }
}
