//! Mutation fuzzing of every reader of outside data (issue 16, point 3): the Supervisely
//! annotation and its bitmap, VOC class masks, label JSON, `project.toml`, split lists and the
//! labels CSV. cargo-fuzz needs a nightly compiler and proptest a download, neither of which
//! this project's machines have, so the mutator is our own: seeds from real files, mutated by
//! byte flips, interesting values (huge numbers, NaN, `../`, quotes), cuts and repeats; every
//! input must end in a value or an error, never a panic. The inputs that once broke a reader
//! stay in `tests/fixtures/fuzz/<target>/` and are replayed on every run.
//!
//! CI runs 150 mutations per target; `NERVE_FUZZ_ITERATIONS=20000 cargo test fuzz` runs long
//! (`NERVE_FUZZ_SAVE=1` writes any input that panics into the corpus folder).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use base64::Engine;
use nerve_studio::eval::labels::{Scores, read_csv};
use nerve_studio::project::demo::random::Rng;
use nerve_studio::project::exchange::{ExportFormat, ImportFormat, import};
use nerve_studio::project::{Project, read_manifest};

use crate::support::{quiet, small_demo};

fn iterations() -> usize {
    std::env::var("NERVE_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

const TOKENS: [&str; 14] = [
    "18446744073709551615",
    "-9223372036854775808",
    "4294967295",
    "-1",
    "1e308",
    "NaN",
    "../",
    "/",
    "\\u0000",
    "\"",
    "[",
    "{",
    "\u{feff}",
    "\u{7f}",
];

/// One mutation of `seed`: one to four edits.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = |rng: &mut Rng, len: usize| rng.below(len as u32 + 1) as usize;
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at(rng, out.len() - 1).min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at(rng, out.len() - 1).min(out.len() - 1);
                out[i] = [0u8, 0xff, b'9', b'-', b'"', b'{', b'.'][rng.below(7) as usize];
            }
            2 => {
                let i = at(rng, out.len());
                let token = TOKENS[rng.below(TOKENS.len() as u32) as usize];
                out.splice(i..i, token.bytes());
            }
            3 if !out.is_empty() => {
                let a = at(rng, out.len()).min(out.len());
                let b = (a + rng.below(64) as usize).min(out.len());
                out.drain(a..b);
            }
            4 => out.truncate(at(rng, out.len())),
            _ if !out.is_empty() => {
                let a = at(rng, out.len()).min(out.len() - 1);
                let b = (a + 1 + rng.below(32) as usize).min(out.len());
                let piece = out[a..b].to_vec();
                let i = at(rng, out.len());
                out.splice(i..i, piece);
            }
            _ => {}
        }
    }
    out
}

