//! Train / val / test splits: deterministic for a seed, stable as images are added, optionally
//! keeping an experiment's frames together, and stored as plain stem lists (`splits/*.txt`).

use super::manifest::SplitSettings;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    pub fn from_name(name: &str) -> Option<Split> {
        Split::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One image to place: its stem and the group it must stay with (its experiment, or itself).
pub struct SplitItem<'a> {
    pub stem: &'a str,
    pub experiment: Option<&'a str>,
}

/// Gives every unassigned image a split, keeping the ones already assigned.
///
/// Groups (experiments when `group_by_experiment`, else single images) are visited in an order
/// fixed by a hash of the seed and the group's name, so the result does not depend on the order
/// images were imported in; each goes to the split furthest below its target share. A group
/// that already has a split keeps it for its new frames.
pub fn assign(
    items: &[SplitItem<'_>],
    existing: &HashMap<String, Split>,
    settings: &SplitSettings,
) -> BTreeMap<String, Split> {
    let group_of = |item: &SplitItem<'_>| -> String {
        match (settings.group_by_experiment, item.experiment) {
            (true, Some(e)) => format!("experiment:{e}"),
            _ => format!("image:{}", item.stem),
        }
    };
    let mut result: BTreeMap<String, Split> = BTreeMap::new();
    let mut counts = [0usize; 3];
    let mut group_split: HashMap<String, Split> = HashMap::new();
    let mut pending: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for item in items {
        let group = group_of(item);
        if let Some(&s) = existing.get(item.stem) {
            result.insert(item.stem.to_string(), s);
            counts[s as usize] += 1;
            group_split.entry(group).or_insert(s);
        } else {
            pending.entry(group).or_default().push(item.stem);
        }
    }
    let total: f64 = settings.ratios.iter().sum();
    let targets: Vec<f64> = settings.ratios.iter().map(|r| r / total).collect();
    let mut order: Vec<(u64, String)> = pending
        .keys()
        .map(|g| (hash64(settings.seed, g), g.clone()))
        .collect();
    order.sort();
    let mut placed: usize = counts.iter().sum();
    for (_, group) in order {
        let stems = &pending[&group];
        let split = group_split.get(&group).copied().unwrap_or_else(|| {
            let after = (placed + stems.len()) as f64;
            let deficit = |s: usize| targets[s] * after - counts[s] as f64;
            let best = (0..3)
                .filter(|&s| targets[s] > 0.0)
                .max_by(|&a, &b| deficit(a).total_cmp(&deficit(b)).then(b.cmp(&a)))
                .unwrap_or(0);
            Split::ALL[best]
        });
        for stem in stems {
            result.insert(stem.to_string(), split);
        }
        counts[split as usize] += stems.len();
        placed += stems.len();
    }
    result
}

/// FNV-1a over the seed and the text, then a SplitMix64 finaliser: stable across platforms and
/// releases (std's hasher is not).
pub fn hash64(seed: u64, text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The text of a `splits/<name>.txt` file: one stem per line.
pub fn stem_list(stems: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let mut out = String::new();
    for s in stems {
        out.push_str(s.as_ref());
        out.push('\n');
    }
    out
}

/// Reads a stem list, ignoring blank lines and `#` comments (where they name no image: see
/// [`resolve_stem`]).
pub fn parse_stem_list(text: &str) -> Vec<String> {
    stem_lines(text)
        .filter_map(|l| resolve_stem(l, |_| false))
        .map(str::to_string)
        .collect()
}

/// The lines of a stem list as written (a stem may begin with a space or `#`), blank ones left
/// out.
pub fn stem_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
}

/// The stem a list's line names: the line itself where an image has that stem (`known`), else
/// the line without the spaces a hand edit may have left; None for a `#` comment.
pub fn resolve_stem(line: &str, known: impl Fn(&str) -> bool) -> Option<&str> {
    if known(line) {
        return Some(line);
    }
    let trimmed = line.trim();
    if known(trimmed) {
        return Some(trimmed);
    }
    (!trimmed.starts_with('#')).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_with_leading_spaces_or_hashes_survive_a_list() {
        let stems = [" x", "#12", "plain", "with space"];
        let text = stem_list(stems) + "# a comment\n\n  plain  \r\n";
        let known = |s: &str| stems.contains(&s);
        let read: Vec<&str> = stem_lines(&text)
            .filter_map(|l| resolve_stem(l, known))
            .collect();
        assert_eq!(read, [" x", "#12", "plain", "with space", "plain"]);
        assert_eq!(parse_stem_list("a\n# note\n b \n"), ["a", "b"]);
    }

    fn stems(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("img{i:04}")).collect()
    }

    fn items(names: &[String]) -> Vec<SplitItem<'_>> {
        names
            .iter()
            .map(|s| SplitItem {
                stem: s,
                experiment: Some(&s[..5]),
            })
            .collect()
    }

    #[test]
    fn ratios_are_met_and_result_is_deterministic() {
        let names = stems(200);
        let s = SplitSettings::default();
        let a = assign(&items(&names), &HashMap::new(), &s);
        let b = assign(&items(&names), &HashMap::new(), &s);
        assert_eq!(a, b);
        let count = |sp: Split| a.values().filter(|&&v| v == sp).count();
        assert_eq!(
            (count(Split::Train), count(Split::Val), count(Split::Test)),
            (140, 30, 30)
        );
        let other = SplitSettings { seed: 7, ..s };
        assert_ne!(a, assign(&items(&names), &HashMap::new(), &other));
    }

    #[test]
    fn images_keep_their_split_when_more_are_added() {
        let s = SplitSettings::default();
        let first = stems(100);
        let before = assign(&items(&first), &HashMap::new(), &s);
        let existing: HashMap<String, Split> = before.clone().into_iter().collect();
        let more = stems(160);
        let after = assign(&items(&more), &existing, &s);
        for (stem, split) in &before {
            assert_eq!(after[stem], *split);
        }
        let count = |sp: Split| after.values().filter(|&&v| v == sp).count();
        assert_eq!(count(Split::Train), 112);
    }

    #[test]
    fn experiments_stay_on_one_side() {
        let names: Vec<String> = (0..60).map(|i| format!("e{:02}_{i:03}", i / 6)).collect();
        let its: Vec<SplitItem<'_>> = names
            .iter()
            .map(|s| SplitItem {
                stem: s,
                experiment: Some(&s[..3]),
            })
            .collect();
        let s = SplitSettings {
            group_by_experiment: true,
            ..Default::default()
        };
        let a = assign(&its, &HashMap::new(), &s);
        for e in 0..10 {
            let sides: std::collections::HashSet<_> = a
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("e{e:02}_")))
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(sides.len(), 1, "experiment {e} split across sides");
        }
        assert!(Split::ALL.iter().all(|sp| a.values().any(|v| v == sp)));
    }

    #[test]
    fn stem_lists_round_trip() {
        let text = stem_list(["a", "b c"]);
        assert_eq!(
            parse_stem_list(&format!("# comment\n{text}\n")),
            ["a", "b c"]
        );
    }
}
