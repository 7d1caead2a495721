//! The CLI as a user runs it: the report, JSON, the exit code, and what happens to a
//! server backend with no URL and no Docker engine.

use std::process::{Command, Output};

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance-cli"));
    command.args(args);
    for var in [
        "AUTH_CONFORMANCE_REQUIRE",
        "AUTH_TEST_POSTGRES_URL",
        "AUTH_TEST_MARIADB_URL",
        "AUTH_TEST_REDIS_URL",
        "AUTH_TEST_MONGO_URL",
    ] {
        command.env_remove(var);
    }
    // Point the Docker probe at a socket that cannot exist, whatever this machine has.
    command.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    command.envs(env.iter().copied());
    match command.output() {
        Ok(output) => output,
        Err(e) => panic!("could not run the CLI: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_prints_a_table_and_a_summary_for_the_memory_backend() {
    let out = cli(&["check", "-b", "memory"], &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("== memory =="), "{stdout}");
    assert!(
        stdout.contains("s15_concurrent_token_use_has_one_winner"),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" ok ").count(), 45, "{stdout}");
    assert!(
        stdout.contains("conformance: 45 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
}

#[test]
fn json_report_lists_every_scenario() {
    let out = cli(&["check", "-b", "memory", "--json"], &[]);
    assert!(out.status.success());
    let report: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", text(&out.stdout)),
    };
    let results = &report["backends"][0]["results"];
    assert_eq!(report["backends"][0]["backend"], "memory");
    assert_eq!(report["summary"]["passed"], 45, "{report}");
    assert_eq!(report["summary"]["failed"], 0, "{report}");
    assert_eq!(report["summary"]["ok"], true, "{report}");
    assert_eq!(results.as_array().map(Vec::len), Some(45));
    assert!(results
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| r["error"].is_null()));
}

#[test]
fn unknown_backends_and_filters_are_usage_errors() {
    let out = cli(&["check", "-b", "nosuch"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown backend \"nosuch\""));
    let out = cli(&["check", "-b", "memory", "-s", "no-such-scenario"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_server_backend_without_url_or_docker_is_skipped_loudly_or_fails_when_required() {
    let started = std::time::Instant::now();
    let out = cli(&["check", "-b", "postgres"], &[]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let skip_lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("SKIPPED backend postgres"))
        .collect();
    assert_eq!(skip_lines.len(), 1, "{stderr}");
    assert!(skip_lines[0].contains("AUTH_TEST_POSTGRES_URL"), "{stderr}");
    assert!(skip_lines[0].contains("Docker"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let out = cli(
        &["check", "-b", "postgres"],
        &[("AUTH_CONFORMANCE_REQUIRE", "all")],
    );
    assert!(!out.status.success(), "a required backend was skipped");
    assert!(text(&out.stdout).contains("ERROR (required, not run)"));
}

#[test]
fn json_summary_and_junit_show_a_skipped_backend_as_skipped() {
    let dir = std::env::temp_dir().join(format!("conformance-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("report.xml");
    let out = cli(
        &[
            "check",
            "-b",
            "memory",
            "-b",
            "postgres",
            "-s",
            "s01_",
            "--json",
            "--junit",
            junit.to_str().unwrap(),
        ],
        &[],
    );
    let xml = std::fs::read_to_string(&junit);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["ran"], serde_json::json!(["memory"]));
    assert_eq!(
        report["summary"]["skipped"],
        serde_json::json!(["postgres"])
    );
    assert_eq!(report["summary"]["passed"], 1);
    let xml = xml.unwrap();
    assert!(
        xml.contains(r#"<testsuites name="adapter-conformance" tests="2" failures="0" errors="0" skipped="1">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="postgres" tests="1" failures="0" errors="0" skipped="1""#),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"SKIPPED backend postgres:"),
        "{xml}"
    );
}
