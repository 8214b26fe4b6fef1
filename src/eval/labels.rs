//! Reading a table of class predictions: `stem,truth,pred[,p_<class>...]`, as `predict` writes
//! it (`scores.csv`) and as the lab's older models can be made to write it.

use std::path::Path;

use super::error::{Error, Result};
use super::masks::Problem;
use crate::table;

/// The lab's classes, the order used when a table has no probability columns.
pub const LAB_CLASSES: [&str; 3] = ["nerve", "opening wound", "tendon"];

/// One scored row.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelRow {
    pub stem: String,
    pub truth: usize,
    pub predicted: usize,
    pub scores: Option<Vec<f64>>,
}

/// The rows of a predictions table with truth, and the classes they use.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelTable {
    pub classes: Vec<String>,
    pub rows: Vec<LabelRow>,
    pub problems: Vec<Problem>,
}

impl LabelTable {
    pub fn scores(&self) -> Option<Vec<Vec<f64>>> {
        self.rows.iter().map(|r| r.scores.clone()).collect()
    }

    /// Passes every row's scores through a softmax. The lab's notebook applied
    /// `tf.nn.softmax` to outputs that already were probabilities before its ROC curves
    /// (seed-models.md §6.3); this reproduces its AUCs.
    pub fn softmax_scores(&mut self) {
        for row in &mut self.rows {
            if let Some(s) = &mut row.scores {
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = s.iter().map(|v| (v - max).exp()).sum();
                s.iter_mut().for_each(|v| *v = (*v - max).exp() / sum);
            }
        }
    }
}

fn key(name: &str) -> String {
    name.trim()
        .trim_matches('"')
        .to_lowercase()
        .replace(['_', '-'], " ")
}

/// What the `p_<class>` columns hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scores {
    /// Probabilities, 0 to 1 (what `predict` writes).
    Probabilities,
    /// Any finite numbers (logits, for `--softmax`).
    Logits,
}

/// The (stem, predicted class) pairs of a predictions table, with or without truth.
pub fn read_predictions(path: &Path) -> Result<Vec<(String, String)>> {
    let t = table::read(path)?;
    let (Some(stem), Some(pred)) = (t.column("stem", key), t.column("pred", key)) else {
        return Err(Error::invalid(
            path,
            "the header needs stem and pred columns",
        ));
    };
    Ok(t.rows
        .iter()
        .filter_map(|r| Some((r.fields.get(stem)?.clone(), r.fields.get(pred)?.clone())))
        .collect())
}

/// Where a predictions table keeps what it says.
struct Columns {
    stem: usize,
    truth: usize,
    pred: usize,
    /// The `p_<class>` columns and their classes.
    scores: Vec<(usize, String)>,
    width: usize,
}

/// Reads and checks the table; any bad row is an error naming the file, line and column.
pub fn read_csv(path: &Path, kind: Scores) -> Result<LabelTable> {
    let t = table::read(path)?;
    let cols = columns(&t, path)?;
    let mut reader = Reader {
        path,
        kind,
        fixed: !cols.scores.is_empty(),
        classes: if cols.scores.is_empty() {
            LAB_CLASSES.iter().map(|c| c.to_string()).collect()
        } else {
            cols.scores.iter().map(|(_, c)| c.clone()).collect()
        },
        cols,
    };
    let mut problems = vec![];
    let mut seen = std::collections::HashSet::new();
    let (mut rows, mut no_truth) = (vec![], vec![]);
    for row in &t.rows {
        let Some(parsed) = reader.row(row)? else {
            no_truth.push(row.fields[reader.cols.stem].clone());
            continue;
        };
        if !seen.insert(parsed.stem.clone()) {
            problems.push(Problem {
                file: path.to_path_buf(),
                problem: format!(
                    "line {}: {} appears again; only its first row is used",
                    row.line, parsed.stem
                ),
            });
            continue;
        }
        rows.push(parsed);
    }
    if !no_truth.is_empty() {
        let shown: Vec<&str> = no_truth.iter().take(5).map(String::as_str).collect();
        problems.push(Problem {
            file: path.to_path_buf(),
            problem: format!(
                "{} rows have no truth and are left out ({}{})",
                no_truth.len(),
                shown.join(", "),
                if no_truth.len() > 5 { ", ..." } else { "" }
            ),
        });
    }
    if rows.is_empty() {
        return Err(Error::invalid(path, "no row has a truth label to score"));
    }
    Ok(LabelTable {
        classes: reader.classes,
        rows,
        problems,
    })
}

/// The columns of the header: stem, truth, pred (or predicted, prediction), p_<class>.
fn columns(t: &table::Table, path: &Path) -> Result<Columns> {
    if t.header.is_empty() {
        return Err(Error::invalid(
            path,
            "empty file (expected a header stem,truth,pred[,p_<class>...])",
        ));
    }
    let at = |what: String| Error::line(path, 1, what);
    let header: Vec<String> = t.header.iter().map(|h| key(h)).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(stem), Some(truth)) = (col("stem"), col("truth")) else {
        return Err(at(format!(
            "the header needs the columns stem, truth and pred; it has {}",
            header.join(", ")
        )));
    };
    let Some(pred) = col("pred")
        .or_else(|| col("predicted"))
        .or_else(|| col("prediction"))
    else {
        return Err(at("the header has no pred column".into()));
    };
    let scores = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_prefix("p ").map(|c| (i, c.to_string())))
        .collect();
    Ok(Columns {
        stem,
        truth,
        pred,
        scores,
        width: header.len(),
    })
}

