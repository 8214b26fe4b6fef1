//! `labels/<stem>.json`: an image's class, review status, who and when, and mask provenance.

use serde::{Deserialize, Serialize};

pub const LABEL_SCHEMA_VERSION: u32 = 1;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Unlabeled,
    Labeled,
    Reviewed,
    Flagged,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Unlabeled,
        Status::Labeled,
        Status::Reviewed,
        Status::Flagged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Unlabeled => "unlabeled",
            Status::Labeled => "labeled",
            Status::Reviewed => "reviewed",
            Status::Flagged => "flagged",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an image's mask came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskProvenance {
    Drawn,
    Predicted,
    PredictedEdited,
    Imported,
}

impl MaskProvenance {
    pub fn name(self) -> &'static str {
        match self {
            MaskProvenance::Drawn => "drawn",
            MaskProvenance::Predicted => "predicted",
            MaskProvenance::PredictedEdited => "predicted+edited",
            MaskProvenance::Imported => "imported",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageLabel {
    #[serde(default = "label_schema")]
    pub schema_version: u32,
    /// The class name as spelled in project.toml; `None` until someone labels the image.
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskProvenance>,
    /// The experiment (session, date) the frame belongs to; frames of one are a sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// Chronological position of the frame within its experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub annotator: String,
    /// RFC 3339 time of the last change.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// Nerves traced with the tracer, kept as paths (waypoints, nodes and widths) so they can
    /// be edited as paths later; the mask holds what they drew.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<crate::mask::trace::NervePath>,
}

fn label_schema() -> u32 {
    LABEL_SCHEMA_VERSION
}

impl Default for ImageLabel {
    fn default() -> Self {
        ImageLabel {
            schema_version: LABEL_SCHEMA_VERSION,
            class: None,
            status: Status::Unlabeled,
            mask: None,
            experiment: None,
            frame: None,
            annotator: String::new(),
            updated_at: String::new(),
            comment: String::new(),
            paths: Vec::new(),
        }
    }
}

impl ImageLabel {
    /// Stamps who changed the label and when.
    pub fn touch(&mut self, annotator: &str) {
        self.annotator = annotator.to_string();
        self.updated_at = now_rfc3339();
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The name recorded as annotator: the login of whoever runs the program.
pub fn current_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            dirs::home_dir().and_then(|h| h.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_round_trips_and_tolerates_missing_fields() {
        let mut l = ImageLabel {
            class: Some("nerve".into()),
            status: Status::Reviewed,
            mask: Some(MaskProvenance::PredictedEdited),
            experiment: Some("2021-03-09".into()),
            frame: Some(12),
            ..Default::default()
        };
        l.touch("tech01");
        let text = serde_json::to_string_pretty(&l).unwrap();
        assert!(text.contains("\"predicted_edited\""));
        assert_eq!(serde_json::from_str::<ImageLabel>(&text).unwrap(), l);
        let bare: ImageLabel = serde_json::from_str("{}").unwrap();
        assert_eq!(bare.status, Status::Unlabeled);
    }
}
