//! An image that arrives with a segmentation annotation (a VOC/DeepLab class PNG, Supervisely
//! objects, a machine mask) has been annotated by someone: it is imported as labeled, ready to
//! train, instead of waiting to be relabeled by hand one image at a time.
//!
//! The rule (for sources that do not state a status themselves): its status becomes labeled; its
//! class is the one the source names (VOC `ImageSets/Main`, Supervisely tags), else the
//! project's mask class when the mask has any pixel. An image with an empty mask and no class stays without a class: a
//! labeled negative, which teaches the segmenter "no nerve here".

use super::ImportItem;
use crate::project::label::Status;
use crate::project::manifest::Manifest;

/// How many imported images the rule labeled, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Annotated {
    /// A non-empty mask and no class named: given the mask class.
    pub mask_class: usize,
    /// An empty mask and no class named: labeled negatives.
    pub negatives: usize,
    /// The source named the class; only the status was set.
    pub named: usize,
}

/// Labels the items that came with a mask (see the module's rule); says so in `notes`.
pub fn label_from_masks(
    items: &mut [ImportItem],
    manifest: &Manifest,
    notes: &mut Vec<String>,
) -> Annotated {
    let mask_class = manifest
        .match_class(&manifest.mask_class)
        .unwrap_or(&manifest.mask_class)
        .to_string();
    let mut done = Annotated::default();
    for item in items.iter_mut() {
        // A source that states the status (this program's own Supervisely export) said
        // everything: the item is kept as it came.
        let Some(mask) = item.mask.as_ref().filter(|_| !item.status_given) else {
            continue;
        };
        match (&item.label.class, mask.is_empty()) {
            (Some(_), _) => done.named += 1,
            (None, false) => {
                item.label.class = Some(mask_class.clone());
                done.mask_class += 1;
            }
            (None, true) => done.negatives += 1,
        }
        if item.label.status == Status::Unlabeled {
            item.label.status = Status::Labeled;
        }
    }
    if done.mask_class > 0 {
        notes.push(format!(
            "{} images came with a nerve mask and no class: imported as {mask_class}, labeled",
            done.mask_class
        ));
    }
    if done.negatives > 0 {
        notes.push(format!(
            "{} images came with an empty mask and no class: imported as labeled negatives \
             (no class; the segmenter learns \"no nerve here\" from them)",
            done.negatives
        ));
    }
    if done.named > 0 {
        notes.push(format!(
            "{} images came with a mask and a class named by the source: imported labeled, \
             with that class",
            done.named
        ));
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Mask;
    use crate::project::label::ImageLabel;

    fn item(stem: &str, class: Option<&str>, pixels: usize) -> ImportItem {
        let mut mask = Mask::empty(4, 4);
        for i in 0..pixels {
            mask.set(i as u32, 0, true);
        }
        ImportItem {
            stem: stem.into(),
            source: format!("/src/{stem}.jpg").into(),
            extension: "jpg".into(),
            label: ImageLabel {
                class: class.map(str::to_string),
                ..Default::default()
            },
            mask: Some(mask),
            split: None,
            status_given: false,
        }
    }

    #[test]
    fn masked_images_are_labeled_by_the_rule_and_the_notes_say_how_many() {
        let manifest = Manifest::new("p");
        let mut plain = item("d", None, 0);
        plain.mask = None;
        let mut items = vec![
            item("a", None, 3),
            item("b", None, 0),
            item("c", Some("tendon"), 2),
            plain,
        ];
        let mut notes = Vec::new();
        let done = label_from_masks(&mut items, &manifest, &mut notes);
        assert_eq!(
            done,
            Annotated {
                mask_class: 1,
                negatives: 1,
                named: 1
            }
        );
        assert_eq!(items[0].label.class.as_deref(), Some("nerve"));
        assert_eq!(items[1].label.class, None);
        assert_eq!(items[2].label.class.as_deref(), Some("tendon"));
        for i in &items[..3] {
            assert_eq!(i.label.status, Status::Labeled, "{}", i.stem);
        }
        assert_eq!(
            items[3].label.status,
            Status::Unlabeled,
            "no annotation came"
        );
        assert_eq!(notes.len(), 3);
        assert!(notes[0].starts_with("1 images came with a nerve mask"));

        // A source that states the status (a Supervisely tag) is taken as it is.
        let mut stated = vec![item("e", None, 2)];
        stated[0].status_given = true;
        label_from_masks(&mut stated, &manifest, &mut Vec::new());
        assert_eq!(stated[0].label.status, Status::Unlabeled);
        assert_eq!(stated[0].label.class, None);
    }
}
