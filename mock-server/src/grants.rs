//! Admin API permissions ("grants") by Duo's names, and which one each endpoint needs (§4).

use std::fmt;

/// One Admin API permission of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grant {
    /// Users, groups, phones, tokens… (`adminapi_read_resource`).
    ReadResource,
    /// Create, update, delete of those objects (`adminapi_write_resource`).
    WriteResource,
    /// Administrators (`adminapi_admins`).
    Administrators,
    /// `/admin/v1/info/*` (`adminapi_info`).
    ReadInformation,
    /// `/admin/v1/settings` (`adminapi_settings`).
    Settings,
    /// Authentication, administrator and telephony logs (`adminapi_read_log`).
    ReadLog,
    /// Integrations (`adminapi_integrations`).
    Applications,
}

impl Grant {
    /// Every grant, in the order Duo's Admin Panel lists them.
    pub const ALL: [Self; 7] = [
        Self::Applications,
        Self::Administrators,
        Self::ReadInformation,
        Self::ReadLog,
        Self::ReadResource,
        Self::Settings,
        Self::WriteResource,
    ];

    /// Duo's name for the grant, as the Admin Panel has long labelled it.
    pub fn name(self) -> &'static str {
        match self {
            Self::ReadResource => "Grant read resource",
            Self::WriteResource => "Grant write resource",
            Self::Administrators => "Grant administrators",
            Self::ReadInformation => "Grant read information",
            Self::Settings => "Grant settings",
            Self::ReadLog => "Grant read log",
            Self::Applications => "Grant applications",
        }
    }

    /// Parses a grant name: Duo's classic labels, the 2024-25 "Read/Write" relabelling
    /// (`Grant resource - Read`, `Grant administrators - Read`), case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        let wanted = name.trim().to_ascii_lowercase();
        let found = match wanted.as_str() {
            "grant read resource" | "grant resource - read" => Self::ReadResource,
            "grant write resource" | "grant resource - write" => Self::WriteResource,
            "grant administrators" | "grant administrators - read" => Self::Administrators,
            "grant read information" => Self::ReadInformation,
            "grant settings" => Self::Settings,
            "grant read log" => Self::ReadLog,
            "grant applications" => Self::Applications,
            _ => return None,
        };
        Some(found)
    }

    /// The integration-object flag Duo reports for this grant.
    pub fn flag(self) -> &'static str {
        match self {
            Self::ReadResource => "adminapi_read_resource",
            Self::WriteResource => "adminapi_write_resource",
            Self::Administrators => "adminapi_admins",
            Self::ReadInformation => "adminapi_info",
            Self::Settings => "adminapi_settings",
            Self::ReadLog => "adminapi_read_log",
            Self::Applications => "adminapi_integrations",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The grants of one integration: a bit set, checked on every request.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantSet(u8);

impl GrantSet {
    /// Adds a grant.
    pub fn insert(&mut self, grant: Grant) {
        self.0 |= grant.bit();
    }

    /// Whether the set holds `grant`.
    pub fn contains(self, grant: Grant) -> bool {
        self.0 & grant.bit() != 0
    }

    /// The grants held, in [`Grant::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Grant> {
        Grant::ALL.into_iter().filter(move |g| self.contains(*g))
    }

    /// Duo's names of the grants held.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Grant::name).collect()
    }
}

impl FromIterator<Grant> for GrantSet {
    fn from_iter<I: IntoIterator<Item = Grant>>(iter: I) -> Self {
        let mut set = Self::default();
        for grant in iter {
            set.insert(grant);
        }
        set
    }
}

impl fmt::Debug for GrantSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Grant::name)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_grant() {
        for grant in Grant::ALL {
            assert_eq!(Grant::from_name(grant.name()), Some(grant));
            assert_eq!(Grant::from_name(&grant.name().to_uppercase()), Some(grant));
        }
        assert_eq!(
            Grant::from_name("Grant resource - Read"),
            Some(Grant::ReadResource)
        );
        assert_eq!(Grant::from_name("Grant read users"), None);
    }

    #[test]
    fn set_holds_exactly_what_was_inserted() {
        let set: GrantSet = [Grant::ReadResource, Grant::Settings].into_iter().collect();
        assert!(set.contains(Grant::ReadResource));
        assert!(set.contains(Grant::Settings));
        assert!(!set.contains(Grant::Administrators));
        assert_eq!(set.names(), ["Grant read resource", "Grant settings"]);
    }
}
