//! ImageNet weights on demand, against a web server on 127.0.0.1 (no test reaches the
//! internet): download with progress, cancel and resume, a truncated or corrupt file refused,
//! the legacy DenseNet names, and what a run records and freezes.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nerve_studio::ml::device;
use nerve_studio::ml::imagenet::{self, FetchError, Source, store};
use nerve_studio::ml::models::{Arch, ModelSpec};
use nerve_studio::ml::progress::TrainEvent;
use nerve_studio::ml::recipe;
use nerve_studio::ml::train::{TrainRequest, train};
use nerve_studio::ml::weights::import_torchvision;

use crate::cli::{nerve_studio, ok};
use crate::support::small_demo;

/// How the server misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Serve {
    /// The whole file (honouring `Range`).
    Whole,
    /// Announces the whole length, sends this many bytes, then hangs up.
    HangUpAfter(usize),
    /// Sends the file in small pieces with pauses (time to press Cancel).
    Slowly,
}

/// A one-file web server on 127.0.0.1; it keeps the `Range` headers it was asked for.
struct Server {
    url: String,
    ranges: Arc<Mutex<Vec<String>>>,
}

fn serve(body: Vec<u8>, how: Arc<Mutex<Serve>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = ranges.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (body, how, seen) = (body.clone(), *how.lock().unwrap(), seen.clone());
            std::thread::spawn(move || answer(stream, &body, how, &seen));
        }
    });
    Server { url, ranges }
}

fn answer(mut stream: TcpStream, body: &[u8], how: Serve, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut start = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
            seen.lock().unwrap().push(v.trim().to_string());
            start = v.trim().trim_end_matches('-').parse().unwrap_or(0);
        }
    }
    let rest = &body[start.min(body.len())..];
    let status = if start > 0 {
        format!(
            "206 Partial Content\r\nContent-Range: bytes {start}-{}/{}",
            body.len() - 1,
            body.len()
        )
    } else {
        "200 OK".to_string()
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        rest.len()
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    match how {
        Serve::Whole => drop(stream.write_all(rest)),
        Serve::HangUpAfter(n) => drop(stream.write_all(&rest[..n.min(rest.len())])),
        Serve::Slowly => {
            for piece in rest.chunks(16 * 1024) {
                if stream.write_all(piece).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(40));
            }
        }
    }
    let _ = stream.flush();
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torchvision")
        .join(name)
}

/// The width-0.35 MobileNetV2 fixture (a torchvision `.pth`) as a catalog entry of the server.
fn mobilenet_source(server: &Server) -> (Source, Vec<u8>) {
    let bytes = std::fs::read(fixture("mobilenet_v2_w035.pth")).unwrap();
    let hash = store::sha256(&fixture("mobilenet_v2_w035.pth")).unwrap();
    let file = format!("mobilenet_v2_w035-{}.pth", &hash[..8]);
    (
        Source::at(&server.url, &file, bytes.len() as u64, "MobileNetV2 (0.35)"),
        bytes,
    )
}

