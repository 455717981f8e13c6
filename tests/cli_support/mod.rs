//! Running the built `notices` binary on a test's own data directory, with
//! none of the caller's `NOTICES_*` settings leaking in.
#![allow(dead_code)] // each test file uses a different part

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_notices");

/// `notices --data-dir DATA`, without the environment variables that would
/// point it elsewhere or change what it prints (data dir, config file, log
/// filter, browser).
pub fn notices_at(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data);
    for var in ["NOTICES_DATA_DIR", "NOTICES_CONFIG", "NOTICES_LOG", "NOTICES_BROWSER"] {
        cmd.env_remove(var);
    }
    cmd
}

/// `notices --data-dir DATA ARGS…` run to its end, without colour.
pub fn run(data: &Path, args: &[&str]) -> Output {
    notices_at(data).args(args).env("NO_COLOR", "1").output().expect("the notices binary runs")
}
