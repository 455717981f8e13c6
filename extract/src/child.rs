//! Running a Debian tool as a child process: the file on its stdin, its text
//! from stdout (capped), killed at the deadline. A child can be killed, so a
//! C parser stuck in a loop on a hostile file costs nothing after the cap.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};

use wait_timeout::ChildExt;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Deadline;

/// A program this crate runs, and the Debian package that provides it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tool {
    pub(crate) program: &'static str,
    pub(crate) package: &'static str,
    pub(crate) format: Format,
}

/// What a finished child left.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: Vec<u8>,
    /// Whether stdout was longer than the cap (the rest was discarded).
    pub(crate) stdout_truncated: bool,
    pub(crate) stderr: String,
}

const STDERR_CAP: u64 = 16 << 10;

/// Runs `tool` with `args`, `input` on its stdin; keeps at most `max_stdout`
/// bytes of its stdout; kills it at `deadline`.
pub(crate) fn run(tool: Tool, args: &[&str], input: &[u8], max_stdout: u64, deadline: &Deadline) -> Result<Output> {
    deadline.check(tool.format)?;
    let mut child = Command::new(tool.program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C.UTF-8")
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::ToolMissing { tool: tool.program, package: tool.package, format: tool.format }
            }
            _ => Error::Io(e),
        })?;
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let mut stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");

    std::thread::scope(|scope| {
        // Feeding stdin and draining both pipes on their own threads: a child
        // blocked writing a full pipe while we block writing its stdin would
        // otherwise deadlock. A killed child closes its pipes, so all end.
        scope.spawn(move || {
            // A child that exits without reading everything (an error on
            // the first bytes) closes the pipe: that is not our error.
            let _ = stdin.write_all(input);
        });
        let out = scope.spawn(move || {
            let mut kept = Vec::new();
            let read = (&mut stdout).take(max_stdout).read_to_end(&mut kept);
            // Drain the rest so the child can finish; it is not kept.
            let rest = std::io::copy(&mut stdout, &mut std::io::sink()).unwrap_or(0);
            read.map(|_| (kept, rest > 0))
        });
        let err = scope.spawn(move || {
            let mut kept = Vec::new();
            let _ = (&mut stderr).take(STDERR_CAP).read_to_end(&mut kept);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
            String::from_utf8_lossy(&kept).into_owned()
        });
        let status = match child.wait_timeout(deadline.remaining()) {
            Ok(Some(status)) => status,
            waited => {
                // Ignored: the child may have exited just now.
                let _ = child.kill();
                let _ = child.wait();
                return Err(match waited {
                    Err(e) => Error::Io(e),
                    _ => deadline.error(tool.format),
                });
            }
        };
        let (stdout, stdout_truncated) = out
            .join()
            .map_err(|_| Error::Tool { tool: tool.program, reason: "the stdout reader panicked".into() })?
            .map_err(Error::Io)?;
        let stderr = err.join().unwrap_or_default();
        Ok(Output { status, stdout, stdout_truncated, stderr })
    })
}

impl Output {
    /// Exit status and the first line of stderr, for error messages.
    pub(crate) fn reason(&self) -> String {
        let first = self.stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message");
        format!("{} ({first})", self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use std::time::{Duration, Instant};

    #[test]
    fn a_child_past_the_deadline_is_killed() {
        let limits = Limits { max_seconds: 1, ..Limits::default() };
        let sleep = Tool { program: "sleep", package: "coreutils", format: Format::Pdf };
        let started = Instant::now();
        let err = run(sleep, &["30"], b"", 1024, &Deadline::starting_now(&limits)).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn stdout_is_capped_and_a_missing_tool_named() {
        let cat = Tool { program: "cat", package: "coreutils", format: Format::Text };
        let input = vec![b'a'; 1 << 20];
        let deadline = Deadline::starting_now(&Limits::default());
        let out = run(cat, &[], &input, 1000, &deadline).unwrap();
        assert_eq!(out.stdout.len(), 1000);
        assert!(out.stdout_truncated);
        let missing = Tool { program: "no-such-tool-here", package: "nothing", format: Format::Doc };
        let err = run(missing, &[], b"", 10, &deadline).unwrap_err();
        assert!(matches!(err, Error::ToolMissing { .. }), "{err}");
    }
}