/// Reads rows against the header: the classes grow as rows name new ones, unless the header's
/// probability columns fixed them.
struct Reader<'a> {
    path: &'a Path,
    kind: Scores,
    cols: Columns,
    classes: Vec<String>,
    fixed: bool,
}

impl Reader<'_> {
    fn at(&self, line: usize, what: String) -> Error {
        Error::line(self.path, line, what)
    }

    /// One row, or `None` when it has no truth.
    fn row(&mut self, row: &table::Row) -> Result<Option<LabelRow>> {
        let (n, fields) = (row.line, &row.fields);
        if fields.len() != self.cols.width {
            return Err(self.at(
                n,
                format!(
                    "{} fields, the header has {}",
                    fields.len(),
                    self.cols.width
                ),
            ));
        }
        let stem = fields[self.cols.stem].clone();
        if stem.is_empty() {
            return Err(self.at(n, "empty stem".into()));
        }
        if fields[self.cols.truth].is_empty() {
            return Ok(None);
        }
        if fields[self.cols.pred].is_empty() {
            return Err(self.at(n, format!("{stem} has an empty pred cell")));
        }
        let truth = self.class_of(n, "truth", &fields[self.cols.truth])?;
        let predicted = self.class_of(n, "pred", &fields[self.cols.pred])?;
        let scores = if self.cols.scores.is_empty() {
            None
        } else {
            Some(self.scores(n, fields)?)
        };
        Ok(Some(LabelRow {
            stem,
            truth,
            predicted,
            scores,
        }))
    }

    /// The class a cell names (by name or index); a new name adds a class unless they are fixed.
    fn class_of(&mut self, n: usize, column: &str, value: &str) -> Result<usize> {
        let k = key(value);
        if let Some(c) = self.classes.iter().position(|c| *c == k) {
            return Ok(c);
        }
        if let Ok(index) = k.parse::<usize>()
            && index < self.classes.len()
        {
            return Ok(index);
        }
        if self.fixed {
            return Err(self.at(
                n,
                format!(
                    "unknown class '{value}' in column {column} (classes: {})",
                    self.classes.join(", ")
                ),
            ));
        }
        self.classes.push(k);
        Ok(self.classes.len() - 1)
    }

    /// The row's probability (or logit) columns, checked.
    fn scores(&self, n: usize, fields: &[String]) -> Result<Vec<f64>> {
        let mut s = vec![];
        for (c, name) in &self.cols.scores {
            let column = format!("p_{}", name.replace(' ', "_"));
            let cell = &fields[*c];
            let v: f64 = cell
                .parse()
                .map_err(|_| self.at(n, format!("'{cell}' in column {column} is not a number")))?;
            if !v.is_finite() {
                return Err(self.at(n, format!("'{cell}' in column {column} is not finite")));
            }
            if self.kind == Scores::Probabilities && !(-1e-6..=1.0 + 1e-6).contains(&v) {
                return Err(self.at(
                    n,
                    format!(
                        "'{cell}' in column {column} is not a probability (0 to 1); if the \
                         columns hold logits, pass --softmax"
                    ),
                ));
            }
            s.push(v);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<LabelTable> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.csv");
        std::fs::write(&path, text).unwrap();
        read_csv(&path, Scores::Probabilities)
    }

    #[test]
    fn reads_the_predict_format_and_names_bad_lines() {
        let t = table("stem,truth,pred,p_nerve,p_opening_wound,p_tendon\na,nerve,nerve,0.9,0.05,0.05\nb,opening wound,tendon,0.1,0.3,0.6\nc,,nerve,0.8,0.1,0.1\n").unwrap();
        assert_eq!(t.classes, ["nerve", "opening wound", "tendon"]);
        assert_eq!((t.rows[1].truth, t.rows[1].predicted), (1, 2));
        assert_eq!(t.problems.len(), 1, "the row without truth is reported");
        let e = table("stem,truth,pred,p_nerve,p_tendon\na,nerve,wound,0.5,0.5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("scores.csv line 2") && e.contains("unknown class 'wound'"),
            "{e}"
        );
        let e = table("stem,truth,pred,p_nerve,p_tendon\na,nerve,tendon,x,0.5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("p_nerve"), "{e}");
        let e = table("stem,label\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        // Without probabilities: the lab's classes, then new ones as they appear.
        let t = table("stem,truth,pred\na,Nerve,TENDON\nb,fat,nerve\n").unwrap();
        assert_eq!(t.classes, ["nerve", "opening wound", "tendon", "fat"]);
        assert!(t.scores().is_none());
    }
}
