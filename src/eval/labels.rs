//! Reading a table of class predictions: `stem,truth,pred[,p_<class>...]`, as `predict` writes
//! it (`scores.csv`) and as the lab's older models can be made to write it.

use std::path::Path;

use super::masks::Problem;

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

/// A table's text, without the byte-order mark Excel puts at the start of a UTF-8 CSV.
fn read_table(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{}: not UTF-8 text (save the table as \"CSV UTF-8\")",
            path.display()
        )
    })?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
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
pub fn read_predictions(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = read_table(path)?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(key)
        .collect();
    let (Some(stem), Some(pred)) = (
        header.iter().position(|h| h == "stem"),
        header.iter().position(|h| h == "pred"),
    ) else {
        return Err(format!(
            "{}: the header needs stem and pred columns",
            path.display()
        ));
    };
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((f.get(stem)?.to_string(), f.get(pred)?.to_string()))
        })
        .collect())
}

/// Reads and checks the table; any bad row is an error naming the file, line and column.
pub fn read_csv(path: &Path, kind: Scores) -> Result<LabelTable, String> {
    let text = read_table(path)?;
    let at = |line: usize, what: String| format!("{} line {line}: {what}", path.display());
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(format!(
            "{}: empty file (expected a header stem,truth,pred[,p_<class>...])",
            path.display()
        ));
    };
    let header: Vec<String> = header.split(',').map(key).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(stem_col), Some(truth_col)) = (col("stem"), col("truth")) else {
        return Err(at(
            1,
            format!(
                "the header needs the columns stem, truth and pred; it has {}",
                header.join(", ")
            ),
        ));
    };
    let Some(pred_col) = col("pred")
        .or_else(|| col("predicted"))
        .or_else(|| col("prediction"))
    else {
        return Err(at(1, "the header has no pred column".into()));
    };
    let prob_cols: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_prefix("p ").map(|c| (i, c.to_string())))
        .collect();
    let mut classes: Vec<String> = if prob_cols.is_empty() {
        LAB_CLASSES.iter().map(|c| c.to_string()).collect()
    } else {
        prob_cols.iter().map(|(_, c)| c.clone()).collect()
    };
    let fixed_classes = !prob_cols.is_empty();
    let mut problems = vec![];
    let mut seen = std::collections::HashSet::new();
    let (mut rows, mut no_truth) = (vec![], vec![]);
    for (i, line) in lines {
        let n = i + 1;
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        if fields.len() != header.len() {
            return Err(at(
                n,
                format!("{} fields, the header has {}", fields.len(), header.len()),
            ));
        }
        let stem = fields[stem_col].to_string();
        if stem.is_empty() {
            return Err(at(n, "empty stem".into()));
        }
        if fields[truth_col].is_empty() {
            no_truth.push(stem);
            continue;
        }
        if !seen.insert(stem.clone()) {
            problems.push(Problem {
                file: path.to_path_buf(),
                problem: format!("line {n}: {stem} appears again; only its first row is used"),
            });
            continue;
        }
        let mut class_of = |column: &str, value: &str| -> Result<usize, String> {
            let k = key(value);
            if let Some(c) = classes.iter().position(|c| *c == k) {
                return Ok(c);
            }
            if let Ok(index) = k.parse::<usize>()
                && index < classes.len()
            {
                return Ok(index);
            }
            if fixed_classes {
                return Err(at(
                    n,
                    format!(
                        "unknown class '{value}' in column {column} (classes: {})",
                        classes.join(", ")
                    ),
                ));
            }
            classes.push(k);
            Ok(classes.len() - 1)
        };
        if fields[pred_col].is_empty() {
            return Err(at(n, format!("{stem} has an empty pred cell")));
        }
        let truth = class_of("truth", fields[truth_col])?;
        let predicted = class_of("pred", fields[pred_col])?;
        let scores = if prob_cols.is_empty() {
            None
        } else {
            let mut s = vec![];
            for (c, name) in &prob_cols {
                let v: f64 = fields[*c].parse().map_err(|_| {
                    at(
                        n,
                        format!(
                            "'{}' in column p_{} is not a number",
                            fields[*c],
                            name.replace(' ', "_")
                        ),
                    )
                })?;
                if !v.is_finite() {
                    return Err(at(
                        n,
                        format!(
                            "'{}' in column p_{} is not finite",
                            fields[*c],
                            name.replace(' ', "_")
                        ),
                    ));
                }
                if kind == Scores::Probabilities && !(-1e-6..=1.0 + 1e-6).contains(&v) {
                    return Err(at(
                        n,
                        format!(
                            "'{}' in column p_{} is not a probability (0 to 1); if the \
                             columns hold logits, pass --softmax",
                            fields[*c],
                            name.replace(' ', "_")
                        ),
                    ));
                }
                s.push(v);
            }
            Some(s)
        };
        rows.push(LabelRow {
            stem,
            truth,
            predicted,
            scores,
        });
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
        return Err(format!(
            "{}: no row has a truth label to score",
            path.display()
        ));
    }
    Ok(LabelTable {
        classes,
        rows,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<LabelTable, String> {
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
        let e = table("stem,truth,pred,p_nerve,p_tendon\na,nerve,wound,0.5,0.5\n").unwrap_err();
        assert!(
            e.contains("scores.csv line 2") && e.contains("unknown class 'wound'"),
            "{e}"
        );
        let e = table("stem,truth,pred,p_nerve,p_tendon\na,nerve,tendon,x,0.5\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("p_nerve"), "{e}");
        let e = table("stem,label\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        // Without probabilities: the lab's classes, then new ones as they appear.
        let t = table("stem,truth,pred\na,Nerve,TENDON\nb,fat,nerve\n").unwrap();
        assert_eq!(t.classes, ["nerve", "opening wound", "tendon", "fat"]);
        assert!(t.scores().is_none());
    }
}
