//! report.html: the Markdown report as a page any browser opens by double-click, with its plots.
//! Converts only what `markdown.rs` writes: headings, paragraphs, lists, tables, images, bold,
//! italics, code and links.

/// The page for `markdown`, titled `title`.
pub fn from_markdown(title: &str, markdown: &str) -> String {
    let mut body = String::new();
    let lines: Vec<&str> = markdown.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line.is_empty() {
            i += 1;
        } else if let Some(h) = line.strip_prefix("## ") {
            body.push_str(&format!("<h2>{}</h2>\n", inline(h)));
            i += 1;
        } else if let Some(h) = line.strip_prefix("# ") {
            body.push_str(&format!("<h1>{}</h1>\n", inline(h)));
            i += 1;
        } else if line.starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].starts_with('|') {
                i += 1;
            }
            body.push_str(&table(&lines[start..i]));
        } else if line.starts_with("- ") {
            body.push_str("<ul>\n");
            while i < lines.len() && lines[i].starts_with("- ") {
                body.push_str(&format!("<li>{}</li>\n", inline(&lines[i][2..])));
                i += 1;
            }
            body.push_str("</ul>\n");
        } else if let Some((alt, src)) = image(line) {
            body.push_str(&format!(
                "<figure><img src=\"{}\" alt=\"{}\"></figure>\n",
                escape(src),
                escape(alt)
            ));
            i += 1;
        } else {
            let start = i;
            while i < lines.len()
                && !lines[i].trim().is_empty()
                && !lines[i].starts_with(['#', '|', '-', '!'])
            {
                i += 1;
            }
            let text: Vec<&str> = lines[start..i.max(start + 1)].to_vec();
            i = i.max(start + 1);
            body.push_str(&format!("<p>{}</p>\n", inline(&text.join(" "))));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\n{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n\
table{border-collapse:collapse;margin:1em 0;font-size:0.92em}\n\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n\
th:first-child,td:first-child{text-align:left}\n\
th{background:#f1f4f8}\n\
img{max-width:100%;border:1px solid #ddd}\n\
figure{margin:1em 0}\n\
code{background:#f4f4f4;padding:0 3px;font-size:0.9em}\n";

fn image(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("![")?;
    let (alt, rest) = rest.split_once("](")?;
    let src = rest.strip_suffix(')')?;
    Some((alt, src))
}

fn table(rows: &[&str]) -> String {
    let cells = |row: &str| -> Vec<String> {
        row.trim()
            .trim_start_matches('|')
            .trim_end_matches('|')
            .split(" | ")
            .map(|c| c.trim().trim_matches('|').trim().to_string())
            .collect()
    };
    let mut out = String::from("<table>\n");
    for (k, row) in rows.iter().enumerate() {
        if k == 1 && row.contains("---") {
            continue;
        }
        let tag = if k == 0 { "th" } else { "td" };
        out.push_str("<tr>");
        for c in cells(row) {
            out.push_str(&format!("<{tag}>{}</{tag}>", inline(&c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Bold, italics, code and links of one line.
fn inline(text: &str) -> String {
    let text = escape(text).replace("\\\\", "\\");
    let mut out = String::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('`')
            && let Some((code, after)) = r.split_once('`')
        {
            out.push_str(&format!("<code>{code}</code>"));
            rest = after;
        } else if let Some(r) = rest.strip_prefix("**")
            && let Some((bold, after)) = r.split_once("**")
        {
            out.push_str(&format!("<strong>{}</strong>", bold));
            rest = after;
        } else if let Some(r) = rest.strip_prefix('*')
            && let Some((em, after)) = r.split_once('*')
            && !em.is_empty()
        {
            out.push_str(&format!("<em>{}</em>", em));
            rest = after;
        } else if let Some(r) = rest.strip_prefix('[')
            && let Some((label, after)) = r.split_once("](")
            && let Some((href, after)) = after.split_once(')')
        {
            out.push_str(&format!("<a href=\"{href}\">{label}</a>"));
            rest = after;
        } else {
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_what_the_markdown_report_writes() {
        let md = "# Title\n\nSome **bold** and *it* with `code` [SVG](a.svg).\n\n| a | b |\n|---|---|\n| **x** | 1 < 2 |\n\n- `f.png`: gone\n\n![Plot](p.png)\n";
        let html = from_markdown("T", md);
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<strong>bold</strong> and <em>it</em> with <code>code</code> <a href=\"a.svg\">SVG</a>."));
        assert!(html.contains("<tr><th>a</th><th>b</th></tr>"));
        assert!(html.contains("<td><strong>x</strong></td><td>1 &lt; 2</td>"));
        assert!(html.contains("<li><code>f.png</code>: gone</li>"));
        assert!(html.contains("<img src=\"p.png\" alt=\"Plot\">"));
        assert!(!html.contains("---"));
    }
}