/// Runs `read` on the corpus of `target` and on mutations of `seed`; a panic fails the test,
/// naming the input (saved to the corpus with `NERVE_FUZZ_SAVE=1`).
fn fuzz(target: &str, seed: &[u8], mut read: impl FnMut(&[u8])) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&corpus)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    (
                        e.path().display().to_string(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    inputs.sort();
    let mut rng = Rng::new(0x5eed ^ target.len() as u64);
    inputs.extend((0..iterations()).map(|i| (format!("mutation {i}"), mutate(&mut rng, seed))));
    for (name, input) in inputs {
        if catch_unwind(AssertUnwindSafe(|| read(&input))).is_err() {
            let saved = if std::env::var_os("NERVE_FUZZ_SAVE").is_some() {
                std::fs::create_dir_all(&corpus).unwrap();
                let path = corpus.join(format!("{:016x}", nerve_studio::ml::data::fnv1a(&input)));
                std::fs::write(&path, &input).unwrap();
                format!(" (saved as {})", path.display())
            } else {
                String::new()
            };
            panic!(
                "{target}: {name} panicked{saved}: {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

/// A small export of `format` and its files.
fn one_image_export(format: ExportFormat) -> (tempfile::TempDir, PathBuf) {
    let (dir, _, out) = crate::support::demo_export(3, 61, format);
    (dir, out)
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p, ext));
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Imports `src` into a fresh folder; errors are fine, panics are not.
fn try_import(format: ImportFormat, src: &Path, n: &mut usize) {
    *n += 1;
    let dest = src.parent().unwrap().join(format!("in-{n}"));
    let _ = import(format, src, &dest, &mut quiet());
    let _ = std::fs::remove_dir_all(&dest);
}

#[test]
fn supervisely_annotations_and_bitmaps() {
    let (_d, src) = one_image_export(ExportFormat::Supervisely);
    let ann = files_under(&src, "json")
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().contains("\"bitmap\""))
        .unwrap();
    let seed = std::fs::read(&ann).unwrap();
    let mut n = 0;
    fuzz("supervisely_annotation", &seed, |input| {
        std::fs::write(&ann, input).unwrap();
        try_import(ImportFormat::Supervisely, &src, &mut n);
    });
    // The bitmap's PNG, inside its zlib stream, inside its base64.
    let v: serde_json::Value = serde_json::from_slice(&seed).unwrap();
    let data = v["objects"][0]["bitmap"]["data"].as_str().unwrap();
    let zlib = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let mut png = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&zlib[..]), &mut png).unwrap();
    fuzz("supervisely_bitmap", &png, |input| {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, input).unwrap();
        let mut v = v.clone();
        v["objects"][0]["bitmap"]["data"] = base64::engine::general_purpose::STANDARD
            .encode(z.finish().unwrap())
            .into();
        std::fs::write(&ann, serde_json::to_vec(&v).unwrap()).unwrap();
        try_import(ImportFormat::Supervisely, &src, &mut n);
    });
}

#[test]
fn voc_class_masks() {
    let (_d, src) = one_image_export(ExportFormat::Voc);
    let mask = files_under(&src.join("SegmentationClass"), "png")[0].clone();
    let seed = std::fs::read(&mask).unwrap();
    let mut n = 0;
    fuzz("voc_mask", &seed, |input| {
        std::fs::write(&mask, input).unwrap();
        try_import(ImportFormat::Voc, &src, &mut n);
    });
}

#[test]
fn labels_manifests_and_split_lists() {
    let (_d, root) = small_demo(3, 62);
    let stem = Project::open_read_only(&root).unwrap().images()[0]
        .stem
        .clone();
    let label = root.join("labels").join(format!("{stem}.json"));
    let seed = std::fs::read(&label).unwrap();
    fuzz("label_json", &seed, |input| {
        std::fs::write(&label, input).unwrap();
        if let Ok(p) = Project::open_read_only(&root) {
            let _ = p.check();
        }
    });
    std::fs::write(&label, &seed).unwrap();

    let manifest = root.join("project.toml");
    let seed = std::fs::read(&manifest).unwrap();
    fuzz("project_toml", &seed, |input| {
        std::fs::write(&manifest, input).unwrap();
        let _ = read_manifest(&root);
    });
    std::fs::write(&manifest, &seed).unwrap();

    let list = root.join("splits").join("train.txt");
    let seed = std::fs::read(&list).unwrap();
    fuzz("split_list", &seed, |input| {
        std::fs::write(&list, input).unwrap();
        if let Ok(p) = Project::open_read_only(&root) {
            let _ = p.check();
        }
    });
}

#[test]
fn labels_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("scores.csv");
    let seed = b"stem,truth,pred,p_nerve,p_opening_wound,p_tendon\n\
        a,nerve,nerve,0.8,0.1,0.1\nb,tendon,nerve,0.5,0.2,0.3\nc,opening wound,tendon,0.1,0.3,0.6\n";
    fuzz("labels_csv", seed, |input| {
        std::fs::write(&csv, input).unwrap();
        let _ = read_csv(&csv, Scores::Probabilities);
        let _ = read_csv(&csv, Scores::Logits);
        let _ = nerve_studio::eval::labels::read_predictions(&csv);
    });
}
