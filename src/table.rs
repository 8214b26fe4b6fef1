//! Comma-separated tables, read and written with the `csv` crate: a quoted field may hold a
//! comma or a quote, Excel's byte-order mark is dropped, blank lines are skipped. Each reader
//! checks its own columns; a bad table is an error naming the file and the line.

use std::path::{Path, PathBuf};

/// A table as read: its header and its rows, each with the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The line of the file the row starts on (the header is line 1).
    pub line: usize,
    pub fields: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not UTF-8 text (save the table as \"CSV UTF-8\")", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("{} line {line}: {message}", path.display())]
    Bad {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl Table {
    /// The column named `name`, compared as `key` makes names comparable.
    pub fn column(&self, name: &str, key: impl Fn(&str) -> String) -> Option<usize> {
        self.header.iter().position(|h| key(h) == key(name))
    }
}

/// Reads the table at `path` (empty: no header and no rows).
pub fn read(path: &Path) -> Result<Table, TableError> {
    let bytes = std::fs::read(path).map_err(|source| TableError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| TableError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    parse(&text, path)
}

/// Parses a table's text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Table, TableError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    // The line a record starts on, counted in the text: the csv crate's own count leaves out
    // the blank lines it skips, and its offset is where it began to look (before them).
    let bytes = text.as_bytes();
    let line_at = |byte: u64| {
        let mut start = (byte as usize).min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
            start += 1;
        }
        bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1
    };
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| TableError::Bad {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| line_at(p.byte())),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        if fields.iter().all(String::is_empty) {
            continue;
        }
        records.push(Row { line, fields });
    }
    let mut records = records.into_iter();
    let header = records.next().map(|r| r.fields).unwrap_or_default();
    Ok(Table {
        header,
        rows: records.collect(),
    })
}

/// A table's text: the header, then the rows (fields quoted where they need it).
pub fn to_text<S: AsRef<str>>(header: &[&str], rows: impl IntoIterator<Item = Vec<S>>) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(row.iter().map(|f| f.as_ref()));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).expect("the fields were UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_commas_a_byte_order_mark_and_blank_lines() {
        let text = "\u{feff}stem,comment\n\na,\"cut, then sutured\"\n b ,\"said \"\"no\"\"\"\n";
        let t = parse(text, Path::new("t.csv")).unwrap();
        assert_eq!(t.header, ["stem", "comment"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].fields, ["a", "cut, then sutured"]);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[1].fields, ["b", "said \"no\""]);
        let again = to_text(
            &["stem", "comment"],
            t.rows.iter().map(|r| r.fields.clone()),
        );
        let back = parse(&again, Path::new("t.csv")).unwrap();
        let fields = |t: &Table| t.rows.iter().map(|r| r.fields.clone()).collect::<Vec<_>>();
        assert_eq!(
            (back.header.clone(), fields(&back)),
            (t.header.clone(), fields(&t))
        );
    }

    #[test]
    fn a_missing_or_binary_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("b.csv");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
        let e = read(&binary).unwrap_err().to_string();
        assert!(e.contains("b.csv: not UTF-8"), "{e}");
        let missing = read(Path::new("/nonexistent/t.csv"))
            .unwrap_err()
            .to_string();
        assert!(missing.starts_with("/nonexistent/t.csv: "), "{missing}");
    }
}
