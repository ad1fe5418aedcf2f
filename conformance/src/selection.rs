//! Which cases a run takes: `--case ID_OR_GLOB`, `--category`, `--exclude`, and `--partition K/N`
//! (a share of the selection, so CI can spread the catalogue over machines).

use std::fmt;
use std::str::FromStr;

use crate::case::{Case, Category};
use crate::error::{Error, Result};

/// One share of a run: the `index`-th of `count` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which share, from 1.
    pub index: usize,
    /// How many shares.
    pub count: usize,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let bad = || format!("partition {text:?} must be K/N with 1 ≤ K ≤ N, e.g. 2/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Ids or globs (`*`, `?`); empty: every case.
    pub cases: Vec<String>,
    /// Categories; empty: every category.
    pub categories: Vec<Category>,
    /// Ids or globs to leave out.
    pub exclude: Vec<String>,
    /// A share of what is left.
    pub partition: Option<Partition>,
}

impl Selection {
    /// The selected cases of `catalogue`, in catalogue order. A `--case` pattern that matches
    /// nothing, or filters that leave nothing, are errors (a typo must not pass as an empty,
    /// green run). A partition may be empty (more machines than cases).
    pub fn apply<'a>(&self, catalogue: &'a [Case]) -> Result<Vec<&'a Case>> {
        for pattern in &self.cases {
            if !catalogue.iter().any(|c| glob_matches(pattern, &c.id)) {
                return Err(Error::Usage(format!(
                    "--case {pattern:?} matches no case (see `duo-conformance run --list`)"
                )));
            }
        }
        let chosen: Vec<&Case> = catalogue
            .iter()
            .filter(|c| self.cases.is_empty() || self.cases.iter().any(|p| glob_matches(p, &c.id)))
            .filter(|c| self.categories.is_empty() || self.categories.contains(&c.category))
            .filter(|c| !self.exclude.iter().any(|p| glob_matches(p, &c.id)))
            .collect();
        if chosen.is_empty() {
            return Err(Error::Usage(
                "no case is selected: --case, --category and --exclude leave nothing to run".into(),
            ));
        }
        Ok(match self.partition {
            // Round robin over the sorted ids: every share gets some of every category.
            Some(p) => chosen
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % p.count == p.index - 1)
                .map(|(_, c)| c)
                .collect(),
            None => chosen,
        })
    }
}

/// Shell-style matching: `*` any run of characters, `?` one character; else literal.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                backtrack = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    pi = star + 1;
                    ti = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{bundled_cases_dir, bundled_root, load_catalogue};

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_matches("sync-*", "sync-301-users"));
        assert!(glob_matches("*-301-*", "pagination-301-users"));
        assert!(glob_matches(
            "auth-clock-skew-server-????d",
            "auth-clock-skew-server-ahead"
        ));
        assert!(glob_matches("sync-301-users", "sync-301-users"));
        assert!(!glob_matches("sync-301", "sync-301-users"));
        assert!(!glob_matches("*-users", "sync-unicode"));
        assert!(glob_matches("*", ""));
    }

    #[test]
    fn partitions_parse_and_refuse_nonsense() {
        assert_eq!("2/4".parse::<Partition>(), Ok(Partition { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn selections_filter_and_partitions_cover_everything_once() {
        let catalogue = load_catalogue(&bundled_cases_dir(), &bundled_root()).unwrap();
        let all = Selection::default().apply(&catalogue).unwrap();
        assert_eq!(all.len(), catalogue.len());
        let mut seen: Vec<&str> = Vec::new();
        for index in 1..=3 {
            let share = Selection {
                partition: Some(Partition { index, count: 3 }),
                ..Selection::default()
            };
            seen.extend(share.apply(&catalogue).unwrap().iter().map(|c| c.id.as_str()));
        }
        seen.sort_unstable();
        let mut ids: Vec<&str> = catalogue.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(seen, ids);

        let auth = Selection {
            categories: vec![Category::Auth],
            exclude: vec!["*clock*".into()],
            ..Selection::default()
        };
        let picked = auth.apply(&catalogue).unwrap();
        assert!(!picked.is_empty());
        assert!(
            picked
                .iter()
                .all(|c| c.category == Category::Auth && !c.id.contains("clock"))
        );

        let typo = Selection {
            cases: vec!["sync-301-user".into()],
            ..Selection::default()
        };
        assert!(
            typo.apply(&catalogue)
                .unwrap_err()
                .to_string()
                .contains("matches no case")
        );
    }
}
