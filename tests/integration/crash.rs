//! The crash test, short (issue 16): thirty writers killed with SIGKILL at random moments, the
//! project checked after each (tools/crash_test.sh; the README gives the 1,000-kill command).

#[cfg(unix)]
#[test]
fn thirty_kills_lose_nothing_and_leave_nothing() {
    let work = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/crash_test.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_nerve-studio"))
        .arg("30")
        .arg(work.path())
        .env("CRASH_SEED", "11")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("30 kills: nothing lost"), "{stdout}");
}
