//! A weighted choice among names (factors, reasons, actions…), drawn by one uniform number; the
//! names are kept as JSON strings, ready to copy into an event.

use std::collections::BTreeMap;

use super::random::Draws;

/// Names with cumulative weights, in the (sorted) order of the scenario's table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mix {
    names: Vec<String>,
    json: Vec<Vec<u8>>,
    cumulative: Vec<f64>,
}

impl Mix {
    /// The mix of `weights` (names with weight 0 are kept, never drawn, and still known).
    pub(crate) fn new(weights: &BTreeMap<String, f64>) -> Self {
        let mut total = 0.0;
        let mut mix = Self::default();
        for (name, weight) in weights {
            total += weight.max(0.0);
            mix.names.push(name.clone());
            mix.json
                .push(serde_json::to_vec(name).unwrap_or_else(|_| b"\"\"".to_vec()));
            mix.cumulative.push(total);
        }
        mix
    }

    /// The mix a scenario's table gives, else the log's usual one.
    pub(crate) fn given_or(
        given: Option<&BTreeMap<String, f64>>,
        usual: fn() -> BTreeMap<String, f64>,
    ) -> Self {
        match given {
            Some(weights) => Self::new(weights),
            None => Self::new(&usual()),
        }
    }

    /// An index drawn by weight (0 for an empty mix).
    pub(crate) fn pick(&self, draws: &mut Draws) -> u16 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = draws.unit() * total;
        let i = self.cumulative.partition_point(|c| *c <= x);
        u16::try_from(i.min(self.names.len().saturating_sub(1))).unwrap_or(0)
    }

    /// The name at `i`.
    pub(crate) fn name(&self, i: u16) -> &str {
        self.names.get(usize::from(i)).map_or("", String::as_str)
    }

    /// The name at `i` as a JSON string.
    pub(crate) fn json(&self, i: u16) -> &[u8] {
        self.json.get(usize::from(i)).map_or(b"\"\"", Vec::as_slice)
    }

    /// How many names.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_follow_the_weights_and_skip_zero() {
        let weights: BTreeMap<String, f64> = [("a", 1.0), ("b", 0.0), ("c", 3.0)]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        let mix = Mix::new(&weights);
        let mut draws = Draws::new(3);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[usize::from(mix.pick(&mut draws))] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
        assert_eq!(mix.name(2), "c");
        assert_eq!(mix.json(2), b"\"c\"");
    }
}
