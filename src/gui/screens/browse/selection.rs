//! Choosing many images in the grid as in a file manager: a click chooses one, Shift+click the
//! range from the last click, Ctrl+click adds or removes one, Ctrl+A everything shown.

use std::collections::BTreeSet;

use iced::keyboard::Modifiers;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Selection {
    /// The chosen images (one after a plain click).
    chosen: BTreeSet<String>,
    /// Where a Shift+click range starts: the last plain or Ctrl click.
    anchor: Option<String>,
}

/// What a click did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clicked {
    /// A plain click: this image alone.
    One,
    /// A range or a toggle: several images may be chosen now.
    Many,
}

impl Selection {
    /// A click on `stem` with `modifiers` held; `shown` is the grid's order.
    pub fn click(&mut self, stem: &str, modifiers: Modifiers, shown: &[&str]) -> Clicked {
        if modifiers.shift()
            && let Some(anchor) = &self.anchor
            && let (Some(a), Some(b)) = (
                shown.iter().position(|s| s == anchor),
                shown.iter().position(|s| *s == stem),
            )
        {
            let (from, to) = (a.min(b), a.max(b));
            self.chosen = shown[from..=to].iter().map(|s| s.to_string()).collect();
            return Clicked::Many;
        }
        if modifiers.command() {
            if !self.chosen.remove(stem) {
                self.chosen.insert(stem.to_string());
            }
            self.anchor = Some(stem.to_string());
            return Clicked::Many;
        }
        self.chosen = BTreeSet::from([stem.to_string()]);
        self.anchor = Some(stem.to_string());
        Clicked::One
    }

    pub fn all(&mut self, shown: &[&str]) {
        self.chosen = shown.iter().map(|s| s.to_string()).collect();
    }

    pub fn clear(&mut self) {
        self.chosen.clear();
    }

    /// Keeps only the images still shown (after a filter or a change of labels).
    pub fn keep_shown(&mut self, shown: &[&str]) {
        let shown: BTreeSet<&str> = shown.iter().copied().collect();
        self.chosen.retain(|s| shown.contains(s.as_str()));
    }

    pub fn contains(&self, stem: &str) -> bool {
        self.chosen.contains(stem)
    }

    pub fn len(&self) -> usize {
        self.chosen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// The chosen stems in `shown` order.
    pub fn stems(&self, shown: &[&str]) -> Vec<String> {
        shown
            .iter()
            .filter(|s| self.chosen.contains(**s))
            .map(|s| s.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_shift_click_ctrl_click_and_all() {
        let shown = ["a", "b", "c", "d", "e"];
        let mut s = Selection::default();
        assert_eq!(s.click("b", Modifiers::empty(), &shown), Clicked::One);
        assert_eq!(s.click("d", Modifiers::SHIFT, &shown), Clicked::Many);
        assert_eq!(s.stems(&shown), ["b", "c", "d"]);
        // A range backwards from the same anchor replaces the last one.
        s.click("a", Modifiers::SHIFT, &shown);
        assert_eq!(s.stems(&shown), ["a", "b"]);
        s.click("e", Modifiers::CTRL, &shown);
        s.click("a", Modifiers::CTRL, &shown);
        assert_eq!(s.stems(&shown), ["b", "e"]);
        s.all(&shown);
        assert_eq!(s.len(), 5);
        s.keep_shown(&["a", "c"]);
        assert_eq!(s.stems(&shown), ["a", "c"]);
        s.click("c", Modifiers::empty(), &shown);
        assert_eq!(s.stems(&shown), ["c"]);
        s.clear();
        assert!(s.is_empty());
    }
}
