//! Running the built binary with CPU, memory and hang limits (hostile-input tests).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_z2jh-policy");
/// CPU time (user + system) one run may use. A blow-up (an alias bomb, a
/// quadratic walk) costs far more; a debug build on a loaded 2-core machine
/// needs about 1 s for the largest refused inputs.
pub const CPU_LIMIT: Duration = Duration::from_secs(3);
/// Wall-clock time after which a run counts as hung and is killed.
pub const HANG_LIMIT: Duration = Duration::from_secs(30);
/// Address-space cap of every run, in KiB (`ulimit -v`): an input that
/// makes the program allocate without bound fails instead of passing.
pub const MEMORY_LIMIT_KIB: u64 = 256 * 1024;

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/restricted-hub.yaml");

/// The binary as a user runs it, with nothing taken from the test's
/// environment that changes its output (error format, colour).
pub fn command() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("Z2JH_POLICY_ERROR_FORMAT")
        .env("NO_COLOR", "1");
    c
}

/// Runs the binary with `args` in the checkout.
pub fn output(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

/// Runs the binary with `args` in `dir`.
pub fn output_in(dir: &Path, args: &[&str]) -> Output {
    command().args(args).current_dir(dir).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What one run of the binary did.
pub struct Run {
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub cpu: Duration,
}

/// Runs the binary in `dir` with `stdin` (default: empty), capped and timed.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Run {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let input = match stdin {
        Some(p) => Stdio::from(fs::File::open(p).unwrap()),
        None => Stdio::null(),
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("Z2JH_POLICY_ERROR_FORMAT")
        // Exceptions are judged on the golden day, never the clock's.
        .env("SOURCE_DATE_EPOCH", super::GOLDEN_EPOCH)
        .stdin(input)
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .unwrap();
    let (status, cpu) = wait_measured(&mut child, args);
    let read = |mut f: fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    Run {
        status,
        stdout: read(out),
        stderr: String::from_utf8_lossy(&read(err)).into_owned(),
        cpu,
    }
}

/// Waits for the child, reading its CPU time from `/proc` while it is a
/// zombie (before it is reaped), so a busy machine does not skew the limit.
pub fn wait_measured(child: &mut Child, args: &[&str]) -> (Option<i32>, Duration) {
    let start = Instant::now();
    let stat = format!("/proc/{}/stat", child.id());
    loop {
        if let Ok(text) = fs::read_to_string(&stat) {
            // Fields after `(comm)`: state is the first, utime the 12th, stime the 13th.
            let fields: Vec<&str> = text[text.rfind(')').unwrap() + 2..].split(' ').collect();
            if fields[0] == "Z" {
                let ticks: u64 =
                    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
                let status = child.wait().unwrap();
                // USER_HZ is 100 on Linux.
                return (status.code(), Duration::from_millis(ticks * 10));
            }
        }
        if start.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`z2jh-policy {}` hung for {HANG_LIMIT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn charts() -> PathBuf {
    super::chart_data()
}

/// Asserts the common contract of an input error.
pub fn assert_input_error(r: &Run, what: &str, needles: &[&str]) {
    assert_eq!(
        r.status,
        Some(2),
        "{what}: exit status 2 expected; stderr:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{what}: panicked:\n{}",
        r.stderr
    );
    assert!(
        r.stdout.is_empty(),
        "{what}: nothing may reach stdout, got {} bytes",
        r.stdout.len()
    );
    assert!(
        r.cpu <= CPU_LIMIT,
        "{what}: took {:?} of CPU time (limit {CPU_LIMIT:?})",
        r.cpu
    );
    for n in needles {
        assert!(
            r.stderr.contains(n),
            "{what}: expected `{n}` in stderr:\n{}",
            r.stderr
        );
    }
}

/// True when stderr points at `file:LINE:COLUMN` with a real line.
pub fn has_position(stderr: &str, file: &str) -> bool {
    stderr.match_indices(&format!("{file}:")).any(|(i, m)| {
        let rest = &stderr[i + m.len()..];
        let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[line.len()..];
        !line.is_empty()
            && line != "0"
            && after.starts_with(':')
            && after[1..].starts_with(|c: char| c.is_ascii_digit())
    })
}

pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

pub fn assert_no_temp_files(dir: &Path) {
    for (name, _) in tree(dir) {
        assert!(
            !name.contains(".z2jh-policy-"),
            "temporary file left behind: {name}"
        );
    }
}

pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                out.push((rel + "/", Vec::new()));
                stack.push(p);
            } else {
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}