#[test]
fn a_download_reports_progress_and_can_be_cancelled_and_resumed() {
    let bytes = std::fs::read(fixture("mobilenet_v2_w035.pth")).unwrap();
    let how = Arc::new(Mutex::new(Serve::Slowly));
    let server = serve(bytes.clone(), how.clone());
    let (source, _) = mobilenet_source(&server);
    let folder = tempfile::tempdir().unwrap();

    // Cancel once a quarter has arrived: the bytes so far are kept.
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let err = imagenet::fetch(&source, folder.path(), &cancel, &mut |t| {
        seen.push(t);
        if t.done * 4 > t.total {
            cancel.store(true, Ordering::SeqCst);
        }
    })
    .unwrap_err();
    let FetchError::Cancelled { kept } = err else {
        panic!("{err}");
    };
    assert!(kept > 0 && (kept as usize) < bytes.len(), "{kept}");
    assert!(err.to_string().contains("resumes"), "{err}");
    assert_eq!(store::downloaded(folder.path(), &source), None);
    assert_eq!(store::partial(folder.path(), &source).1, kept);
    let last = seen.last().unwrap();
    assert_eq!(last.total, bytes.len() as u64);
    assert!(last.rate > 0.0 && last.seconds_left.is_some(), "{last:?}");
    assert!(last.text().contains(" of ") && last.text().contains("left"));

    // The next fetch asks only for the rest, and the file is whole and checked.
    *how.lock().unwrap() = Serve::Whole;
    let path =
        imagenet::fetch(&source, folder.path(), &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!(
        server.ranges.lock().unwrap().last().unwrap(),
        &format!("{kept}-")
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(store::partial(folder.path(), &source).1, 0, "no .part left");
    // Once there, it is not downloaded again.
    let again = imagenet::fetch(&source, folder.path(), &AtomicBool::new(false), &mut |_| {
        panic!("downloaded twice")
    });
    assert_eq!(again.unwrap(), path);
}

#[test]
fn a_truncated_or_corrupt_download_is_never_used() {
    let bytes = std::fs::read(fixture("mobilenet_v2_w035.pth")).unwrap();
    let how = Arc::new(Mutex::new(Serve::HangUpAfter(100_000)));
    let server = serve(bytes.clone(), how.clone());
    let (source, _) = mobilenet_source(&server);
    let folder = tempfile::tempdir().unwrap();
    let never = AtomicBool::new(false);

    // The server hangs up early: an error that says so, the bytes kept for a resume.
    let err = imagenet::fetch(&source, folder.path(), &never, &mut |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("resume") && err.to_string().contains(&source.file),
        "{err}"
    );
    assert_eq!(store::downloaded(folder.path(), &source), None);
    assert_eq!(store::partial(folder.path(), &source).1, 100_000);
    *how.lock().unwrap() = Serve::Whole;
    imagenet::fetch(&source, folder.path(), &never, &mut |_| {}).unwrap();

    // Bytes that do not match the name's hash: refused, deleted, nothing to train from.
    let mut wrong = bytes.clone();
    wrong[5000] ^= 0xff;
    let server = serve(wrong, Arc::new(Mutex::new(Serve::Whole)));
    let (source, _) = mobilenet_source(&server);
    let folder = tempfile::tempdir().unwrap();
    let err = imagenet::fetch(&source, folder.path(), &never, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert_eq!(store::downloaded(folder.path(), &source), None);
    assert_eq!(store::partial(folder.path(), &source).1, 0);
}

#[test]
fn the_command_line_lists_fetches_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let folder = d.join("store");
    let run = |args: &[&str], url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nerve-studio"))
            .args(args)
            .current_dir(d)
            .env("NERVE_STUDIO_WEIGHTS_DIR", &folder)
            .env("NERVE_STUDIO_WEIGHTS_URL", url)
            .output()
            .unwrap()
    };
    let list = ok(&run(&["weights", "list", "--json"], "http://127.0.0.1:9/"));
    let files = list["files"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    let mobilenet = files
        .iter()
        .find(|f| f["file"] == "mobilenet_v2-b0353104.pth")
        .unwrap();
    assert_eq!(mobilenet["downloaded"], false);
    assert_eq!(
        mobilenet["url"],
        "http://127.0.0.1:9/mobilenet_v2-b0353104.pth"
    );
    let users: Vec<&str> = mobilenet["architectures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        users,
        [
            "mobilenet_v2",
            "unet_mobilenet_v2",
            "deeplabv3plus_mobilenet_v2"
        ]
    );
    assert_eq!(list["unavailable"][0]["architecture"], "mu_net");

    // No server there: the message names the URL and the import route.
    let out = run(&["weights", "fetch", "resnet50"], "http://127.0.0.1:9/");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http://127.0.0.1:9/resnet50-0676ba61.pth") && err.contains("weights import"),
        "{err}"
    );
    let out = run(&["weights", "fetch", "mu_net"], "http://127.0.0.1:9/");
    assert!(String::from_utf8_lossy(&out.stderr).contains("0.35"));

    // A mirror serving other bytes under the name: refused as corrupt, nothing kept.
    let server = serve(vec![7u8; 50_000], Arc::new(Mutex::new(Serve::Whole)));
    let out = run(&["weights", "fetch", "mobilenet_v2"], &server.url);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("corrupt"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!folder.join("mobilenet_v2-b0353104.pth").exists());

    // Train uses the downloaded file by default, and checks it: a broken file copied in under
    // torchvision's name is refused, naming it; --from-scratch starts from random weights.
    std::fs::copy(
        fixture("mobilenet_v2_w035.pth"),
        folder.join("mobilenet_v2-b0353104.pth"),
    )
    .unwrap();
    ok(&run(
        &["demo", "p", "--images", "16", "--size", "160x90"],
        "",
    ));
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "p",
            "--recipe",
            "unet_mobilenet_v2",
            "--epochs",
            "1",
            "--image-size",
            "64",
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        run(&args, "")
    };
    let out = train(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("ImageNet mobilenet_v2-b0353104.pth (downloaded")
            && err.contains("mobilenet_v2-b0353104.pth: its SHA-256 begins"),
        "{err}"
    );
    ok(&train(&["--from-scratch"]));

    // A file that is none of torchvision's is not imported.
    let out = run(
        &["weights", "import", fixture("input.png").to_str().unwrap()],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("input.png"));
}

