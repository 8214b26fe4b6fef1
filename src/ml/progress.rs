//! Progress events of training, consumed alike by the CLI's progress bar and the window.

use serde::Serialize;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All epochs ran.
    Finished,
    /// Validation loss stopped improving.
    EarlyStopped,
    /// The user cancelled; the last checkpoint is kept and can be resumed.
    Cancelled,
}

impl StopReason {
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Finished => "finished",
            StopReason::EarlyStopped => "early_stopped",
            StopReason::Cancelled => "cancelled",
        }
    }
}

/// The prediction on one fixed validation image at the end of an epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochSample {
    pub stem: String,
    /// The truth class index and the predicted one (classifiers: argmax; segmenters: the truth).
    pub truth_class: usize,
    pub predicted_class: usize,
    /// Class probabilities (classifiers), or empty.
    pub probabilities: Vec<f32>,
    /// Side of the square maps below (the network's input size).
    pub size: u32,
    /// The network's input: RGB, row-major (not in `--json` output).
    #[serde(skip)]
    pub image: Vec<u8>,
    /// Segmenters: nerve probability × 255 and the truth mask (0/255), row-major; else empty.
    pub probability_map: Vec<u8>,
    pub truth_mask: Vec<u8>,
}

/// One finished epoch, as written to history.csv.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// 1-based, counted over both stages.
    pub epoch: usize,
    /// 1 (frozen backbone / all) or 2 (fine-tuning).
    pub stage: u8,
    pub learning_rate: f64,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Accuracy (classifiers) or mean IoU at 0.5 (segmenters) on the training batches.
    pub train_metric: f64,
    pub val_metric: f64,
    pub seconds: f64,
}

impl EpochRecord {
    /// The columns of `history.csv`.
    pub const COLUMNS: [&'static str; 8] = [
        "epoch",
        "stage",
        "learning_rate",
        "train_loss",
        "val_loss",
        "train_metric",
        "val_metric",
        "seconds",
    ];

    /// The record's `history.csv` row.
    pub fn fields(&self) -> Vec<String> {
        vec![
            self.epoch.to_string(),
            self.stage.to_string(),
            self.learning_rate.to_string(),
            format!("{:.6}", self.train_loss),
            format!("{:.6}", self.val_loss),
            format!("{:.6}", self.train_metric),
            format!("{:.6}", self.val_metric),
            format!("{:.3}", self.seconds),
        ]
    }

    /// A `history.csv` row back, if it is one.
    pub fn from_fields(f: &[String]) -> Option<EpochRecord> {
        if f.len() != Self::COLUMNS.len() {
            return None;
        }
        Some(EpochRecord {
            epoch: f[0].parse().ok()?,
            stage: f[1].parse().ok()?,
            learning_rate: f[2].parse().ok()?,
            train_loss: f[3].parse().ok()?,
            val_loss: f[4].parse().ok()?,
            train_metric: f[5].parse().ok()?,
            val_metric: f[6].parse().ok()?,
            seconds: f[7].parse().ok()?,
        })
    }
}

/// Where a training stands after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BatchProgress {
    pub epoch: usize,
    pub epochs: usize,
    pub stage: u8,
    pub batch: usize,
    pub batches: usize,
    pub loss: f64,
    pub images_per_s: f64,
    /// Seconds left for the whole run at the current speed.
    pub eta_s: f64,
}

impl BatchProgress {
    /// The fraction of the run done.
    pub fn fraction(&self) -> f32 {
        ((self.epoch - 1) as f32 + self.batch as f32 / self.batches.max(1) as f32)
            / self.epochs.max(1) as f32
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    /// Preparing the inputs (decode, crop, resize; cached for next time).
    Loading {
        done: usize,
        total: usize,
    },
    Started {
        run: String,
        device: String,
        architecture: String,
        train_images: usize,
        val_images: usize,
        epochs: usize,
        /// What the weights started from ("ImageNet weights from FILE: N tensors" or "random").
        weights: String,
        /// First epoch this invocation runs (greater than 1 when resuming).
        first_epoch: usize,
    },
    /// A stage begins: how many weights train in it, of how many (a frozen backbone's do not).
    Stage {
        stage: u8,
        training: usize,
        total: usize,
    },
    Batch(BatchProgress),
    Validating {
        epoch: usize,
    },
    Epoch {
        record: EpochRecord,
        metric: &'static str,
        best: bool,
    },
    /// After every epoch: the predictions on the same few validation images, so a window can
    /// show the model improving beside the truth.
    Samples {
        epoch: usize,
        samples: Vec<EpochSample>,
    },
    Finished {
        run: String,
        reason: StopReason,
        best_epoch: usize,
        val_metric: f64,
    },
}

/// 2226434 as "2,226,434".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "Stage 1: part of the network is frozen; 4,003 of 2,226,434 weights train".
pub fn stage_text(stage: u8, training: usize, total: usize) -> String {
    let count = thousands;
    if training >= total {
        format!(
            "Stage {stage}: every layer trains ({} weights)",
            count(total)
        )
    } else {
        format!(
            "Stage {stage}: part of the network is frozen; {} of {} weights train",
            count(training),
            count(total)
        )
    }
}

/// A time left, as people say it: "45 s", "3 min 05 s", "2 h 10 min".
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}
