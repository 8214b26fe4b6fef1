//! Classification metrics from true and predicted class indices.

/// `matrix[truth][predicted]` counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    pub matrix: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(classes: usize) -> Self {
        Self {
            matrix: vec![vec![0; classes]; classes],
        }
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.matrix[truth][predicted] += 1;
    }

    pub fn total(&self) -> u64 {
        self.matrix.iter().flatten().sum()
    }

    /// Fraction of correct calls; 0 for no samples.
    pub fn accuracy(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let correct: u64 = (0..self.matrix.len()).map(|i| self.matrix[i][i]).sum();
        correct as f64 / total as f64
    }
}

/// Index of the largest score (the first on ties).
pub fn argmax(scores: &[f32]) -> usize {
    scores
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &s)| {
            if s > best.1 { (i, s) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_the_diagonal() {
        let mut c = Confusion::new(3);
        for (t, p) in [(0, 0), (1, 1), (2, 1), (2, 2)] {
            c.add(t, p);
        }
        assert_eq!(c.accuracy(), 0.75);
        assert_eq!(Confusion::new(3).accuracy(), 0.0);
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
    }
}
