//! `notices doctor` on a healthy and on a broken data directory, and the
//! origin it gives each setting (default, file, env, flag).

mod server_support;

use std::path::Path;
use std::process::{Command, Output};

use server_support::{BIN, fixtures, index_notices};

fn doctor(data: Option<&Path>, config: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    if let Some(d) = data {
        cmd.arg("--data-dir").arg(d);
    }
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.arg("doctor");
    for var in ["NOTICES_DATA_DIR", "NOTICES_CONFIG", "NOTICES_ADDR", "NOTICES_TOKEN", "NOTICES_LOG", "NOTICES_BROWSER"]
    {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines().find(|l| l.trim_start().starts_with(key)).unwrap_or_else(|| panic!("no {key} line in:\n{out}"))
}

#[test]
fn a_healthy_data_dir_is_all_well_and_every_value_says_where_it_came_from() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    index_notices(&data, &fixtures());
    let cfg = tmp.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[server]\naddr = \"127.0.0.1:9999\"\nallowed_hosts = [\"notices.lan\"]\n[crawl]\ndelay_ms = 2000\n",
    )
    .unwrap();
    let out = doctor(Some(&data), Some(&cfg), &[("NOTICES_TOKEN", "s3cret-token")]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(line(&t, "data_dir").ends_with("(flag)"), "{t}");
    assert!(line(&t, "config file").ends_with("(flag)"), "{t}");
    assert!(line(&t, "server.addr").contains("127.0.0.1:9999 (file"), "{t}");
    assert!(
        line(&t, "server.allowed_hosts").contains("notices.lan")
            && line(&t, "server.allowed_hosts").ends_with("(file)")
    );
    assert!(
        line(&t, "server.token").contains("env NOTICES_TOKEN") && !t.contains("s3cret-token"),
        "never printed: {t}"
    );
    assert!(line(&t, "crawl.*").contains("delay_ms (file)"), "{t}");
    assert!(line(&t, "ok       index").contains(&format!("{} notices", fixtures().len())), "{t}");
    assert!(t.contains("ok       crawl lock: free"), "{t}");
    assert!(t.contains("index/") && t.contains("KiB"), "sizes: {t}");
    assert!(t.trim_end().ends_with("all well"), "{t}");

    // The same data dir from the environment, the address from the env too.
    let out = doctor(None, None, &[("NOTICES_DATA_DIR", data.to_str().unwrap()), ("NOTICES_ADDR", "127.0.0.1:1234")]);
    let t = text(&out);
    assert!(line(&t, "data_dir").ends_with("(env NOTICES_DATA_DIR)"), "{t}");
    assert!(line(&t, "server.addr").contains("127.0.0.1:1234 (env NOTICES_ADDR"), "{t}");
    assert!(line(&t, "server.token").contains("not set (default)"), "{t}");

    // A fresh, empty data dir is fine too: nothing is broken, only new.
    let out = doctor(Some(&tmp.path().join("fresh")), Some(&cfg), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("note     index: none yet"), "{}", text(&out));
}

#[test]
fn a_broken_data_dir_is_reported_with_what_to_do_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    index_notices(&data, &fixtures());
    // A damaged segment, a crawl state that is not a database, a bad config.
    let store = std::fs::read_dir(data.join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "store"))
        .unwrap();
    let mut bytes = std::fs::read(&store).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&store, bytes).unwrap();
    std::fs::write(data.join("crawl.sqlite"), vec![b'x'; 4096]).unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[server]\nadress = \"x\"\n").unwrap();

    let out = doctor(Some(&data), Some(&cfg), &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("PROBLEM  index") && t.contains("damaged"), "{t}");
    assert!(t.contains("PROBLEM  crawl state"), "{t}");
    assert!(t.contains("PROBLEM  config file") && t.contains("adress"), "{t}");
    // Each problem says what to do.
    assert_eq!(t.matches("PROBLEM").count(), t.matches("→").count(), "{t}");
    assert!(t.trim_end().ends_with("3 problems"), "{t}");
    // Doctor changed nothing: the index is still damaged, the file still there.
    assert!(doctor(Some(&data), None, &[]).status.code() == Some(1));
}

#[test]
fn a_running_crawl_holding_the_lock_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    index_notices(&data, &fixtures()[..1]);
    let lock = crawler::lock::CrawlLock::acquire(&data).unwrap();
    let out = doctor(Some(&data), None, &[]);
    let t = text(&out);
    assert!(t.contains(&format!("crawl lock: held by process {}", std::process::id())), "{t}");
    assert_eq!(out.status.code(), Some(0), "a running crawl is not a problem: {t}");
    drop(lock);
}
