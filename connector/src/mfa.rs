//! A user's MFA posture: the strongest kind of second factor the user has, read from the methods
//! embedded in the user object (`phones`, `tokens`, `webauthncredentials`, `u2ftokens`). The rules are documented word for word in `connector/README.md`.
//!
//! ```
//! use duo_connector::mfa::MfaPosture;
//! assert_eq!(MfaPosture::SmsOrVoiceOnly.as_str(), "sms_or_voice_only");
//! assert!(MfaPosture::None.needs_action() && !MfaPosture::Strong.needs_action());
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::objects::UserView;

/// One user's MFA posture; the first rule that applies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaPosture {
    /// At least one WebAuthn credential or U2F token.
    PhishingResistant,
    /// Otherwise, a phone with `push` or `mobile_otp` among its capabilities, or a hardware token.
    Strong,
    /// Otherwise, at least one phone.
    SmsOrVoiceOnly,
    /// No phone, token, WebAuthn credential or U2F token.
    None,
}

impl MfaPosture {
    /// Every posture, strongest first.
    pub const ALL: [Self; 4] = [
        Self::PhishingResistant,
        Self::Strong,
        Self::SmsOrVoiceOnly,
        Self::None,
    ];

    /// The name used in every output (`phishing_resistant`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhishingResistant => "phishing_resistant",
            Self::Strong => "strong",
            Self::SmsOrVoiceOnly => "sms_or_voice_only",
            Self::None => "none",
        }
    }

    /// An active user with this posture is on the review's action list: no second factor, or
    /// only codes and calls that can be intercepted or socially engineered.
    pub fn needs_action(self) -> bool {
        matches!(self, Self::SmsOrVoiceOnly | Self::None)
    }

    /// The posture of `user`, by the rules above. Capabilities are compared without regard to
    /// case; a list that is missing or not a list counts as empty.
    pub(crate) fn of(user: &UserView) -> Self {
        let app_capable = |capability: &String| {
            ["push", "mobile_otp"]
                .iter()
                .any(|strong| capability.trim().eq_ignore_ascii_case(strong))
        };
        if user.webauthncredentials > 0 || user.u2ftokens > 0 {
            Self::PhishingResistant
        } else if user.tokens > 0 || user.phones.iter().any(|p| p.capabilities.iter().any(app_capable)) {
            Self::Strong
        } else if !user.phones.is_empty() {
            Self::SmsOrVoiceOnly
        } else {
            Self::None
        }
    }
}

impl fmt::Display for MfaPosture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many users have each posture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PostureCounts {
    /// [`MfaPosture::PhishingResistant`].
    pub phishing_resistant: usize,
    /// [`MfaPosture::Strong`].
    pub strong: usize,
    /// [`MfaPosture::SmsOrVoiceOnly`].
    pub sms_or_voice_only: usize,
    /// [`MfaPosture::None`].
    pub none: usize,
}

impl PostureCounts {
    /// Counts one more user of `posture`.
    pub fn add(&mut self, posture: MfaPosture) {
        *self.slot(posture) += 1;
    }

    /// How many users have `posture`.
    pub fn get(&self, posture: MfaPosture) -> usize {
        match posture {
            MfaPosture::PhishingResistant => self.phishing_resistant,
            MfaPosture::Strong => self.strong,
            MfaPosture::SmsOrVoiceOnly => self.sms_or_voice_only,
            MfaPosture::None => self.none,
        }
    }

    /// All users counted.
    pub fn total(&self) -> usize {
        MfaPosture::ALL.iter().map(|p| self.get(*p)).sum()
    }

    fn slot(&mut self, posture: MfaPosture) -> &mut usize {
        match posture {
            MfaPosture::PhishingResistant => &mut self.phishing_resistant,
            MfaPosture::Strong => &mut self.strong,
            MfaPosture::SmsOrVoiceOnly => &mut self.sms_or_voice_only,
            MfaPosture::None => &mut self.none,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posture(user_json: &str) -> MfaPosture {
        MfaPosture::of(&serde_json::from_str(user_json).unwrap())
    }

    const PUSH_PHONE: &str = r#"{"capabilities":["auto","push","sms","phone","mobile_otp"]}"#;
    const LANDLINE: &str = r#"{"capabilities":["phone"]}"#;
    const SMS_PHONE: &str = r#"{"capabilities":["sms","phone"]}"#;

    #[test]
    fn each_rule_in_order() {
        let user = |phones: &str, tokens: &str, webauthn: &str, u2f: &str| {
            posture(&format!(
                r#"{{"user_id":"DU1","phones":[{phones}],"tokens":[{tokens}],
                    "webauthncredentials":[{webauthn}],"u2ftokens":[{u2f}]}}"#
            ))
        };
        let token = r#"{"token_id":"DH1","type":"yk"}"#;
        let webauthn = r#"{"webauthnkey":"WA1"}"#;
        let u2f = r#"{"registration_id":"R1"}"#;
        assert_eq!(user("", "", "", ""), MfaPosture::None);
        assert_eq!(user(LANDLINE, "", "", ""), MfaPosture::SmsOrVoiceOnly);
        assert_eq!(
            user(&format!("{LANDLINE},{SMS_PHONE}"), "", "", ""),
            MfaPosture::SmsOrVoiceOnly
        );
        assert_eq!(user(PUSH_PHONE, "", "", ""), MfaPosture::Strong);
        assert_eq!(
            user(r#"{"capabilities":["sms","mobile_otp"]}"#, "", "", ""),
            MfaPosture::Strong
        );
        assert_eq!(user("", token, "", ""), MfaPosture::Strong);
        assert_eq!(user(LANDLINE, token, "", ""), MfaPosture::Strong);
        assert_eq!(user("", "", webauthn, ""), MfaPosture::PhishingResistant);
        assert_eq!(user(LANDLINE, "", "", u2f), MfaPosture::PhishingResistant);
        assert_eq!(
            user(PUSH_PHONE, token, webauthn, u2f),
            MfaPosture::PhishingResistant
        );
    }

    #[test]
    fn drifted_method_lists_count_as_what_they_hold() {
        // Missing lists, a list that is not one, nulls inside, capitalised capabilities.
        assert_eq!(posture(r#"{"user_id":"DU1"}"#), MfaPosture::None);
        assert_eq!(
            posture(r#"{"user_id":"DU1","webauthncredentials":[null],"u2ftokens":"none","tokens":{}}"#),
            MfaPosture::None
        );
        assert_eq!(
            posture(r#"{"user_id":"DU1","phones":[{"capabilities":["Push"]}]}"#),
            MfaPosture::Strong
        );
        assert_eq!(
            posture(r#"{"user_id":"DU1","phones":[{"capabilities":null}]}"#),
            MfaPosture::SmsOrVoiceOnly
        );
    }

    #[test]
    fn counts_add_up_and_serialize_by_name() {
        let mut counts = PostureCounts::default();
        for p in [MfaPosture::Strong, MfaPosture::Strong, MfaPosture::None] {
            counts.add(p);
        }
        assert_eq!((counts.strong, counts.none, counts.total()), (2, 1, 3));
        let json = serde_json::to_value(counts).unwrap();
        assert_eq!(json["sms_or_voice_only"], 0);
        assert_eq!(
            serde_json::to_value(MfaPosture::SmsOrVoiceOnly).unwrap(),
            "sms_or_voice_only"
        );
        assert!(MfaPosture::SmsOrVoiceOnly.needs_action() && !MfaPosture::PhishingResistant.needs_action());
    }
}