#[test]
fn densenet_files_with_legacy_names_load_whole() {
    // torchvision's published DenseNet files say `denselayer1.norm.1.weight`.
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("keys_densenet169.json")).unwrap())
            .unwrap();
    let mut legacy = serde_json::Map::new();
    for (k, v) in keys.as_object().unwrap() {
        let old = ["norm1", "relu1", "conv1", "norm2", "relu2", "conv2"]
            .iter()
            .fold(k.clone(), |k, part| {
                let dotted = format!("{}.{}", &part[..4], &part[4..]);
                k.replace(&format!(".{part}."), &format!(".{dotted}."))
            });
        legacy.insert(old, v.clone());
    }
    assert!(legacy.contains_key("features.denseblock1.denselayer1.norm.1.weight"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("densenet169-legacy.safetensors");
    crate::ml::zero_safetensors(&legacy, &path);
    let mut network = ModelSpec::new(Arch::Densenet169).build(&device::cpu().device);
    let report = import_torchvision(&mut network, Arch::Densenet169, &path).unwrap();
    assert!(report.backbone_pretrained(), "{}", report.summary());
    assert!(report.missing.is_empty(), "{}", report.summary());
}

fn tiny_classifier(width: f64) -> recipe::NamedRecipe {
    let mut named = recipe::load("mobilenet_v2").unwrap();
    named.recipe.width = width;
    named.recipe.image_size = 64;
    named.recipe.batch_size = 8;
    named.recipe.epochs = 1;
    named.recipe.fine_tune_epochs = 1;
    named
}

/// The stages a training went through: (stage, weights training, weights in all).
fn stages(
    project: &Path,
    recipe: recipe::NamedRecipe,
    weights: Option<PathBuf>,
) -> (Vec<(u8, usize, usize)>, serde_json::Value) {
    let mut stages = Vec::new();
    let outcome = train(
        TrainRequest {
            project: project.to_path_buf(),
            recipe,
            device: device::cpu(),
            weights,
            resume: None,
            cancel: Arc::new(AtomicBool::new(false)),
        },
        &mut |e| {
            if let TrainEvent::Stage {
                stage,
                training,
                total,
            } = e
            {
                stages.push((*stage, *training, *total));
            }
        },
    )
    .unwrap();
    let info = std::fs::read_to_string(outcome.run.path.join("run.json")).unwrap();
    (stages, serde_json::from_str(&info).unwrap())
}

#[test]
fn fetched_imagenet_weights_freeze_the_backbone_and_random_weights_do_not() {
    let server = serve(
        std::fs::read(fixture("mobilenet_v2_w035.pth")).unwrap(),
        Arc::new(Mutex::new(Serve::Whole)),
    );
    let (source, _) = mobilenet_source(&server);
    let folder = tempfile::tempdir().unwrap();
    let path =
        imagenet::fetch(&source, folder.path(), &AtomicBool::new(false), &mut |_| {}).unwrap();
    let (_dir, project) = small_demo(24, 8);

    // Pretrained: stage 1 trains the head alone, stage 2 from the fine-tune point.
    let (pretrained, info) = stages(&project, tiny_classifier(0.35), Some(path.clone()));
    let [(1, head, total), (2, tuned, _)] = pretrained[..] else {
        panic!("{pretrained:?}");
    };
    assert!(
        head < total / 10,
        "stage 1 trains the head only: {head} of {total}"
    );
    assert!(tuned > head && tuned < total, "{tuned}");
    assert_eq!(info["backbone_pretrained"], true);
    assert_eq!(info["weights_file"]["name"], source.file.as_str());
    assert_eq!(
        info["weights_file"]["sha256"],
        store::sha256(&path).unwrap().as_str()
    );

    // From random weights every layer trains from the first epoch, and the run says why.
    let (scratch, info) = stages(&project, tiny_classifier(0.35), None);
    assert!(
        scratch
            .iter()
            .all(|&(_, training, total)| training == total),
        "{scratch:?}"
    );
    assert!(
        info["initial_weights"]
            .as_str()
            .unwrap()
            .contains("every layer trains")
    );
    assert!(info.get("weights_file").is_none());

    // The same file given to a width-1.0 recipe fills only part of it: named partial, no freeze.
    let (partial, info) = stages(&project, tiny_classifier(1.0), Some(path));
    assert!(
        partial
            .iter()
            .all(|&(_, training, total)| training == total),
        "{partial:?}"
    );
    assert_eq!(info["backbone_pretrained"], false);
    assert!(
        info["initial_weights"]
            .as_str()
            .unwrap()
            .contains("Partial")
    );

    // The registry shows where each run started.
    let runs = ok(&nerve_studio(
        &["runs", "list", project.to_str().unwrap(), "--json"],
        project.parent().unwrap(),
    ));
    assert_eq!(runs["runs"].as_array().unwrap().len(), 3);
    let human = nerve_studio(
        &["runs", "list", project.to_str().unwrap()],
        project.parent().unwrap(),
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("started from {}", source.file)),
        "{text}"
    );
    assert!(text.contains("started from random weights"), "{text}");
}
